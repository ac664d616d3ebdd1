"""The baseline of the page benchmark: bare Flask rendering a small Jinja page with a loop.

What any server-rendered Flask page pays per request (routing, a template with a 25-row table,
escaping, the response), without a database.
"""

from __future__ import annotations

from flask import Flask, render_template_string

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/app.css"></head><body><main><h1>{{ title }}</h1>
<table>{% for row in rows %}<tr><td>{{ row.number }}</td><td>{{ row.subject }}</td>
<td>{{ row.customer }}</td><td>{{ row.status }}</td></tr>{% endfor %}</table></main></body></html>"""
ROWS = [
    {"number": f"FD-{1000 + i}", "subject": f"Printer <{i}> jams", "customer": "a@example.com", "status": "open"}
    for i in range(25)
]

page_app = Flask("bench_page_baseline")


@page_app.get("/page")
def page() -> str:
    return render_template_string(PAGE, title="Tickets", rows=ROWS)

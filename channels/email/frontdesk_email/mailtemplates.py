"""Mail templates: defaults per locale, admins' stored overrides, rendering in a Jinja sandbox.

A template has a subject, a plain-text body and an optional HTML body (made from the text when
absent). Templates only ever see plain values (strings and dicts built here), never database
objects, so an edited template cannot reach anything beyond what the mail may show.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from sqlalchemy import select

from frontdesk.db import session, transaction, utcnow
from frontdesk.services import ValidationFailed

from .models import EmailTemplate

log = logging.getLogger(__name__)

KINDS = ("acknowledgement", "reply", "status_change", "pending_reminder")
AUTOMATIC_KINDS = frozenset({"acknowledgement", "status_change", "pending_reminder"})
RTL_LANGUAGES = frozenset({"fa", "ar", "he", "ur"})
DEFAULTS_DIR = Path(__file__).parent / "templates" / "email"
FALLBACK_LOCALE = "en"
MAX_TEMPLATE_CHARS = 100_000
LOCALE_RE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")

_text_env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
_html_env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


@dataclass(frozen=True)
class Template:
    """The source of one template (a default or an override)."""

    kind: str
    locale: str
    subject: str
    body_text: str
    body_html: str | None
    overridden: bool = False


@dataclass(frozen=True)
class Rendered:
    """A rendered template: what goes into the mail."""

    subject: str
    text: str
    html: str
    locale: str


@functools.cache
def default_templates() -> dict[str, dict[str, Template]]:
    """``{locale: {kind: Template}}`` from the TOML files shipped with the plugin."""
    found: dict[str, dict[str, Template]] = {}
    for path in sorted(DEFAULTS_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        locale = path.stem
        found[locale] = {
            kind: Template(
                kind,
                locale,
                entry["subject"],
                entry["text"].strip("\n"),
                (entry.get("html") or "").strip("\n") or None,
            )
            for kind, entry in data.items()
        }
    return found


def known_locales() -> list[str]:
    """The app's languages plus every locale that has defaults or overrides."""
    locales = list(current_app.config["LANGUAGES"])
    extra = set(default_templates()) | set(session.scalars(select(EmailTemplate.locale).distinct()))
    return locales + sorted(extra - set(locales))


def get_template(kind: str, locale: str) -> Template | None:
    """The template used for ``kind`` in exactly ``locale``: the override, else the default."""
    row = session.scalar(
        select(EmailTemplate).where(EmailTemplate.kind == kind, EmailTemplate.locale == locale)
    )
    if row is not None:
        return Template(kind, locale, row.subject, row.body_text, row.body_html, overridden=True)
    return default_templates().get(locale, {}).get(kind)


def pick_template(kind: str, languages: list[str | None]) -> Template:
    """The first template of ``kind`` for the preferred ``languages`` (``pt-BR`` tries ``pt``)."""
    tried: list[str] = []
    for language in [*languages, current_app.config.get("DEFAULT_LANGUAGE"), FALLBACK_LOCALE]:
        if not language:
            continue
        for candidate in (language, re.split(r"[-_]", language)[0]):
            if candidate in tried:
                continue
            tried.append(candidate)
            template = get_template(kind, candidate)
            if template is not None:
                return template
    raise LookupError(f"no {kind} template in any of {', '.join(tried)}")


@functools.lru_cache(maxsize=256)
def _compile(env: SandboxedEnvironment, source: str) -> Any:
    return env.from_string(source)


def _text_to_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "\n".join("<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs)


def _html_document(body: str, locale: str) -> str:
    direction = "rtl" if locale.split("-")[0] in RTL_LANGUAGES else "ltr"
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(locale)}" dir="{direction}">'
        f'<head><meta charset="utf-8"></head>\n<body dir="{direction}">\n{body}\n</body></html>\n'
    )


def render_template(template: Template, context: dict[str, Any]) -> Rendered:
    """Render ``template`` with ``context`` in the sandbox; raises Jinja errors as they come."""
    subject = _compile(_text_env, template.subject).render(context)
    subject = " ".join(subject.split())  # a header is one line
    tag = context.get("subject_tag")
    if tag and tag not in subject:  # replies must thread even when an edit dropped the tag
        subject = f"{tag} {subject}"
    text = _compile(_text_env, template.body_text).render(context).strip("\n") + "\n"
    if template.body_html:
        html_context = dict(context)
        message = context.get("message")
        if isinstance(message, dict):
            html_context["message"] = {**message, "html": Markup(message.get("html") or "")}
        body = _compile(_html_env, template.body_html).render(html_context)
    else:
        body = _text_to_html(text)
    return Rendered(subject, text, _html_document(body, template.locale), template.locale)


def render(kind: str, languages: list[str | None], context: dict[str, Any]) -> Rendered:
    """Render the best template of ``kind`` for ``languages``.

    An override that fails to render (it passed validation, but the data may differ) is logged
    and the shipped default of the same locale is used, so a mail is never lost to a template.
    """
    template = pick_template(kind, languages)
    try:
        return render_template(template, context)
    except (TemplateError, TypeError, ValueError) as exc:
        if not template.overridden:
            raise
        log.error("email template %s/%s failed (%s); using the default", kind, template.locale, exc)
        fallback = default_templates().get(template.locale, {}).get(kind)
        if fallback is None:
            fallback = default_templates()[FALLBACK_LOCALE][kind]
        return render_template(fallback, context)


def sample_context(kind: str) -> dict[str, Any]:
    """The variables a template of ``kind`` may use, with example values (for checks, previews)."""
    context: dict[str, Any] = {
        "ticket": {
            "number": "FD-1042",
            "subject": "Printer on floor 2 is offline",
            "status": "Open",
            "priority": "normal",
        },
        "customer": {"name": "Ana Popescu", "email": "ana@example.com"},
        "mailbox": {"name": "Support", "address": "support@example.com"},
        "subject_tag": "[Ticket#FD-1042]",
    }
    if kind == "reply":
        context["message"] = {"text": "Hello Ana,\nit works again.", "html": "<p>Hello Ana,</p>"}
        context["agent"] = {"name": "Marco Rossi"}
    if kind == "status_change":
        context.update(old_status="Open", new_status="Solved")
    return context


def validate_template(kind: str, data: dict[str, Any]) -> None:
    """Refuse a template that does not compile or uses unknown variables, naming the field."""
    errors: dict[str, list[str]] = {}
    template = Template(kind, "en", data["subject"], data["body_text"], data.get("body_html"))
    for field, source, env in (
        ("subject", template.subject, _text_env),
        ("body_text", template.body_text, _text_env),
        ("body_html", template.body_html, _html_env),
    ):
        if source is None:
            continue
        try:
            _compile(env, source).render(sample_context(kind))
        except TemplateError as exc:
            line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
            errors[field] = [f"{type(exc).__name__}: {exc.message or exc}{line}"]
    if errors:
        raise ValidationFailed("the template cannot be rendered", errors)


def save_override(kind: str, locale: str, data: dict[str, Any]) -> Template:
    """Store an admin's version of ``kind`` in ``locale`` (validated first)."""
    validate_template(kind, data)
    with transaction():
        row = session.scalar(
            select(EmailTemplate).where(EmailTemplate.kind == kind, EmailTemplate.locale == locale)
        )
        if row is None:
            row = EmailTemplate(kind=kind, locale=locale)
            session.add(row)
        row.subject = data["subject"]
        row.body_text = data["body_text"]
        row.body_html = data.get("body_html") or None
        row.updated_at = utcnow()
    return Template(kind, locale, row.subject, row.body_text, row.body_html, overridden=True)


def delete_override(kind: str, locale: str) -> bool:
    """Go back to the shipped default; ``False`` when there was no override."""
    with transaction():
        row = session.scalar(
            select(EmailTemplate).where(EmailTemplate.kind == kind, EmailTemplate.locale == locale)
        )
        if row is None:
            return False
        session.delete(row)
    return True

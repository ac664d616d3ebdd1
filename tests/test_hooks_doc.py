"""docs/hooks.md documents every hook with its exact signature and kind."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from frontdesk import hookspecs

DOC = Path(__file__).resolve().parents[1] / "docs" / "hooks.md"
HEADING = re.compile(r"^### `(\w+)\(([^)]*)\)`$", re.M)


def _specs() -> dict[str, object]:
    return {
        name: fn
        for name, fn in vars(hookspecs).items()
        if callable(fn) and hasattr(fn, "frontdesk_spec")
    }


def _documented() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    return {
        m.group(1): [a.strip() for a in m.group(2).split(",") if a.strip()]
        for m in HEADING.finditer(text)
    }


def test_every_hook_is_documented_with_its_signature():
    documented = _documented()
    for name, fn in _specs().items():
        assert name in documented, f"hook {name} is missing from docs/hooks.md"
        assert documented[name] == list(inspect.signature(fn).parameters), (
            f"docs/hooks.md shows {name}({', '.join(documented[name])}), "
            f"the spec is {name}{inspect.signature(fn)}"
        )


def test_docs_name_no_hook_that_does_not_exist():
    extra = set(_documented()) - set(_specs())
    assert not extra, f"docs/hooks.md documents hooks that do not exist: {sorted(extra)}"


def test_decision_hooks_are_documented_as_firstresult():
    text = DOC.read_text(encoding="utf-8")
    sections = dict(zip(HEADING.findall(text), re.split(HEADING, text)[3::3], strict=False))
    by_name = {name: body for (name, _args), body in sections.items()}
    for name, fn in _specs().items():
        firstresult = fn.frontdesk_spec["firstresult"]
        assert ("`firstresult`" in by_name[name]) == firstresult, (
            f"docs/hooks.md must say whether {name} is firstresult"
        )


def test_every_hook_family_of_the_design_exists():
    required = {
        "select_queue", "sla_policy_for", "business_calendar", "customer_lookup",
        "inbound_message_screen", "inbound_message_thread", "actor_from_request",
        "permission_check", "locale_selector", "ticket_prepare", "outbound_message_prepare",
        "status_transition_issues", "ticket_created", "ticket_updated", "ticket_status_changed",
        "ticket_assigned", "ticket_message_added", "ticket_merged", "outbound_message_sent",
        "sla_at_risk", "sla_breached", "kb_article_published", "kb_article_unpublished",
        "csat_received", "nav_items", "ticket_sidebar_panels", "ticket_actions", "template_slot",
        "asset_urls", "template_context",
    }  # fmt: skip
    assert required <= set(_specs())
    assert {n for n in _specs() if n.startswith("register_")} >= {
        "register_channels", "register_routing_strategies", "register_sla_policies",
        "register_search_backends", "register_crm_connectors", "register_statuses",
        "register_permissions", "register_blueprints", "register_cli_commands",
        "register_socketio_namespaces", "register_periodic_tasks", "register_themes",
    }  # fmt: skip

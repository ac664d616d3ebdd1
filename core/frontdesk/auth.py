"""Route access rules and the current actor.

Every route declares who may call it with ``@access(...)``; a request to a route without a rule is
refused (and a test fails on such routes). Rules: ``"public"``, ``"authenticated"``, ``"staff"``,
``"admin"``, or a permission name such as ``"tickets.edit"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request

from frontdesk.models import User

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "_frontdesk_access"
ROLE_RULES = ("public", "authenticated", "staff", "admin")


def access(rule: str) -> Callable[[F], F]:
    """Declare who may call the decorated view (checked before the view runs)."""

    def decorate(view: F) -> F:
        setattr(view, ACCESS_ATTR, rule)
        return view

    return decorate


def access_rule(view: Any) -> str | None:
    """The rule declared on a view (also on a class-based view's ``view_class``)."""
    rule = getattr(view, ACCESS_ATTR, None)
    if rule is None and hasattr(view, "view_class"):
        rule = getattr(view.view_class, ACCESS_ATTR, None)
    return rule


def current_actor() -> User | None:
    """The user making the current request (``None`` when anonymous), resolved once per request."""
    # Cached on the request, not on ``g``: an app context (and its ``g``) can outlive a request,
    # as it does in tests that push one around several requests.
    req = request._get_current_object()  # type: ignore[attr-defined]
    if not hasattr(req, "frontdesk_actor"):
        hook = current_app.extensions["frontdesk"].hook
        req.frontdesk_actor = hook.actor_from_request(request=req)
    return req.frontdesk_actor


def rule_allows(rule: str, actor: User | None, method_rule: str | None = None) -> bool:
    if rule == "public":
        return True
    if actor is None or not actor.is_active:
        return False
    if rule == "authenticated":
        return True
    if rule == "staff":
        return actor.is_staff
    if rule == "admin":
        return actor.is_admin
    from frontdesk.services.access import has_permission

    return has_permission(actor, rule)


def session_epoch(user: User) -> str:
    """A value kept in the session at sign-in; it changes with the password, ending old sessions."""
    return (user.password_hash or "")[-16:]

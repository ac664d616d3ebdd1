"""Every route declares who may call it; undeclared routes are refused."""

from __future__ import annotations

from flask import Blueprint

from frontdesk.auth import access_rule
from frontdesk.plugins import hookimpl

KNOWN_RULES = {"public", "authenticated", "staff", "admin"}


def test_every_registered_route_declares_an_access_rule(app):
    registry = app.extensions["frontdesk.registry"]
    missing, unknown = [], []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        declared = access_rule(view)
        if declared is None:
            missing.append(f"{rule.rule} -> {rule.endpoint}")
        elif declared not in KNOWN_RULES and declared not in registry.permissions:
            unknown.append(f"{rule.rule} -> {declared}")
    assert not missing, "routes without an access rule:\n" + "\n".join(missing)
    assert not unknown, "routes with an unknown rule or permission:\n" + "\n".join(unknown)


def test_a_route_without_a_rule_is_refused_at_request_time(app, plugins, agent_client):
    bp = Blueprint("sneaky", __name__, url_prefix="/sneaky")

    @bp.get("/")
    def leak():
        return "secret"

    app.register_blueprint(bp)
    response = agent_client.get("/sneaky/")
    assert response.status_code == 403
    assert b"secret" not in response.data


def test_rules_are_enforced_for_anonymous_staff_and_customers(app, client, portal_client, agent_client):
    bp = Blueprint("ruled", __name__, url_prefix="/ruled")

    @bp.get("/staff")
    @access_staff
    def staff_only():
        return "staff page"

    app.register_blueprint(bp)
    # An anonymous visitor of a page is sent to the sign-in form, which brings them back.
    anonymous = client.get("/ruled/staff")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/signin?next=/ruled/staff"
    assert portal_client.get("/ruled/staff").status_code == 403
    assert agent_client.get("/ruled/staff").data == b"staff page"


def access_staff(view):
    from frontdesk.auth import access

    return access("staff")(view)


def test_permission_rules_follow_the_permission_check_hook(app, plugins, agent_client, agent):
    bp = Blueprint("perm", __name__, url_prefix="/perm")

    @bp.get("/")
    def manage():
        return "managed"

    from frontdesk.auth import access

    access("admin.manage")(manage)
    app.register_blueprint(bp)
    assert agent_client.get("/perm/").status_code == 403

    class Delegation:
        @hookimpl
        def permission_check(self, actor, permission):
            return True if permission == "admin.manage" and actor.id == agent.id else None

    plugins.register(Delegation())
    assert agent_client.get("/perm/").data == b"managed"

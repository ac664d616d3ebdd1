"""Plugin static files, plugin config access and routing strategies with their config."""

from __future__ import annotations

from frontdesk.plugins import plugin_config

ROUTER = """
from marshmallow import Schema, fields
from frontdesk.plugins import PluginInfo, hookimpl
from frontdesk.routing.base import RoutingStrategy

class Config(Schema):
    favourite = fields.String(required=True)

plugin_info = PluginInfo(label="Favourite", category="routing", config_schema=Config)

class FavouriteRouting(RoutingStrategy):
    key = "favourite"
    label = "Favourite agent"

    def choose(self, ticket, candidates):
        return next((c for c in candidates if c.email == self.config["favourite"]), None)

@hookimpl
def register_routing_strategies():
    return [FavouriteRouting]
"""


def test_plugin_static_files_are_served_under_their_name(install_plugin, build_app):
    install_plugin("widgets", "", files={"static/widgets.css": "body{color:red}", "secret.py": "X=1"})
    app = build_app()
    client = app.test_client()
    ok = client.get("/static/plugins/widgets/widgets.css")
    assert ok.status_code == 200 and b"color:red" in ok.data
    assert ok.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/static/plugins/widgets/../secret.py").status_code == 404
    assert client.get("/static/plugins/widgets/%2e%2e/secret.py").status_code == 404
    assert client.get("/static/plugins/nobody/widgets.css").status_code == 404


def test_routing_strategy_gets_its_plugin_config(install_plugin, build_app):
    install_plugin("favourite", ROUTER)
    app = build_app(PLUGINS_CONFIG={"favourite": {"favourite": "star@example.test"}})
    with app.app_context():
        from frontdesk.services import create_queue, create_ticket, create_user

        assert plugin_config("favourite") == {"favourite": "star@example.test"}
        star = create_user(email="star@example.test", role="agent", password="long enough")
        other = create_user(email="other@example.test", role="agent", password="long enough")
        queue = create_queue(key="vip", name="VIP", routing="favourite", members=[other, star])
        customer = create_user(email="c@example.test")
        ticket = create_ticket(subject="Hi", body_text="Hello", customer=customer, queue=queue)
        assert ticket.assignee_id == star.id
    from frontdesk.testing.database import empty_all_tables

    app.extensions["frontdesk.db"].Session.remove()
    empty_all_tables(app.extensions["frontdesk.db"].engine)


def test_registered_statuses_are_public(app):
    from frontdesk.plugins import registered_statuses

    statuses = registered_statuses()
    assert statuses["pending"].category == "pending" and statuses["merged"].category == "closed"
    statuses.pop("pending")  # a copy: callers cannot change the registry
    assert "pending" in registered_statuses()

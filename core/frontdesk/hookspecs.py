"""Every extension point of Frontdesk, in one file, grouped by family.

All hook arguments are keywords: an implementation may accept any subset of them, so new arguments
can be added without breaking plugins. Families:

* ``register_*``: collected once at startup; return a list. Duplicate keys are a startup error.
* Decisions (``firstresult``): the first non-``None`` answer wins; the core's default answers last.
* Preparation: run inside the writing transaction; may change the object or refuse.
* Events: fire after commit; each implementation runs isolated (its exception is logged with the
  plugin's name and never undoes or blocks the change).
* UI: contribute to pages.

``docs/hooks.md`` documents each hook; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from frontdesk.plugins import hookspec

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask, Request
    from flask_socketio import Namespace

    from frontdesk.channels.base import Channel, InboundMessage, ScreenVerdict, ThreadMatch
    from frontdesk.crm.base import CRMConnector
    from frontdesk.jobs import PeriodicTask
    from frontdesk.kb.base import SearchBackend
    from frontdesk.models import Message, Queue, Ticket, User
    from frontdesk.plugins import NavItem, Permission, Status
    from frontdesk.routing.base import RoutingStrategy
    from frontdesk.sla.base import BusinessCalendar, SLAPolicy


# --- Registration (collected at startup) -----------------------------------------------------


@hookspec
def register_statuses() -> list[Status]:
    """Ticket statuses this plugin provides, each with a category.

    Collected at startup; a status key registered twice is a startup error.
    """


@hookspec
def register_permissions() -> list[Permission]:
    """Permissions this plugin checks, named ``<plugin>.<action>``, with their default roles."""


@hookspec
def register_channels() -> list[type[Channel]]:
    """Channel provider classes (subclasses of ``frontdesk.channels.base.Channel``)."""


@hookspec
def register_routing_strategies() -> list[type[RoutingStrategy]]:
    """Routing strategy classes; a queue's ``routing`` names the one it uses."""


@hookspec
def register_sla_policies() -> list[type[SLAPolicy]]:
    """SLA policy classes; a queue's ``sla_policy`` names the one it uses."""


@hookspec
def register_search_backends() -> list[type[SearchBackend]]:
    """Full-text search backend classes (the knowledge base picks one by config)."""


@hookspec
def register_crm_connectors() -> list[type[CRMConnector]]:
    """CRM connector classes."""


@hookspec
def register_blueprints(app: Flask) -> list[Blueprint]:
    """Flask blueprints; each is named after the plugin and mounted under ``/<plugin>``.

    Allowed prefixes are ``/<plugin>``, ``/desk/<plugin>``, ``/admin/<plugin>``,
    ``/portal/<plugin>`` and ``/api/v1/<plugin>``.
    """


@hookspec
def register_cli_commands() -> list[click.Command]:
    """Click commands or groups; each is named after the plugin (``frontdesk <plugin> ...``)."""


@hookspec
def register_socketio_namespaces() -> list[Namespace]:
    """Flask-SocketIO namespace objects; a plugin's namespace is ``/<plugin>``."""


@hookspec
def register_periodic_tasks() -> list[PeriodicTask]:
    """Timers (``frontdesk.jobs.PeriodicTask``); each runs once per tick across all workers."""


@hookspec
def register_themes() -> list[str]:
    """Paths of theme folders (each holding ``theme.toml``, ``templates/``, ``static/``)."""


# --- Decisions (first non-None answer wins) ---------------------------------------------------


@hookspec(firstresult=True)
def ticket_number(ticket: Ticket, sequence: int) -> str | None:
    """The human-friendly number of a new ticket, given the next value of the ticket sequence.

    The core's default answers last with ``TICKET_NUMBER_PREFIX`` + ``sequence``.
    """


@hookspec(firstresult=True)
def select_queue(ticket: Ticket) -> Queue | None:
    """The queue of a new ticket that arrived without one; ``None`` lets the next plugin decide.

    The core's default answers last with the first active queue.
    """


@hookspec(firstresult=True)
def sla_policy_for(ticket: Ticket) -> SLAPolicy | None:
    """Choose the SLA policy for ``ticket`` when it is created or moves queue.

    Return a policy, or ``None`` to let the next plugin decide; the core's queue-based default
    answers last (the queue's ``sla_policy``, else "no SLA").
    """


@hookspec(firstresult=True)
def business_calendar(queue: Queue | None) -> BusinessCalendar | None:
    """The calendar the SLA clock of ``queue`` follows; the default runs around the clock."""


@hookspec(firstresult=True)
def customer_lookup(email: str, name: str, channel: str) -> User | None:
    """Find or create the customer for an inbound sender; the default matches the email address.

    Answer with a ``User`` to take over (a CRM plugin may create one from its records).
    """


@hookspec(firstresult=True)
def inbound_message_screen(message: InboundMessage) -> ScreenVerdict | None:
    """Drop or reject an inbound message before it touches a ticket (auto-replies, loops, spam).

    Return a ``ScreenVerdict``; ``None`` lets it through. Nothing is ever auto-answered for a
    dropped message.
    """


@hookspec(firstresult=True)
def inbound_message_thread(message: InboundMessage) -> ThreadMatch | None:
    """The existing ticket an inbound message continues, and why; ``None`` opens a new ticket.

    Steps run in plugin order (``tryfirst`` to go early); the core's default answers last by the
    subject tag ``[Ticket#<number>]``. The core appends only when the sender takes part in the
    ticket (customer, watcher, organisation member where shared, or staff).
    """


@hookspec(firstresult=True)
def actor_from_request(request: Request) -> User | None:
    """The user making ``request``; the core's default reads the session and API tokens."""


@hookspec(firstresult=True)
def permission_check(actor: User | None, permission: str, obj: Any) -> bool | None:
    """Whether ``actor`` holds ``permission`` (on ``obj`` when given).

    Return ``True``/``False`` to decide, ``None`` for no opinion; the core's role-based default
    answers last.
    """


@hookspec(firstresult=True)
def locale_selector(request: Request, user: User | None) -> str | None:
    """The UI language of ``request``; the default tries the URL, the user's preference, then
    Accept-Language."""


# --- Preparation (inside the writing transaction) ---------------------------------------------


@hookspec
def ticket_prepare(ticket: Ticket, data: dict[str, Any], actor: User | None) -> None:
    """Adjust a ticket about to be created (set tags, priority, plugin data) before it is saved.

    Runs inside the transaction; raising aborts the creation.
    """


@hookspec
def outbound_message_prepare(ticket: Ticket, message: Message, actor: User | None) -> None:
    """Adjust a public agent message before it is saved and queued for sending."""


@hookspec
def status_transition_issues(ticket: Ticket, old: str, new: str, actor: User | None) -> list[str]:
    """Reasons to refuse moving ``ticket`` from status ``old`` to ``new``.

    Return a list of human-readable reasons (empty or ``None`` for none); any reason refuses.
    """


# --- Events (after commit, isolated) ----------------------------------------------------------


@hookspec
def ticket_created(ticket: Ticket, actor: User | None) -> None:
    """A ticket was created (its first message is already saved)."""


@hookspec
def ticket_updated(ticket: Ticket, changes: dict[str, tuple[Any, Any]], actor: User | None) -> None:
    """Fields of a ticket changed; ``changes`` maps each field to ``(old, new)``."""


@hookspec
def ticket_status_changed(ticket: Ticket, old: str, new: str, actor: User | None) -> None:
    """A ticket's status changed from ``old`` to ``new``."""


@hookspec
def ticket_assigned(
    ticket: Ticket, old: User | None, new: User | None, actor: User | None
) -> None:
    """A ticket's assignee changed (``new`` is ``None`` when it was unassigned)."""


@hookspec
def ticket_message_added(ticket: Ticket, message: Message, actor: User | None) -> None:
    """A message (customer, agent, internal note or system) was added to a ticket."""


@hookspec
def ticket_merged(source: Ticket, target: Ticket, actor: User | None) -> None:
    """``source`` was merged into ``target`` (its messages now belong to ``target``)."""


@hookspec
def outbound_message_sent(ticket: Ticket, message: Message, channel: str) -> None:
    """A channel delivered a public agent message."""


@hookspec
def sla_at_risk(ticket: Ticket, target: str, due_at: datetime) -> None:
    """An SLA target of ``ticket`` is close to its due time."""


@hookspec
def sla_breached(ticket: Ticket, target: str, due_at: datetime) -> None:
    """An SLA target of ``ticket`` passed its due time unmet."""


@hookspec
def kb_article_published(article: Any, actor: User | None) -> None:
    """A knowledge-base article became public."""


@hookspec
def kb_article_unpublished(article: Any, actor: User | None) -> None:
    """A knowledge-base article stopped being public."""


@hookspec
def csat_received(ticket: Ticket, rating: int, comment: str, customer: User | None) -> None:
    """A customer rated the handling of ``ticket``."""


# --- Notices ----------------------------------------------------------------------------------


@hookspec(firstresult=True)
def deliver_notice(recipient: User, kind: str, subject: str, text: str, url: str | None) -> bool | None:
    """Deliver a notice to ``recipient`` outside any ticket thread; return ``True`` once sent.

    ``kind`` says what it is (``signin_link``, ``request_verification``, ``mention``, ...);
    ``subject`` and ``text`` are already in the recipient's language and ``url`` is the link
    the notice is about. The first plugin that delivers it (the email channel does) wins;
    ``None`` from every plugin means nobody could, and the caller tells the user so.
    """


# --- UI ---------------------------------------------------------------------------------------


@hookspec
def nav_items(area: str, actor: User | None) -> list[NavItem]:
    """Navigation entries for ``area`` (``desk``, ``admin``, ``portal``) as seen by ``actor``."""


@hookspec
def ticket_sidebar_panels(ticket: Ticket, actor: User | None) -> list[Any]:
    """Panels for the agent ticket page's sidebar (``frontdesk.ui.Panel`` objects)."""


@hookspec
def ticket_actions(ticket: Ticket, actor: User | None) -> list[Any]:
    """Extra actions offered on a ticket (``frontdesk.ui.Action`` objects)."""


@hookspec
def template_slot(name: str, context: dict[str, Any]) -> str | None:
    """Markup to insert at the template slot ``name``; ``context`` is what the template passed.

    Return safe markup (``markupsafe.Markup``) or text, which is escaped.
    """


@hookspec
def asset_urls(area: str) -> Sequence[str]:
    """Extra stylesheet and script URLs for ``area`` (served locally, never from a CDN)."""


@hookspec
def template_context() -> dict[str, Any]:
    """Extra variables for every rendered template."""

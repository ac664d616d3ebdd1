"""People and the groups they belong to: users (admins, agents, customers), organizations, queues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontdesk.db import Model, utcnow

ROLES = ("admin", "agent", "customer")

queue_member = Table(
    "queue_member",
    Model.metadata,
    Column("queue_id", ForeignKey("queue.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Organization(Model):
    """A customer organization; ``shared_tickets`` lets its members see each other's tickets."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    domains: Mapped[list[str]] = mapped_column(default=list)
    shared_tickets: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="organization")


class User(Model):
    """Anyone who signs in or writes: ``role`` is admin, agent or customer."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="customer", index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    plugin_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    organization: Mapped[Organization | None] = relationship(back_populates="members")
    queues: Mapped[list[Queue]] = relationship(secondary=queue_member, back_populates="members")

    @property
    def is_staff(self) -> bool:
        return self.role in ("admin", "agent")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


# Sign-in and inbound mail look people up by address without regard to case.
Index("uq_user_email_lower", func.lower(User.email), unique=True)


class Queue(Model):
    """A queue and the team that works it; ``custom_fields`` defines its tickets' extra fields.

    Each custom field definition is ``{"key", "label", "type", "required", "choices"}`` with type
    one of text, number, boolean, date, choice.
    """

    __tablename__ = "queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(320))
    custom_fields: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    routing: Mapped[str | None] = mapped_column(String(64))
    sla_policy: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[User]] = relationship(secondary=queue_member, back_populates="queues")

    def __repr__(self) -> str:
        return f"<Queue {self.key}>"


class ApiToken(Model):
    """A token for integrations: only its SHA-256 is stored; it acts as its user."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class SavedView(Model):
    """A named ticket filter; ``owner_id`` NULL means shared with every agent."""

    __tablename__ = "saved_view"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sort: Mapped[str] = mapped_column(String(64), default="-updated_at")
    position: Mapped[int] = mapped_column(default=0)


class CannedResponse(Model):
    """A reusable reply text; ``owner_id`` NULL means shared."""

    __tablename__ = "canned_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))

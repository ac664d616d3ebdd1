"""Requests sent without an account, waiting for their sender to confirm the address."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontdesk.db import Model, utcnow


class Submission(Model):
    """One anonymous form submission: nothing becomes a ticket until its link is followed.

    ``delivery_id`` comes from the form's token, so a form sent twice is stored once and the
    ticket it becomes is recorded once (it is the message's ``external_id``). Only the SHA-256 of
    the emailed link's secret is kept.
    """

    __tablename__ = "webform__submission"
    __table_args__ = (Index("ix_webform__submission_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    queue_key: Mapped[str | None] = mapped_column(String(64))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    language: Mapped[str | None] = mapped_column(String(16))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))

    uploads: Mapped[list[Upload]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Upload.position",
    )


class Upload(Model):
    """A file sent with a pending submission, kept until the submission is confirmed or expires."""

    __tablename__ = "webform__upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("webform__submission.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    submission: Mapped[Submission] = relationship(back_populates="uploads")

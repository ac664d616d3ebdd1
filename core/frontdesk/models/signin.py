"""Sign-in links mailed to customers: single-use, expiring, stored only as a hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontdesk.db import Model, utcnow
from frontdesk.models.people import User


class SigninLink(Model):
    """One emailed sign-in link: the SHA-256 of its token, when it expires, when it was used.

    ``password_hash`` is the password chosen at sign-up; it becomes the account's password when
    the link is used, so an address nobody confirmed never gets a usable password.
    """

    __tablename__ = "signin_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

"""single-use sign-in links for the customer portal

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import frontdesk.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", frontdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", frontdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", frontdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_signin_link_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signin_link_token_hash")),
    )
    with op.batch_alter_table("signin_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signin_link_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_signin_link_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signin_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signin_link_user_id"))
        batch_op.drop_index(batch_op.f("ix_signin_link_expires_at"))
    op.drop_table("signin_link")

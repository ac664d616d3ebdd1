"""inbound records by ticket

The mailbox that answers a ticket is the one its first mail came in through; without this index
finding it read every inbound record, once for each acknowledgement.

Revision ID: email_0004
Revises: email_0003
Create Date: 2026-11-24 18:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "email_0004"
down_revision = "email_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("email__inbound", schema=None) as batch_op:
        batch_op.create_index("ix_email__inbound_ticket", ["ticket_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("email__inbound", schema=None) as batch_op:
        batch_op.drop_index("ix_email__inbound_ticket")

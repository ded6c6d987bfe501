"""The outbox of the Telegram and WhatsApp channels.

Revision ID: 0040_outbox
Revises: 0001_base
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040_outbox"
down_revision = "0001_base"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("conversation_id", sa.String(40), nullable=True),
        sa.Column("op", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_outbox_chat", "outbox", ["status", "channel", "chat_id", "id"])
    op.create_index("ix_outbox_conversation_id", "outbox", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_conversation_id", table_name="outbox")
    op.drop_index("ix_outbox_chat", table_name="outbox")
    op.drop_table("outbox")

"""Conversations, analytics events, consent, leads and inbound idempotency keys.

Revision ID: 0010_conversations
Revises: 0001_base
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_conversations"
down_revision = "0001_base"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_hash", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("campaign", sa.String(64), nullable=True),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("org", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("channel", "user_hash", name="uq_conversations_user"),
    )
    op.create_index("ix_conversations_campaign", "conversations", ["campaign"])
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])

    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("question", sa.String(64), nullable=True),
        sa.Column("campaign", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_events_conversation_id", "events", ["conversation_id"])
    op.create_index("ix_events_name", "events", ["name"])
    op.create_index("ix_events_campaign", "events", ["campaign"])
    op.create_index("ix_events_created_at", "events", ["created_at"])

    op.create_table(
        "consents",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("quiz_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_consents_conversation_id", "consents", ["conversation_id"])

    op.create_table(
        "leads",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("vacancy_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("campaign", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_leads_conversation_id", "leads", ["conversation_id"])
    op.create_index("ix_leads_vacancy_id", "leads", ["vacancy_id"])

    op.create_table(
        "inbound_messages",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_inbound_messages_conversation_id", "inbound_messages", ["conversation_id"])
    op.create_index("ix_inbound_messages_created_at", "inbound_messages", ["created_at"])


def downgrade() -> None:
    for table in ("inbound_messages", "leads", "consents", "events", "conversations"):
        op.drop_table(table)

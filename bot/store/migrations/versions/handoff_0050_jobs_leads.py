"""Durable jobs; the hand-off of leads to organisations (status, contact, deadlines);
organisations' webhooks and colours (result cards).

Revision ID: handoff_0050_jobs_leads
Revises: 0010_conversations (and needs the vacancy columns of feeds_0050_vacancy_feeds,
among them `max_open_leads`)
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "handoff_0050_jobs_leads"
down_revision = "0010_conversations"
branch_labels = None
depends_on = "feeds_0050_vacancy_feeds"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

def _lead_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_to", sa.String(64), nullable=True),
        sa.Column("share_consent", sa.String(8), nullable=True),
        sa.Column("contact_name", sa.String(100), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("contact_phone", sa.String(32), nullable=True),
        sa.Column("contact_chat", sa.String(32), nullable=True),
        sa.Column("contact_message", sa.String(500), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),
    )
    op.create_index("ix_jobs_due", "jobs", ["status", "due_at"])

    with op.batch_alter_table("leads") as batch:
        for column in _lead_columns():
            batch.add_column(column)
    op.create_index("ix_leads_status", "leads", ["status"])

    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("webhook_url", sa.String(500), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.String(200), nullable=True))
        batch.add_column(sa.Column("brand_colour", sa.String(7), nullable=True))
        batch.add_column(sa.Column("accent_colour", sa.String(7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("accent_colour")
        batch.drop_column("brand_colour")
        batch.drop_column("webhook_secret")
        batch.drop_column("webhook_url")
    op.drop_index("ix_leads_status", table_name="leads")
    with op.batch_alter_table("leads") as batch:
        for column in _lead_columns():
            batch.drop_column(column.name)
    op.drop_index("ix_jobs_due", table_name="jobs")
    op.drop_table("jobs")

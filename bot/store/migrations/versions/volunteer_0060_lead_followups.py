"""The volunteer's side of the hand-off: where follow-ups go (the chat, with consent), in
which language, and the person's own answers ("contact yet?", "started?").

Revision ID: volunteer_0060_lead_followups
Revises: handoff_0050_jobs_leads
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "volunteer_0060_lead_followups"
down_revision = "handoff_0050_jobs_leads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("chat_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("lang", sa.String(8), nullable=True))
        batch.add_column(sa.Column("volunteer_status", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("volunteer_status_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        for name in ("volunteer_status_at", "volunteer_status", "lang", "chat_id"):
            batch.drop_column(name)

"""The volunteer's side of the hand-off: where follow-ups go (the chat, with consent), in
which language, and the person's own answers ("contact yet?", "started?"); and the `vriend`
campaign that "Deel je kracht" invitations are attributed to (bot.share).

Revision ID: volunteer_0060_lead_followups
Revises: handoff_0050_jobs_leads
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "volunteer_0060_lead_followups"
down_revision = "handoff_0050_jobs_leads"
branch_labels = None
depends_on = "0030_campaigns"

REFERRAL = "vriend"


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("chat_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("lang", sa.String(8), nullable=True))
        batch.add_column(sa.Column("volunteer_status", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("volunteer_status_at", sa.DateTime(timezone=True), nullable=True)
        )
    campaigns = sa.table(
        "campaigns",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("owner", sa.String),
        sa.column("keyword", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    known = op.get_bind().execute(
        sa.select(campaigns.c.code).where(sa.func.lower(campaigns.c.code) == REFERRAL)
    )
    if known.first() is None:
        op.bulk_insert(
            campaigns,
            [
                {
                    "code": REFERRAL,
                    "name": "Via een vriend (Deel je kracht)",
                    "owner": "national",
                    "keyword": REFERRAL,
                    "created_at": datetime.now(UTC),
                }
            ],
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM campaigns WHERE code = 'vriend'"))
    with op.batch_alter_table("leads") as batch:
        for name in ("volunteer_status_at", "volunteer_status", "lang", "chat_id"):
            batch.drop_column(name)

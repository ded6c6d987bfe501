"""Report aggregates: counts per (grain, metric, day, campaign, channel, region, key), one
folded state per journey and the high-water mark of the events already folded in.

Revision ID: scale_0050_report_counts
Revises: 0010_conversations
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "scale_0050_report_counts"
down_revision = "0010_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_counts",
        sa.Column("g", sa.SmallInteger(), nullable=False),
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        # Reports read one grain and a few metrics, often a range of days.
        sa.PrimaryKeyConstraint(
            "g", "metric", "day", "campaign", "channel", "region", "key", name="pk_report_counts"
        ),
    )
    op.create_table(
        "report_journeys",
        sa.Column("conversation_id", sa.String(40), primary_key=True),
        sa.Column("stage", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
    )
    op.create_table(
        "report_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO report_state (name, value) VALUES ('events', 0)")


def downgrade() -> None:
    for table in ("report_state", "report_journeys", "report_counts"):
        op.drop_table(table)

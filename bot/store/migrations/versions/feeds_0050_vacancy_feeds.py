"""Vacancy feeds (Volunteering Data Standard), provenance, expiry and freshness.

Adds to `vacancies`: what the work offers, publication end, a cap on open leads, the feed it
came from (and its id there), terms the mapping did not know, when it was last modified and
confirmed, and whether it is closed (never hard-deleted while people wait on it).
New tables: `vacancy_feeds` (one row per synced URL) and `vacancy_notices` (what an
organisation must still be told, e.g. a withdrawn vacancy with open leads).

Revision ID: feeds_0050_vacancy_feeds
Revises: 0020_organisations
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "feeds_0050_vacancy_feeds"
down_revision = "0020_organisations"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_COLUMNS: tuple[tuple[str, Any, dict[str, Any]], ...] = (
    ("offers", sa.JSON, {}),
    ("publish_end", sa.Date, {}),
    ("max_open_leads", sa.Integer, {}),
    ("feed_id", sa.String(64), {}),
    ("external_id", sa.String(500), {}),
    ("source_hash", sa.String(64), {}),
    ("unmapped", sa.JSON, {}),
    ("modified_at", sa.DateTime(timezone=True), {}),
    ("last_confirmed_at", sa.DateTime(timezone=True), {}),
    ("confirm_asked_at", sa.DateTime(timezone=True), {}),
    ("closed_at", sa.DateTime(timezone=True), {}),
    ("closed_reason", sa.String(32), {}),
    ("duplicate_of", sa.String(64), {}),
)


def upgrade() -> None:
    with op.batch_alter_table("vacancies") as batch:
        for name, type_, kw in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True, **kw))
    op.create_index("ix_vacancies_feed_id", "vacancies", ["feed_id"])
    op.create_index("ix_vacancies_closed_at", "vacancies", ["closed_at"])
    op.create_table(
        "vacancy_feeds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("url", sa.String(1000), nullable=False, unique=True),
        sa.Column("etag", sa.String(500), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("licence", sa.String(200), nullable=True),
        sa.Column("publisher", sa.String(500), nullable=True),
        sa.Column("modified", sa.String(40), nullable=True),
        sa.Column("last_sync", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "vacancy_notices",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("vacancy_id", sa.String(64), nullable=False),
        sa.Column("organisation_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_vacancy_notices_sent_at", "vacancy_notices", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_vacancy_notices_sent_at", table_name="vacancy_notices")
    op.drop_table("vacancy_notices")
    op.drop_table("vacancy_feeds")
    op.drop_index("ix_vacancies_closed_at", table_name="vacancies")
    op.drop_index("ix_vacancies_feed_id", table_name="vacancies")
    with op.batch_alter_table("vacancies") as batch:
        for name, _, _ in reversed(_COLUMNS):
            batch.drop_column(name)

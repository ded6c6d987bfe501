"""Organisations and vacancies.

Revision ID: 0020_organisations
Revises: 0001_base
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_organisations"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("place", sa.String(100), nullable=True),
        sa.Column("municipality", sa.String(100), nullable=True),
        sa.Column("allowed_origins", sa.JSON, nullable=False),
        sa.Column("is_volunteer_centre", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("fictional", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_organisations_municipality", "organisations", ["municipality"])
    op.create_table(
        "vacancies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "organisation_id",
            sa.String(64),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("causes", sa.JSON, nullable=False),
        sa.Column("activities", sa.JSON, nullable=False),
        sa.Column("postcode", sa.String(8), nullable=True),
        sa.Column("place", sa.String(100), nullable=True),
        sa.Column("municipality", sa.String(100), nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("hours_min", sa.Float, nullable=True),
        sa.Column("hours_max", sa.Float, nullable=True),
        sa.Column("days", sa.JSON, nullable=False),
        sa.Column("dayparts", sa.JSON, nullable=False),
        sa.Column("one_off", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("remote", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("min_age", sa.Integer, nullable=True),
        sa.Column("vog_required", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_vacancies_organisation_id", "vacancies", ["organisation_id"])
    op.create_index("ix_vacancies_updated_at", "vacancies", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_vacancies_updated_at", table_name="vacancies")
    op.drop_index("ix_vacancies_organisation_id", table_name="vacancies")
    op.drop_table("vacancies")
    op.drop_index("ix_organisations_municipality", table_name="organisations")
    op.drop_table("organisations")

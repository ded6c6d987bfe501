"""Organisation and vacancy tables (the import contract's fields, one row per vacancy).

Organisations also carry what other features need: `allowed_origins` (the web widget's CORS
allowlist for this organisation), `is_volunteer_centre` (the local fallback of the
recommender) and `fictional` (demo data, labelled as such wherever it is shown).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

_log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(index: bool = False) -> Any:
    return sa.Column(sa.DateTime(timezone=True), index=index)


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))


class Organisation(SQLModel, table=True):
    __tablename__ = "organisations"

    id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    contact_email: str | None = Field(default=None, sa_column=sa.Column(sa.String(254)))
    url: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    place: str | None = Field(default=None, sa_column=sa.Column(sa.String(100)))
    municipality: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), index=True))
    allowed_origins: list[str] = _json_list()
    is_volunteer_centre: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    fictional: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    created_at: datetime = Field(
        default_factory=_now, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=_now, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False)
    )


class Vacancy(SQLModel, table=True):
    __tablename__ = "vacancies"

    id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    organisation_id: str = Field(
        sa_column=sa.Column(
            sa.String(64),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    title: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    description: str = Field(
        default="", sa_column=sa.Column(sa.Text, nullable=False, server_default="")
    )
    causes: list[str] = _json_list()
    activities: list[str] = _json_list()
    postcode: str | None = Field(default=None, sa_column=sa.Column(sa.String(8)))
    place: str | None = Field(default=None, sa_column=sa.Column(sa.String(100)))
    municipality: str | None = Field(default=None, sa_column=sa.Column(sa.String(100)))
    lat: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    lon: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    hours_min: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    hours_max: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    days: list[str] = _json_list()
    dayparts: list[str] = _json_list()
    one_off: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    remote: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    min_age: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    vog_required: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    contact_email: str | None = Field(default=None, sa_column=sa.Column(sa.String(254)))
    url: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    # Feeds, expiry and freshness (migration feeds_0050_vacancy_feeds).
    offers: list[str] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    publish_end: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    max_open_leads: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    feed_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), index=True))
    external_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    source_hash: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    unmapped: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    modified_at: datetime | None = Field(default=None, sa_column=_ts())
    last_confirmed_at: datetime | None = Field(default=None, sa_column=_ts())
    confirm_asked_at: datetime | None = Field(default=None, sa_column=_ts())
    closed_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), index=True)
    )
    closed_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    duplicate_of: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    created_at: datetime = Field(
        default_factory=_now, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=_now,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, index=True),
    )


class VacancyFeed(SQLModel, table=True):
    """One synced feed URL: conditional-fetch validators, licence, publisher, last counts."""

    __tablename__ = "vacancy_feeds"

    id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    url: str = Field(sa_column=sa.Column(sa.String(1000), nullable=False, unique=True))
    etag: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    last_modified: str | None = Field(default=None, sa_column=sa.Column(sa.String(100)))
    licence: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    publisher: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    modified: str | None = Field(default=None, sa_column=sa.Column(sa.String(40)))
    last_sync: datetime | None = Field(default=None, sa_column=_ts())
    counts: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    created_at: datetime = Field(
        default_factory=_now, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False)
    )


class VacancyNotice(SQLModel, table=True):
    """Something an organisation must still be told (e.g. `withdrawn` with open leads);
    the e-mail job sends it and sets `sent_at`."""

    __tablename__ = "vacancy_notices"

    id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
    )
    vacancy_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    organisation_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=_now, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=_ts(index=True))


ORGANISATIONS = Organisation.__table__  # type: ignore[attr-defined]
VACANCIES = Vacancy.__table__  # type: ignore[attr-defined]
FEEDS = VacancyFeed.__table__  # type: ignore[attr-defined]
NOTICES = VacancyNotice.__table__  # type: ignore[attr-defined]

"""Read side of organisations and vacancies: listing with filters, candidates for ranking."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from quiz.ranking import Candidate


@dataclass(frozen=True)
class Filters:
    municipality: str | None = None
    place: str | None = None
    cause: str | None = None
    activity: str | None = None
    organisation: str | None = None  # id or part of the name
    near: tuple[float, float] | None = None
    radius_km: float = 10.0
    remote: bool | None = None
    centres: bool | None = None
    fictional: bool | None = None
    limit: int = 100
    # Only what may be shown to volunteers: not closed, not past its publish_end.
    open_only: bool = True
    feed_id: str | None = None
    organisation_id: str | None = None  # exactly this organisation (its own dashboard)


def _vacancy_columns() -> list[Any]:
    from bot.store.organisations import ORGANISATIONS as O
    from bot.store.organisations import VACANCIES as V

    return [
        V.c.id,
        V.c.organisation_id,
        O.c.name.label("organisation"),
        V.c.title,
        V.c.description,
        V.c.causes,
        V.c.activities,
        V.c.postcode,
        V.c.place,
        V.c.municipality,
        V.c.lat,
        V.c.lon,
        V.c.hours_min,
        V.c.hours_max,
        V.c.days,
        V.c.dayparts,
        V.c.one_off,
        V.c.remote,
        V.c.min_age,
        V.c.vog_required,
        V.c.contact_email.label("contact_email"),
        O.c.contact_email.label("org_email"),
        V.c.url.label("url"),
        O.c.url.label("org_url"),
        O.c.fictional,
        O.c.is_volunteer_centre,
    ]


_FEED_COLUMNS = (
    "offers",
    "publish_end",
    "max_open_leads",
    "feed_id",
    "external_id",
    "unmapped",
    "modified_at",
    "last_confirmed_at",
    "closed_at",
    "closed_reason",
    "duplicate_of",
)


def _feed_columns() -> list[Any]:
    from bot.store.organisations import VACANCIES as V

    return [V.c[name] for name in _FEED_COLUMNS]


def open_clause(today: date) -> Any:
    """Vacancies that may be recommended on `today`: not closed, not past publish_end.

    The recommender's catalogue is built with this clause and rebuilt when the date
    changes, so the check costs nothing per query."""
    from sqlalchemy import and_, or_

    from bot.store.organisations import VACANCIES as V

    return and_(V.c.closed_at.is_(None), or_(V.c.publish_end.is_(None), V.c.publish_end >= today))


def _select_vacancies() -> Any:
    from sqlalchemy import select

    from bot.store.organisations import ORGANISATIONS as O
    from bot.store.organisations import VACANCIES as V

    return select(*_vacancy_columns(), *_feed_columns()).select_from(
        V.join(O, O.c.id == V.c.organisation_id)
    )


def vacancy_dict(row: Any) -> dict[str, Any]:
    m = row._mapping
    return {
        "vacancy_id": m["id"],
        "organisation_id": m["organisation_id"],
        "organisation": m["organisation"],
        "title": m["title"],
        "description": m["description"],
        "causes": list(m["causes"] or []),
        "activities": list(m["activities"] or []),
        "postcode": m["postcode"],
        "place": m["place"],
        "municipality": m["municipality"],
        "lat": m["lat"],
        "lon": m["lon"],
        "hours_min": m["hours_min"],
        "hours_max": m["hours_max"],
        "days": list(m["days"] or []),
        "dayparts": list(m["dayparts"] or []),
        "one_off": bool(m["one_off"]),
        "remote": bool(m["remote"]),
        "min_age": m["min_age"],
        "vog_required": bool(m["vog_required"]),
        "contact_email": m["contact_email"] or m["org_email"],
        "url": m["url"] or m["org_url"],
        "fictional": bool(m["fictional"]),
        "is_volunteer_centre": bool(m["is_volunteer_centre"]),
        "offers": list(m["offers"] or []),
        "publish_end": m["publish_end"].isoformat() if m["publish_end"] else None,
        "max_open_leads": m["max_open_leads"],
        "feed_id": m["feed_id"],
        "external_id": m["external_id"],
        "unmapped": m["unmapped"] or None,
        "modified_at": _iso(m["modified_at"]),
        "last_confirmed_at": _iso(m["last_confirmed_at"]),
        "closed": m["closed_at"] is not None,
        "closed_reason": m["closed_reason"],
        "duplicate_of": m["duplicate_of"],
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return str(value.isoformat())


@lru_cache(maxsize=4096)
def _ids(raw: str) -> tuple[str, ...]:
    return tuple(json.loads(raw) or ())


def _id_tuple(value: Any) -> tuple[str, ...]:
    """A JSON list column as a tuple; the few distinct values are decoded once."""
    if value is None:
        return ()
    if isinstance(value, str):
        return _ids(value)
    return tuple(value)


def load_candidates(url: str, today: date | None = None) -> list[Candidate]:
    """Every open vacancy with its organisation, as ranking candidates (sorted by id).

    Closed vacancies and those past their publish_end (on `today`, by default the clock's
    date) are left out: they are never recommended.

    The JSON list columns are read as text and decoded through a small cache: a catalogue
    of 100 000 vacancies holds only a few hundred distinct lists.
    """
    import sqlalchemy as sa

    from bot.store.db import get_sync_engine
    from bot.store.organisations import VACANCIES as V

    lists = ("causes", "activities", "days", "dayparts", "offers")
    columns = [
        sa.type_coerce(c, sa.Text).label(c.name) if c.name in lists else c
        for c in (*_vacancy_columns(), V.c.offers)
    ]
    if today is None:
        from bot.clock import now

        today = now().date()
    from bot.store.conversations import leads as L

    waiting = (
        sa.select(sa.func.count())
        .where(L.c.vacancy_id == V.c.id, L.c.status == "new")
        .scalar_subquery()
    )
    # A vacancy with as many open leads as it accepts is full: not recommended until the
    # organisation has answered some (checked when the catalogue is built).
    has_room = sa.or_(V.c.max_open_leads.is_(None), V.c.max_open_leads > waiting)
    stmt = (
        _select_vacancies()
        .with_only_columns(*columns)
        .where(open_clause(today), has_room)
        .order_by(V.c.id)
    )
    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
    finally:
        engine.dispose()
    out: list[Candidate] = []
    for r in rows:
        m = r._mapping
        out.append(
            Candidate(
                vacancy_id=m["id"],
                organisation_id=m["organisation_id"],
                organisation=m["organisation"],
                title=m["title"],
                lat=m["lat"],
                lon=m["lon"],
                causes=_id_tuple(m["causes"]),
                activities=_id_tuple(m["activities"]),
                hours_min=m["hours_min"],
                hours_max=m["hours_max"],
                days=_id_tuple(m["days"]),
                dayparts=_id_tuple(m["dayparts"]),
                one_off=bool(m["one_off"]),
                remote=bool(m["remote"]),
                min_age=m["min_age"],
                vog_required=bool(m["vog_required"]),
                description=m["description"],
                contact_email=m["contact_email"] or m["org_email"],
                url=m["url"] or m["org_url"],
                fictional=bool(m["fictional"]),
                is_volunteer_centre=bool(m["is_volunteer_centre"]),
                place=m["place"],
                municipality=m["municipality"],
                offers=_id_tuple(m["offers"]),
            )
        )
    return out


def catalogue_signature_sql() -> Any:
    """Changes whenever a vacancy or organisation is added, removed or updated."""
    from sqlalchemy import func, select

    from bot.store.organisations import ORGANISATIONS as O
    from bot.store.organisations import VACANCIES as V

    return select(
        select(func.count()).select_from(V).scalar_subquery(),
        select(func.max(V.c.updated_at)).scalar_subquery(),
        select(func.count()).select_from(O).scalar_subquery(),
        select(func.max(O.c.updated_at)).scalar_subquery(),
    )


def list_vacancies(url: str, f: Filters) -> list[dict[str, Any]]:
    """Vacancies matching the filters (distance-sorted with `near`, else by id)."""
    from bot.geo.distance import haversine_km
    from bot.store.db import get_sync_engine
    from bot.store.organisations import ORGANISATIONS as O
    from bot.store.organisations import VACANCIES as V

    stmt = _select_vacancies()
    if f.open_only:
        from bot.clock import now

        stmt = stmt.where(open_clause(now().date()))
    if f.feed_id:
        stmt = stmt.where(V.c.feed_id == f.feed_id)
    if f.organisation_id:
        stmt = stmt.where(V.c.organisation_id == f.organisation_id)
    if f.municipality:
        stmt = stmt.where(V.c.municipality == f.municipality)
    if f.place:
        stmt = stmt.where(V.c.place == f.place)
    if f.organisation:
        stmt = stmt.where(
            (V.c.organisation_id == f.organisation) | O.c.name.ilike(f"%{f.organisation}%")
        )
    if f.remote is not None:
        stmt = stmt.where(V.c.remote == f.remote)
    if f.centres is not None:
        stmt = stmt.where(O.c.is_volunteer_centre == f.centres)
    if f.fictional is not None:
        stmt = stmt.where(O.c.fictional == f.fictional)
    if f.near is not None:
        lat, lon = f.near
        dlat = f.radius_km / 111.0
        dlon = f.radius_km / 68.0
        stmt = stmt.where(V.c.lat.between(lat - dlat, lat + dlat))
        stmt = stmt.where(V.c.lon.between(lon - dlon, lon + dlon))
    stmt = stmt.order_by(V.c.id)
    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            rows = [vacancy_dict(r) for r in conn.execute(stmt)]
    finally:
        engine.dispose()
    # JSON list filters are done here: portable across SQLite and Postgres.
    if f.cause:
        rows = [r for r in rows if f.cause in r["causes"]]
    if f.activity:
        rows = [r for r in rows if f.activity in r["activities"]]
    if f.near is not None:
        lat, lon = f.near
        for r in rows:
            r["distance_km"] = round(haversine_km(lat, lon, r["lat"], r["lon"]), 2)
        rows = [r for r in rows if r["distance_km"] <= f.radius_km]
        rows.sort(key=lambda r: (r["distance_km"], r["vacancy_id"]))
    return rows[: f.limit] if f.limit > 0 else rows


def list_organisations(url: str, f: Filters) -> list[dict[str, Any]]:
    """Organisations having vacancies that match the filters, each with those vacancies."""
    vacancies = list_vacancies(url, Filters(**{**f.__dict__, "limit": 0}))
    from sqlalchemy import select

    from bot.store.db import get_sync_engine
    from bot.store.organisations import ORGANISATIONS as O

    by_org: dict[str, list[dict[str, Any]]] = {}
    for v in vacancies:
        by_org.setdefault(v["organisation_id"], []).append(v)
    ids = sorted(by_org)
    if f.limit > 0:
        ids = ids[: f.limit]
    out: list[dict[str, Any]] = []
    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            for i in range(0, len(ids), 1000):
                chunk = ids[i : i + 1000]
                for r in conn.execute(select(O).where(O.c.id.in_(chunk)).order_by(O.c.id)):
                    m = r._mapping
                    vs = by_org[m["id"]]
                    out.append(
                        {
                            "organisation_id": m["id"],
                            "id": m["id"],
                            "name": m["name"],
                            "place": m["place"],
                            "municipality": m["municipality"],
                            "contact_email": m["contact_email"],
                            "url": m["url"],
                            "allowed_origins": list(m["allowed_origins"] or []),
                            "is_volunteer_centre": bool(m["is_volunteer_centre"]),
                            "fictional": bool(m["fictional"]),
                            "vacancy_count": len(vs),
                            "vacancies": [
                                {
                                    "vacancy_id": v["vacancy_id"],
                                    "title": v["title"],
                                    "place": v["place"],
                                    "causes": v["causes"],
                                    "activities": v["activities"],
                                    "remote": v["remote"],
                                }
                                for v in vs
                            ],
                        }
                    )
    finally:
        engine.dispose()
    return out


def organisation_origins(url: str) -> dict[str, list[str]]:
    """organisation id -> allowed widget origins (for the widget's CORS check)."""
    from sqlalchemy import select

    from bot.store.db import get_sync_engine
    from bot.store.organisations import ORGANISATIONS as O

    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(O.c.id, O.c.allowed_origins)).all()
    finally:
        engine.dispose()
    return {r[0]: list(r[1] or []) for r in rows}

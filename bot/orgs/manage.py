"""An organisation's own vacancies: add, edit, close — with the importer's rules.

Used by /admin/vacancies (HTML form) and /api/org/vacancies (JSON). Input is validated by
bot/orgs/rows.parse_row, exactly like an import row; only the vacancy is written (the
organisation's own details are not overwritten by a vacancy's contact fields).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.orgs.queries import Filters, list_vacancies
from bot.orgs.rows import VACANCY_FIELDS

EDITABLE = VACANCY_FIELDS  # what the form and the JSON API accept
CLOSED_BY_ORGANISATION = "closed"


class NotFound(Exception):
    """No such vacancy for this organisation (never says whether it exists elsewhere)."""


class Invalid(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def own_vacancies(db_url: str, organisation_id: str) -> list[dict[str, Any]]:
    """All of the organisation's vacancies, open and closed."""
    return list_vacancies(
        db_url, Filters(organisation_id=organisation_id, open_only=False, limit=0)
    )


def own_vacancy(db_url: str, organisation_id: str, vacancy_id: str) -> dict[str, Any]:
    for v in own_vacancies(db_url, organisation_id):
        if v["vacancy_id"] == vacancy_id:
            return v
    raise NotFound(vacancy_id)


def _organisation(conn: Any, organisation_id: str) -> Mapping[str, Any] | None:
    from sqlalchemy import select

    from bot.store.organisations import ORGANISATIONS as O

    return conn.execute(select(O).where(O.c.id == organisation_id)).mappings().first()


def save_vacancy(
    db_url: str,
    organisation_id: str,
    data: Mapping[str, Any],
    now: datetime,
    vacancy_id: str | None = None,
) -> dict[str, Any]:
    """Create (no `vacancy_id`) or replace one vacancy of `organisation_id`.

    Raises Invalid with every problem (the import's messages), or NotFound."""
    from sqlalchemy import select

    from bot.orgs.importer import _CachedGeo, _upsert, vacancy_values
    from bot.orgs.rows import parse_row
    from bot.store.db import get_sync_engine
    from bot.store.organisations import ORGANISATIONS
    from bot.store.organisations import VACANCIES as V

    engine = get_sync_engine(db_url)
    try:
        with engine.begin() as conn:
            org = _organisation(conn, organisation_id)
            old = None
            if vacancy_id is not None:
                old = conn.execute(select(V).where(V.c.id == vacancy_id)).mappings().first()
                if old is None or old["organisation_id"] != organisation_id:
                    raise NotFound(vacancy_id)
            name = org["name"] if org is not None else data.get("organisation_name")
            raw = {k: data.get(k) for k in EDITABLE}
            raw.update(
                vacancy_id=vacancy_id or f"{organisation_id[:48]}-{secrets.token_hex(4)}",
                organisation_id=organisation_id,
                organisation_name=name,
            )
            parsed = parse_row(raw, _CachedGeo())
            if parsed.errors:
                raise Invalid(parsed.errors)
            assert parsed.vacancy is not None and parsed.org is not None
            values = vacancy_values(parsed.vacancy, now)
            if old is not None:
                for key in ("feed_id", "external_id", "source_hash", "unmapped", "created_at"):
                    values[key] = old[key]
                if old["closed_at"] is not None:
                    values.update(closed_at=old["closed_at"], closed_reason=old["closed_reason"])
            if org is None:
                org_values = {**vars(parsed.org), "created_at": now, "updated_at": now}
                conn.execute(ORGANISATIONS.insert().values(**org_values))
            _upsert(conn, V, [values], keep=("id", "created_at"))
    finally:
        engine.dispose()
    from bot.recommender import invalidate_catalogues

    invalidate_catalogues(db_url)
    return own_vacancy(db_url, organisation_id, parsed.vacancy.id)


def set_closed(
    db_url: str, organisation_id: str, vacancy_id: str, now: datetime, closed: bool = True
) -> dict[str, Any]:
    """Close (hide) or reopen one of the organisation's vacancies; never deletes it."""
    from sqlalchemy import update

    from bot.store.organisations import VACANCIES as V

    own_vacancy(db_url, organisation_id, vacancy_id)  # NotFound otherwise
    values: dict[str, Any] = (
        {"closed_at": now, "closed_reason": CLOSED_BY_ORGANISATION}
        if closed
        else {"closed_at": None, "closed_reason": None, "last_confirmed_at": now}
    )
    from bot.store.db import get_sync_engine

    engine = get_sync_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(V)
                .where(V.c.id == vacancy_id, V.c.organisation_id == organisation_id)
                .values(**values, updated_at=now)
            )
    finally:
        engine.dispose()
    from bot.recommender import invalidate_catalogues

    invalidate_catalogues(db_url)
    return own_vacancy(db_url, organisation_id, vacancy_id)

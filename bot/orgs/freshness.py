"""Freshness: "nog nodig?" for vacancies nobody has touched for weeks, and notices.

The e-mail (with a signed one-tap link) and the job that sends it live elsewhere; they use:
- `stale_vacancies(db_url, now, weeks)`: open vacancies not confirmed or modified for
  `weeks` and not asked yet, with the address to ask;
- `mark_asked(db_url, vacancy_id, now)`: the question went out (starts the grace period);
- `confirm_open(db_url, vacancy_id, now)`: the organisation tapped "still open";
- `hide_unconfirmed(db_url, now, grace_days)`: silence for `grace_days` after asking hides
  the vacancy (closed, reason `unconfirmed`; confirming later opens it again);
- `pending_notices(db_url)` / `mark_notice_sent(db_url, notice_id, now)`: what an
  organisation must still be told (e.g. a withdrawn vacancy with open leads).
Feed vacancies are kept fresh by their feed, so they are not asked unless `include_feeds`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

UNCONFIRMED = "unconfirmed"


def _engine(db_url: str) -> Any:
    from bot.store.db import get_sync_engine

    return get_sync_engine(db_url)


def stale_vacancies(
    db_url: str, now: datetime, weeks: int, include_feeds: bool = False
) -> list[dict[str, Any]]:
    from sqlalchemy import func, select

    from bot.store.organisations import ORGANISATIONS as O
    from bot.store.organisations import VACANCIES as V

    cutoff = now - timedelta(weeks=weeks)
    seen = func.coalesce(V.c.last_confirmed_at, V.c.modified_at, V.c.updated_at)
    stmt = (
        select(
            V.c.id,
            V.c.organisation_id,
            V.c.title,
            func.coalesce(V.c.contact_email, O.c.contact_email).label("email"),
            seen.label("seen"),
        )
        .select_from(V.join(O, O.c.id == V.c.organisation_id))
        .where(V.c.closed_at.is_(None), V.c.confirm_asked_at.is_(None), seen < cutoff)
        .order_by(V.c.id)
    )
    if not include_feeds:
        stmt = stmt.where(V.c.feed_id.is_(None))
    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            return [
                {
                    "vacancy_id": r.id,
                    "organisation_id": r.organisation_id,
                    "title": r.title,
                    "contact_email": r.email,
                    "last_seen": r.seen,
                }
                for r in conn.execute(stmt)
            ]
    finally:
        engine.dispose()


def _update(db_url: str, where: Any, **values: Any) -> list[str]:
    from sqlalchemy import select, update

    from bot.store.organisations import VACANCIES as V

    engine = _engine(db_url)
    try:
        with engine.begin() as conn:
            ids = list(conn.execute(select(V.c.id).where(where)).scalars())
            if ids:
                conn.execute(update(V).where(V.c.id.in_(ids)).values(**values))
    finally:
        engine.dispose()
    if ids:
        from bot.recommender import invalidate_catalogues

        invalidate_catalogues(db_url)
    return sorted(ids)


def mark_asked(db_url: str, vacancy_id: str, now: datetime) -> bool:
    from bot.store.organisations import VACANCIES as V

    return bool(_update(db_url, V.c.id == vacancy_id, confirm_asked_at=now))


def confirm_open(db_url: str, vacancy_id: str, now: datetime) -> bool:
    """ "Still open": confirmed now; a vacancy hidden for silence comes back. False: no such
    vacancy, or it was closed for another reason (withdrawn, closed by the organisation)."""
    from sqlalchemy import and_, or_

    from bot.store.organisations import VACANCIES as V

    where = and_(
        V.c.id == vacancy_id, or_(V.c.closed_at.is_(None), V.c.closed_reason == UNCONFIRMED)
    )
    return bool(
        _update(
            db_url,
            where,
            last_confirmed_at=now,
            confirm_asked_at=None,
            closed_at=None,
            closed_reason=None,
            updated_at=now,
        )
    )


def hide_unconfirmed(db_url: str, now: datetime, grace_days: int) -> list[str]:
    """Hide vacancies asked about more than `grace_days` ago without an answer."""
    from sqlalchemy import and_

    from bot.store.organisations import VACANCIES as V

    where = and_(
        V.c.closed_at.is_(None),
        V.c.confirm_asked_at.is_not(None),
        V.c.confirm_asked_at <= now - timedelta(days=grace_days),
    )
    return _update(db_url, where, closed_at=now, closed_reason=UNCONFIRMED, updated_at=now)


def pending_notices(db_url: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from bot.store.organisations import NOTICES

    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            stmt = select(NOTICES).where(NOTICES.c.sent_at.is_(None)).order_by(NOTICES.c.id)
            return [dict(r) for r in conn.execute(stmt).mappings()]
    finally:
        engine.dispose()


def mark_notice_sent(db_url: str, notice_id: int, now: datetime) -> None:
    from sqlalchemy import update

    from bot.store.organisations import NOTICES

    engine = _engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(update(NOTICES).where(NOTICES.c.id == notice_id).values(sent_at=now))
    finally:
        engine.dispose()

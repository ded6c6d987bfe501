"""One feed's checked records -> the database, in one transaction, touching only what changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.orgs.feeds import SyncReport

WITHDRAWN = "withdrawn"
REOPENABLE = (WITHDRAWN, "expired_feed")


def open_lead_counts(conn: Any, ids: list[str]) -> dict[str, int]:
    """vacancy id -> leads still waiting (status 'new')."""
    from sqlalchemy import func, select

    from bot.store.conversations import leads

    if not ids:
        return {}
    stmt = (
        select(leads.c.vacancy_id, func.count())
        .where(leads.c.vacancy_id.in_(ids), leads.c.status == "new")
        .group_by(leads.c.vacancy_id)
    )
    return {vid: int(n) for vid, n in conn.execute(stmt)}


def apply_feed(
    db_url: str,
    *,
    feed: dict[str, Any],
    checked: list[tuple[Any, Any, str]],
    listed: set[str],
    report: SyncReport,
    now: datetime,
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    from sqlalchemy import select, update

    from bot.orgs.dedupe import dedupe
    from bot.orgs.importer import _upsert, vacancy_values
    from bot.store.db import get_sync_engine
    from bot.store.organisations import FEEDS, NOTICES
    from bot.store.organisations import VACANCIES as V

    ids = [v.id for _, v, _ in checked]
    engine = get_sync_engine(db_url)
    try:
        with engine.begin() as conn:
            existing: dict[str, Any] = {}
            for i in range(0, len(ids), 5000):
                chunk = ids[i : i + 5000]
                stmt = select(V.c.id, V.c.source_hash, V.c.closed_at, V.c.closed_reason).where(
                    V.c.id.in_(chunk)
                )
                existing.update({r.id: r for r in conn.execute(stmt)})
            orgs: dict[str, dict[str, Any]] = {}
            rows: list[dict[str, Any]] = []
            for org, vacancy, digest in checked:
                old = existing.get(vacancy.id)
                reopen = old is not None and old.closed_reason in REOPENABLE
                if old is not None and old.source_hash == digest and not reopen:
                    report.unchanged += 1
                    continue
                values = vacancy_values(vacancy, now, source_hash=digest)
                if old is None:
                    report.created.append(vacancy.id)
                elif reopen:
                    report.reopened.append(vacancy.id)
                else:
                    report.updated.append(vacancy.id)
                    if old.closed_at is not None:  # closed by the organisation: stays closed
                        values.update(closed_at=old.closed_at, closed_reason=old.closed_reason)
                rows.append(values)
                orgs.setdefault(org.id, {**vars(org), "created_at": now, "updated_at": now})
            _upsert(conn, _org_table(), list(orgs.values()), keep=("id", "created_at"))
            _upsert(conn, V, rows, keep=("id", "created_at"))
            if progress is not None:
                progress("applying", len(rows), len(rows))
            # A record that failed validation is still listed: it keeps its last good version.
            _withdraw(conn, feed, set(ids) | listed, report, now)
            report.duplicates = dedupe(conn, now)
            counts = {
                "created": len(report.created),
                "updated": len(report.updated),
                "reopened": len(report.reopened),
                "unchanged": report.unchanged,
                "withdrawn": len(report.withdrawn),
                "duplicates": len(report.duplicates),
                "rejected": len(report.rejected),
            }
            values = {**feed, "last_sync": now, "counts": counts}
            found = conn.execute(select(FEEDS.c.id).where(FEEDS.c.id == feed["id"])).first()
            if found is None:
                conn.execute(FEEDS.insert().values(**values, created_at=now))
            else:
                conn.execute(update(FEEDS).where(FEEDS.c.id == feed["id"]).values(**values))
            if report.notices:
                conn.execute(NOTICES.insert(), [{**n, "created_at": now} for n in report.notices])
    finally:
        engine.dispose()
    from bot.recommender import invalidate_catalogues

    invalidate_catalogues(db_url)


def _org_table() -> Any:
    from bot.store.organisations import ORGANISATIONS

    return ORGANISATIONS


def _withdraw(
    conn: Any, feed: dict[str, Any], present: set[str], report: SyncReport, now: datetime
) -> None:
    """Open vacancies of this feed that the feed no longer lists: closed, never deleted.
    Where people are waiting on one, the organisation gets a notice."""
    from sqlalchemy import select, update

    from bot.store.organisations import VACANCIES as V

    rows = conn.execute(
        select(V.c.id, V.c.organisation_id, V.c.title).where(
            V.c.feed_id == feed["id"], V.c.closed_at.is_(None)
        )
    ).all()
    gone = [r for r in rows if r.id not in present]
    if not gone:
        return
    gone_ids = [r.id for r in gone]
    conn.execute(
        update(V)
        .where(V.c.id.in_(gone_ids))
        .values(closed_at=now, closed_reason=WITHDRAWN, updated_at=now)
    )
    report.withdrawn = sorted(gone_ids)
    waiting = open_lead_counts(conn, gone_ids)
    for r in gone:
        if waiting.get(r.id):
            report.notices.append(
                {
                    "vacancy_id": r.id,
                    "organisation_id": r.organisation_id,
                    "kind": WITHDRAWN,
                    "data": {
                        "title": r.title,
                        "open_leads": waiting[r.id],
                        "feed_url": feed["url"],
                    },
                }
            )

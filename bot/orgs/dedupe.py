"""The same vacancy published by several feeds: keep the most recently modified one.

Two vacancies from different feeds are the same when their organisations have the same
normalised name, their titles are near-identical (rapidfuzz) and they are within 1 km of
each other (or both have no location). The others are hidden (closed, reason `duplicate`,
`duplicate_of` the one kept) and come back by themselves when the kept one goes away.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

TITLE_SCORE = 90.0
MAX_KM = 1.0
DUPLICATE = "duplicate"
_LEGAL = re.compile(r"\b(stichting|vereniging|st|ver|bv|b v|nv)\b")


def normalise(text: str) -> str:
    """Lower case, no accents or punctuation, no legal form: 'Stichting De Linde' -> 'de linde'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    plain = re.sub(r"[^a-z0-9]+", " ", plain)
    return " ".join(_LEGAL.sub(" ", plain).split())


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _same_place(a: Any, b: Any) -> bool:
    from bot.geo.distance import haversine_km

    if a.lat is None or b.lat is None:
        return a.lat is None and b.lat is None
    return bool(haversine_km(a.lat, a.lon, b.lat, b.lon) <= MAX_KM)


def dedupe(conn: Any, now: datetime) -> list[str]:
    """Hide duplicates among feed vacancies; return the ids newly hidden."""
    from rapidfuzz import fuzz
    from sqlalchemy import or_, select, update

    from bot.store.organisations import ORGANISATIONS as O
    from bot.store.organisations import VACANCIES as V

    stmt = (
        select(
            V.c.id,
            V.c.feed_id,
            V.c.title,
            V.c.lat,
            V.c.lon,
            V.c.modified_at,
            V.c.closed_reason,
            V.c.duplicate_of,
            O.c.name,
        )
        .select_from(V.join(O, O.c.id == V.c.organisation_id))
        .where(
            V.c.feed_id.is_not(None),
            or_(V.c.closed_at.is_(None), V.c.closed_reason == DUPLICATE),
        )
    )
    groups: dict[str, list[Any]] = {}
    for r in conn.execute(stmt):
        groups.setdefault(normalise(r.name), []).append(r)
    hidden: list[str] = []
    for rows in groups.values():
        winners: dict[str, str | None]
        if len({r.feed_id for r in rows}) < 2:
            winners = dict.fromkeys((r.id for r in rows), None)
        else:
            winners = _winners(
                rows, lambda a, b: max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b))
            )
        for r in rows:
            keep = winners.get(r.id, "")
            if keep is None and r.closed_reason == DUPLICATE:
                conn.execute(
                    update(V)
                    .where(V.c.id == r.id)
                    .values(closed_at=None, closed_reason=None, duplicate_of=None, updated_at=now)
                )
            elif keep and (r.closed_reason != DUPLICATE or r.duplicate_of != keep):
                conn.execute(
                    update(V)
                    .where(V.c.id == r.id)
                    .values(
                        closed_at=now, closed_reason=DUPLICATE, duplicate_of=keep, updated_at=now
                    )
                )
                if r.closed_reason != DUPLICATE:
                    hidden.append(r.id)
    return sorted(hidden)


def _winners(rows: list[Any], ratio: Any) -> dict[str, str | None]:
    """id -> None (kept) or the id of the vacancy it duplicates."""
    parent = {r.id: r.id for r in rows}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    titles = {r.id: normalise(r.title) for r in rows}
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if a.feed_id == b.feed_id or not _same_place(a, b):
                continue
            if ratio(titles[a.id], titles[b.id]) >= TITLE_SCORE:
                parent[find(a.id)] = find(b.id)
    clusters: dict[str, list[Any]] = {}
    for r in rows:
        clusters.setdefault(find(r.id), []).append(r)
    out: dict[str, str | None] = {}
    for members in clusters.values():
        best = max(members, key=lambda r: (_aware(r.modified_at), r.id))
        for r in members:
            out[r.id] = None if r is best else best.id
    return out

"""Responsiveness in the ranking: a vacancy with too many unanswered leads is not recommended
until they are answered; organisations that let leads pass the deadline rank lower.

- `open_leads(conn)` -> {vacancy_id: unanswered leads}
- `penalties(conn, now)` -> {organisation_id: 0..MAX_PENALTY}
- `ResponsiveSource(source, responsiveness)` wraps the recommender's candidate source (the
  catalogue); `await apply(catalogue, url)` is the one call the recommender makes.
Figures are cached for `TTL_S` seconds per database: the recommender runs per message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import clock
from bot.leads import store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from quiz.ranking import CandidateSource, Query, Scored

TTL_S = 30.0
PENALTY_PER_LATE_LEAD = 0.1
MAX_PENALTY = 0.5
WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class Responsiveness:
    paused: frozenset[str] = frozenset()  # vacancy ids with too many unanswered leads
    penalty: dict[str, float] = field(default_factory=dict)  # organisation id -> 0..MAX

    @property
    def neutral(self) -> bool:
        return not self.paused and not self.penalty


async def open_leads(conn: AsyncConnection) -> dict[str, int]:
    return {v: n for v, (n, _limit) in (await store.open_counts(conn)).items()}


async def paused_vacancies(conn: AsyncConnection, default_max: int) -> frozenset[str]:
    counts = await store.open_counts(conn)
    return frozenset(
        v for v, (n, limit) in counts.items() if n >= (limit if limit is not None else default_max)
    )


async def penalties(conn: AsyncConnection, now: datetime) -> dict[str, float]:
    late = await store.overdue_counts(conn, now - WINDOW)
    return {org: min(MAX_PENALTY, PENALTY_PER_LATE_LEAD * n) for org, n in late.items() if n}


_cache: dict[str, tuple[float, Responsiveness]] = {}


async def load(database_url: str, default_max: int | None = None) -> Responsiveness:
    """The current figures (cached `TTL_S`); `default_max` defaults to VK_LEAD_MAX_OPEN."""
    from bot.store.db import async_url, get_engine

    if default_max is None:
        from bot.config import get_settings

        default_max = get_settings().lead_max_open
    url = async_url(database_url)
    hit = _cache.get(url)
    if hit is not None and time.monotonic() - hit[0] < TTL_S:
        return hit[1]
    async with get_engine(url).connect() as conn:
        value = Responsiveness(
            await paused_vacancies(conn, default_max),
            await penalties(conn, clock.now()),
        )
    _cache[url] = (time.monotonic(), value)
    return value


def forget() -> None:
    _cache.clear()


class ResponsiveSource:
    """A CandidateSource that leaves out paused vacancies and lowers late organisations."""

    def __init__(self, inner: CandidateSource, responsiveness: Responsiveness) -> None:
        self.inner = inner
        self.r = responsiveness

    def ranked(self, query: Query, ring: tuple[float, float] | None, top: int) -> list[Scored]:
        from quiz.ranking import Scored, sort_key

        if self.r.neutral:
            return self.inner.ranked(query, ring, top)
        # Look further ahead: paused ones drop out, penalised ones may fall behind others.
        wider = self.inner.ranked(query, ring, top * 2 + len(self.r.paused))
        kept = [
            Scored(
                s.candidate,
                s.distance_km,
                s.score * (1.0 - self.r.penalty.get(s.candidate.organisation_id, 0.0)),
                s.tier,
            )
            for s in wider
            if s.candidate.vacancy_id not in self.r.paused
        ]
        kept.sort(key=sort_key)
        return kept[:top]

    def centre(self, query: Query) -> Scored | None:
        return self.inner.centre(query)  # the volunteer centre is the fallback: never paused


async def apply(source: CandidateSource, database_url: str) -> CandidateSource:
    """The recommender's hook: its catalogue, adjusted for responsiveness."""
    responsiveness = await load(database_url)
    return source if responsiveness.neutral else ResponsiveSource(source, responsiveness)

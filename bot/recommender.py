"""The recommender hook of the pipeline: `await recommender(query, offset, limit)`.

Vacancies are loaded from the database once into an in-memory catalogue: a grid index over
their locations and column arrays of what ranking needs. A query then touches only the grid
cells around the person and scores those candidates with vectorised arithmetic — the same
sum, in the same order, as the pure reference in quiz/ranking.py (tests check they agree);
quiz/ranking.py then applies fallbacks, diversity and reasons to the short list.

The catalogue reloads when the data changes: an import in this process invalidates it at
once; changes made elsewhere (another process, a replica) are noticed by a cheap signature
query (counts and last update times) at most every `refresh_s` seconds.
"""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from bot.geo.distance import haversine_many_km
from bot.geo.spatial import GridIndex
from bot.leads.ranking import apply as responsive
from quiz.model import ACTIVITIES, CAUSES, CONSENT_AGE, DAYPARTS, OFFERS, WEEKDAYS
from quiz.ranking import (
    DECAY_KM,
    REMOTE_PROXIMITY,
    WEIGHTS,
    Candidate,
    Query,
    Scored,
    Texts,
    activity_affinity,
    is_short,
    mask,
    recommend,
)

if TYPE_CHECKING:
    from bot.config import Settings

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

NO_DISTANCE = 1e9  # sorts like quiz.ranking.sort_key's "no distance"


class _Columns:
    """Column arrays over a list of candidates (the ranking's inputs)."""

    def __init__(self, items: Sequence[Candidate], id_rank: Mapping[str, int]) -> None:
        self.items = list(items)
        n = len(self.items)
        nan = float("nan")
        self.lat = np.fromiter((nan if c.lat is None else c.lat for c in self.items), np.float64, n)
        self.lon = np.fromiter((nan if c.lon is None else c.lon for c in self.items), np.float64, n)
        self.min_age = np.fromiter((c.min_age or 0 for c in self.items), np.int64, n)
        self.min_age_known = np.fromiter((c.min_age is not None for c in self.items), np.bool_, n)
        self.offers = np.fromiter((mask(c.offers, OFFERS) for c in self.items), np.int64, n)
        self.hours_min = np.fromiter((c.hours_min or 0.0 for c in self.items), np.float64, n)
        self.short = np.fromiter((is_short(c) for c in self.items), np.bool_, n)
        self.activities = np.fromiter(
            (mask(c.activities, ACTIVITIES) for c in self.items), np.int64, n
        )
        self.causes = np.fromiter((mask(c.causes, CAUSES) for c in self.items), np.int64, n)
        self.days = np.fromiter((mask(c.days, WEEKDAYS) for c in self.items), np.int64, n)
        self.dayparts = np.fromiter((mask(c.dayparts, DAYPARTS) for c in self.items), np.int64, n)
        self.one_off = np.fromiter((c.one_off for c in self.items), np.bool_, n)
        self.rank = np.fromiter((id_rank[c.vacancy_id] for c in self.items), np.int64, n)

    def __len__(self) -> int:
        return len(self.items)


_BITS = (np.arange(1 << len(ACTIVITIES))[:, None] >> np.arange(len(ACTIVITIES))) & 1 == 1


def _act_table(query: Query) -> FloatArray:
    """quiz.ranking.activity_table, vectorised: mask -> best matching affinity."""
    aff = activity_affinity(query)
    per_bit = np.array([aff.get(a, 0.0) for a in ACTIVITIES], dtype=np.float64)
    table: FloatArray = np.where(_BITS, per_bit, 0.0).max(axis=1)
    return table


class Catalogue:
    """All vacancies in memory: local ones in a grid index, remote ones, volunteer centres.

    Implements quiz.ranking.CandidateSource.
    """

    def __init__(self, candidates: Sequence[Candidate], cell_km: float = 4.0) -> None:
        ranked_ids = sorted(c.vacancy_id for c in candidates)
        id_rank = {vid: i for i, vid in enumerate(ranked_ids)}
        local = [c for c in candidates if not c.remote and not c.is_volunteer_centre]
        local = [c for c in local if c.lat is not None and c.lon is not None]
        self.local = _Columns(local, id_rank)
        self.remote = _Columns(
            [c for c in candidates if c.remote and not c.is_volunteer_centre], id_rank
        )
        self.index = GridIndex(self.local.lat, self.local.lon, cell_km=cell_km)
        centres = [c for c in candidates if c.is_volunteer_centre and c.lat is not None]
        self.centres = sorted(centres, key=lambda c: c.vacancy_id)
        self.centre_index = GridIndex(
            [c.lat or 0.0 for c in self.centres], [c.lon or 0.0 for c in self.centres]
        )
        self.centre_by_municipality: dict[str, Candidate] = {}
        for c in self.centres:
            if c.municipality and c.municipality not in self.centre_by_municipality:
                self.centre_by_municipality[c.municipality] = c
        self.size = len(candidates)

    # ---------------------------------------------------------------- CandidateSource

    def ranked(self, query: Query, ring: tuple[float, float] | None, top: int) -> list[Scored]:
        if ring is None:
            cols = self.remote
            idx: IntArray = np.arange(len(cols), dtype=np.int64)
            dist: FloatArray | None = None
            if query.located and len(cols):
                assert query.lat is not None and query.lon is not None
                dist = haversine_many_km(query.lat, query.lon, cols.lat, cols.lon)
                dist = np.where(np.isnan(dist), NO_DISTANCE, dist)
        else:
            if not query.located:
                return []
            assert query.lat is not None and query.lon is not None
            cols = self.local
            idx, dist = self.index.within(query.lat, query.lon, ring[1])
            if ring[0] >= 0:
                keep = dist > ring[0]
                idx, dist = idx[keep], dist[keep]
        if not len(idx):
            return []
        keep = np.ones(len(idx), dtype=np.bool_)
        if query.age is not None:
            keep &= cols.min_age[idx] <= query.age
            if query.age < CONSENT_AGE:
                keep &= cols.min_age_known[idx]
        if query.max_hours is not None:
            keep &= cols.hours_min[idx] <= query.max_hours
        if query.hours_per_week is not None:
            # One-off tasks are not weekly work: their hours never rule them out.
            keep &= cols.one_off[idx] | (cols.hours_min[idx] <= query.hours_per_week)
        if not keep.all():
            idx = idx[keep]
            if dist is not None:
                dist = dist[keep]
        if not len(idx):
            return []
        score = self._score(query, cols, idx, None if ring is None else dist)
        order = self._top(score, dist, cols.rank[idx], top)
        tier = "remote" if ring is None else "near"
        items = cols.items
        picked = idx[order].tolist()
        scores = score[order].tolist()
        dists: list[float | None] = (
            [None] * len(picked)
            if dist is None
            else [None if d >= NO_DISTANCE else d for d in dist[order].tolist()]
        )
        return [
            Scored(items[i], d, sc, tier) for i, d, sc in zip(picked, dists, scores, strict=True)
        ]

    def centre(self, query: Query) -> Scored | None:
        chosen: Candidate | None = None
        if query.municipality:
            chosen = self.centre_by_municipality.get(query.municipality)
        if chosen is None and query.located and self.centres:
            assert query.lat is not None and query.lon is not None
            near, _ = self.centre_index.nearest(query.lat, query.lon, 1)
            chosen = self.centres[int(near[0])]
        if chosen is None:
            return None
        dist = None
        if query.located and chosen.lat is not None and chosen.lon is not None:
            assert query.lat is not None and query.lon is not None
            dist = float(
                haversine_many_km(
                    query.lat, query.lon, np.array([chosen.lat]), np.array([chosen.lon])
                )[0]
            )
        from quiz.ranking import score as pure_score

        return Scored(chosen, dist, pure_score(query, chosen, dist), "centre")

    # ---------------------------------------------------------------- vectorised scoring

    @staticmethod
    def _score(query: Query, cols: _Columns, idx: IntArray, dist: FloatArray | None) -> FloatArray:
        """quiz.ranking.score for many candidates: same terms, same order."""
        w = WEIGHTS
        n = len(idx)
        if dist is None:
            prox: FloatArray | float = REMOTE_PROXIMITY
        else:
            prox = 1.0 / (1.0 + dist / DECAY_KM)
        act = _act_table(query)[cols.activities[idx]] if query.activities else 0.0
        if query.causes:
            cause: FloatArray | float = (
                (cols.causes[idx] & mask(query.causes, CAUSES)) != 0
            ).astype(np.float64)
        else:
            cause = 0.0
        time_fit: FloatArray | float = 0.0
        if query.days or query.dayparts:
            if query.days:
                d = cols.days[idx]
                day_ok = ((d == 0) | ((d & mask(query.days, WEEKDAYS)) != 0)).astype(np.float64)
            else:
                day_ok = np.ones(n)
            if query.dayparts:
                p = cols.dayparts[idx]
                part_ok = ((p == 0) | ((p & mask(query.dayparts, DAYPARTS)) != 0)).astype(
                    np.float64
                )
            else:
                part_ok = np.ones(n)
            time_fit = (day_ok + part_ok) / 2.0
        commit: FloatArray | float = 0.0
        if query.commitment == "one_off":
            commit = cols.one_off[idx].astype(np.float64)
        elif query.little_time:
            commit = (cols.one_off[idx] | cols.short[idx]).astype(np.float64)
        elif query.commitment == "regular":
            commit = (~cols.one_off[idx]).astype(np.float64)
        offer: FloatArray | float = 0.0
        if query.offers:
            offer = ((cols.offers[idx] & mask(query.offers, OFFERS)) != 0).astype(np.float64)
        total = (
            w.distance * prox
            + w.activity * act
            + w.cause * cause
            + w.time * time_fit
            + w.commitment * commit
            + w.offer * offer
        )
        out = np.broadcast_to(np.asarray(total / w.total, dtype=np.float64), (n,))
        return np.array(out)

    @staticmethod
    def _top(score: FloatArray, dist: FloatArray | None, rank: IntArray, top: int) -> IntArray:
        """Positions of the `top` best, ordered like quiz.ranking.sort_key."""
        n = len(score)
        sel: IntArray = np.arange(n, dtype=np.int64)
        if n > top:
            kth = np.partition(-score, top - 1)[top - 1]
            sel = np.flatnonzero(-score <= kth)
        d = dist[sel] if dist is not None else np.full(len(sel), NO_DISTANCE)
        order = np.lexsort((rank[sel], d, -score[sel]))
        result: IntArray = sel[order][:top]
        return result


# --------------------------------------------------------------------------- the hook


def prepare_query(data: Mapping[str, Any]) -> Query:
    """The engine's / CLI's query with a location: resolve postcode or place when lat/lon
    are missing, and name the municipality (for the volunteer-centre fallback)."""
    from bot.geo.gazetteer import get_gazetteer

    query = Query.from_dict(data)
    values: dict[str, Any] = {}
    if not query.located:
        gaz = get_gazetteer()
        for key in ("postcode", "place"):
            text = data.get(key)
            if isinstance(text, str) and text.strip():
                match = gaz.resolve(text, lang=query.lang)
                if match is not None:
                    values.update(lat=match.lat, lon=match.lon)
                    values.setdefault("municipality", query.municipality or match.municipality)
                    break
    elif not query.municipality:
        assert query.lat is not None and query.lon is not None
        values["municipality"] = get_gazetteer().reverse(query.lat, query.lon).municipality
    if not values:
        return query
    return Query(**{**{f: getattr(query, f) for f in query.__dataclass_fields__}, **values})


_registry: weakref.WeakSet[Recommender] = weakref.WeakSet()


def invalidate_catalogues(url: str | None = None) -> None:
    """Data changed in this process: reload on the next query."""
    from bot.store.db import async_url

    target = async_url(url) if url else None
    for rec in list(_registry):
        if target is None or rec.url == target:
            rec.stale = True


class Recommender:
    """The pipeline's recommender hook over the organisations/vacancies tables."""

    def __init__(
        self, settings: Settings, texts: Texts | None = None, refresh_s: float = 10.0
    ) -> None:
        from bot.store.db import async_url

        self.url = async_url(settings.database_url)
        self.texts = texts
        self.refresh_s = refresh_s
        self.stale = True
        self._catalogue: Catalogue | None = None
        self._signature: tuple[Any, ...] | None = None
        self._checked = 0.0
        self._day: date | None = None
        self._lock = asyncio.Lock()
        _registry.add(self)

    def _texts(self) -> Texts:
        if self.texts is None:
            from bot.content import default_quiz

            self.texts = default_quiz()
        return self.texts

    async def _current_signature(self, today: date) -> tuple[Any, ...]:
        from bot.orgs.queries import catalogue_signature_sql
        from bot.store.db import get_engine

        async with get_engine(self.url).connect() as conn:
            row = (await conn.execute(catalogue_signature_sql())).one()
        # The date is part of it: the catalogue leaves out expired vacancies, so a new day
        # rebuilds it (no per-query expiry check).
        return (*(str(v) for v in row), today.isoformat())

    async def catalogue(self) -> Catalogue:
        """The in-memory catalogue, reloaded when the data has changed."""
        from bot.clock import now as clock_now

        # Expired vacancies are left out when the catalogue is built: a new day rebuilds it.
        today = clock_now().date()
        now = time.monotonic()
        if (
            self._catalogue is not None
            and not self.stale
            and now - self._checked < self.refresh_s
            and today == self._day
        ):
            return self._catalogue
        async with self._lock:
            now = time.monotonic()
            if (
                self._catalogue is not None
                and not self.stale
                and now - self._checked < self.refresh_s
                and today == self._day
            ):
                return self._catalogue
            signature = await self._current_signature(today)
            if self._catalogue is None or signature != self._signature:
                from bot.orgs.queries import load_candidates

                candidates = await asyncio.to_thread(load_candidates, self.url, today)
                self._catalogue = await asyncio.to_thread(Catalogue, candidates)
                # Hundreds of thousands of long-lived objects: keep them out of the cyclic
                # collector's full passes, which would otherwise add pauses to queries.
                gc.freeze()
                self._signature = signature
            self._checked = time.monotonic()
            self._day = today
            self.stale = False
            return self._catalogue

    async def __call__(
        self, query: dict[str, Any], offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        catalogue = await self.catalogue()
        source = await responsive(catalogue, self.url)  # unanswered leads (bot.leads.ranking)
        page = recommend(prepare_query(query), source, self._texts(), offset, limit)
        return page.items, page.more_available


def build(settings: Settings) -> Recommender:
    """A recommender for tools and tests that build a pipeline without bot.runtime."""
    return Recommender(settings)

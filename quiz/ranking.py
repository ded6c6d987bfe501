"""Rank candidate vacancies for a quiz result. Pure: candidates come in through a source.

The rules, in one place:

* Hard limits (never broken): inside the travel radius unless the work is remote, the
  person's age meets the minimum age, the weekly hours fit (the vacancy's minimum hours are
  at most what the person offers; one-off work is not weekly, so never ruled out by them).
  Under 16 (the age of consent, quiz.model.CONSENT_AGE) only work whose minimum age is known
  and allows them, and at most `max_hours` (a few hours), one-off work included.
* Soft fit, a weighted sum (see WEIGHTS): distance decay, the profile's activity affinities
  against the vacancy's activities (matching motives and roles predict satisfaction — Stukas
  et al. 2009), what the work offers against the person's motive (the motive–offer match
  of Stukas et al. 2009), the causes the person chose, days and dayparts, one-off versus
  regular (with little time, one-off and short work are as welcome as weekly work).
  A VOG requirement is shown, never used to hide work.
* Diversity: at most one vacancy per organisation in the first five, and no more than three
  of one cause there unless the person chose that cause.
* Fallbacks, in order, so the answer is never empty: widen the radius step by step, remote
  work, the local volunteer centre.
* Every result carries its reasons in the person's language.

A `CandidateSource` supplies ranked, hard-limit-filtered candidates per distance ring. The
`ListSource` here scans a list (tests, small sets); the application's source answers the
same question from a spatial index and vectorised arithmetic and is tested to agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from quiz.model import ACTIVITIES, ADULT_AGE, CAUSES, CONSENT_AGE, DAYPARTS, OFFERS, WEEKDAYS

DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 50.0
DECAY_KM = 5.0  # distance at which the proximity part of the score has halved
REMOTE_PROXIMITY = 0.35  # proximity credit of remote work (about 9 km away)
STRONG_ACTIVITY = 0.5  # normalised affinity from which "past bij jouw kracht" is said
DIVERSE_TOP = 5  # diversity rules hold for this many first results
MAX_SAME_CAUSE = 3  # ... of one cause the person did not choose
MIN_RESULTS = 3  # fewer than this nearby: widen the radius (one chat page shows three)
LOOKAHEAD = 50  # candidates fetched beyond what a page needs, for the diversity swaps
LITTLE_TIME_HOURS = 1.0  # "Ik heb weinig tijd": short and one-off work count as a fit
SHORT_HOURS = 2.0  # ... short: at most this many hours


@dataclass(frozen=True)
class Weights:
    distance: float = 1.0
    activity: float = 1.2
    cause: float = 1.0
    time: float = 0.5
    commitment: float = 0.4
    offer: float = 0.6

    @property
    def total(self) -> float:
        return self.distance + self.activity + self.cause + self.time + self.commitment + self.offer


WEIGHTS = Weights()


class Texts(Protocol):
    """What ranking needs from the quiz content (quiz.model.Quiz satisfies it)."""

    @property
    def ui(self) -> Mapping[str, Mapping[str, str]]: ...

    def label(self, lang: str, taxonomy_id: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    """One vacancy as the ranking sees it (organisation fields flattened in)."""

    vacancy_id: str
    organisation_id: str
    organisation: str
    title: str
    lat: float | None = None
    lon: float | None = None
    causes: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()
    hours_min: float | None = None
    hours_max: float | None = None
    days: tuple[str, ...] = ()
    dayparts: tuple[str, ...] = ()
    one_off: bool = False
    remote: bool = False
    min_age: int | None = None
    vog_required: bool = False
    description: str = ""
    contact_email: str | None = None
    url: str | None = None
    fictional: bool = False
    is_volunteer_centre: bool = False
    place: str | None = None
    municipality: str | None = None
    offers: tuple[str, ...] = ()  # what the work gives a volunteer (quiz.model.OFFERS)


@dataclass(frozen=True)
class Query:
    """The practical answers and profile affinities that drive ranking."""

    lat: float | None = None
    lon: float | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    municipality: str | None = None
    causes: tuple[str, ...] = ()
    activities: Mapping[str, float] = field(default_factory=dict)
    hours_per_week: float | None = None
    days: tuple[str, ...] = ()
    dayparts: tuple[str, ...] = ()
    age: int | None = None
    commitment: str | None = None  # one_off | regular | both
    lang: str = "nl"
    offers: tuple[str, ...] = ()  # what the person's motive looks for (quiz.model.OFFERS)
    max_hours: float | None = None  # a cap on any work's hours, one-off included (minors)

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def little_time(self) -> bool:
        return self.hours_per_week is not None and self.hours_per_week <= LITTLE_TIME_HOURS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Query:
        """Tolerant parsing of the engine's / CLI's query dict; unknown ids are dropped."""

        def num(key: str) -> float | None:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                return None
            try:
                out = float(value)
            except ValueError:
                return None
            return out if math.isfinite(out) else None

        def ids(key: str, allowed: Sequence[str]) -> tuple[str, ...]:
            raw = data.get(key) or []
            if isinstance(raw, str):
                raw = [raw]
            return tuple(
                allowed[i] for i in sorted({allowed.index(x) for x in raw if x in allowed})
            )

        acts: dict[str, float] = {}
        raw_acts = data.get("activities") or {}
        if isinstance(raw_acts, list):
            raw_acts = {a: 1.0 for a in raw_acts}
        if isinstance(raw_acts, Mapping):
            for key, value in raw_acts.items():
                if key in ACTIVITIES and isinstance(value, int | float) and value > 0:
                    acts[key] = float(value)
        radius = num("radius_km")
        age = num("age")
        max_hours = num("max_hours")
        commitment = data.get("commitment")
        return cls(
            lat=num("lat"),
            lon=num("lon"),
            radius_km=radius if radius is not None and radius > 0 else DEFAULT_RADIUS_KM,
            municipality=data.get("municipality") or None,
            causes=ids("causes", CAUSES),
            activities=acts,
            hours_per_week=num("hours_per_week"),
            days=ids("days", WEEKDAYS),
            dayparts=ids("dayparts", DAYPARTS),
            age=int(age) if age is not None else None,
            commitment=commitment if commitment in ("one_off", "regular", "both") else None,
            lang=str(data.get("lang") or "nl"),
            offers=ids("offers", OFFERS),
            max_hours=max_hours if max_hours is not None and max_hours > 0 else None,
        )


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    distance_km: float | None
    score: float
    tier: str = "near"  # near | wider | remote | centre


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    more_available: bool


# --------------------------------------------------------------------------- bit masks


def mask(ids: Iterable[str], taxonomy: Sequence[str]) -> int:
    """Ids as a bit mask over a taxonomy (bit i = taxonomy[i])."""
    out = 0
    for x in ids:
        if x in taxonomy:
            out |= 1 << taxonomy.index(x)
    return out


def activity_affinity(query: Query) -> dict[str, float]:
    """Profile affinities normalised to 0..1 (the strongest activity is 1)."""
    if not query.activities:
        return {}
    top = max(query.activities.values())
    return {a: w / top for a, w in query.activities.items()} if top > 0 else {}


def activity_table(query: Query) -> list[float]:
    """Affinity for every activity mask (2**9 entries): the best matching activity counts."""
    aff = activity_affinity(query)
    per_bit = [aff.get(a, 0.0) for a in ACTIVITIES]
    table = [0.0] * (1 << len(ACTIVITIES))
    for m in range(1, len(table)):
        low = m & -m  # table[m] = max(table[m without its lowest bit], that bit's affinity)
        table[m] = max(table[m ^ low], per_bit[low.bit_length() - 1])
    return table


def proximity(distance_km: float) -> float:
    return 1.0 / (1.0 + distance_km / DECAY_KM)


# --------------------------------------------------------------------------- the rules


def passes_hard_limits(query: Query, c: Candidate, distance_km: float | None) -> bool:
    """Radius (remote excepted), minimum age and weekly hours."""
    if not c.remote and (distance_km is None or distance_km > query.radius_km):
        return False
    return fits_person(query, c)


def fits_person(query: Query, c: Candidate) -> bool:
    """The limits that hold at every radius: minimum age and weekly hours (a one-off task
    is not weekly work, so its hours never rule it out)."""
    if query.age is not None and c.min_age is not None and query.age < c.min_age:
        return False
    if query.age is not None and query.age < CONSENT_AGE and c.min_age is None:
        return False  # a child only gets work that says it allows their age
    if query.max_hours is not None and c.hours_min is not None and c.hours_min > query.max_hours:
        return False
    return not (
        not c.one_off
        and query.hours_per_week is not None
        and c.hours_min is not None
        and c.hours_min > query.hours_per_week
    )


def score(query: Query, c: Candidate, distance_km: float | None, w: Weights = WEIGHTS) -> float:
    """Soft fit in 0..1. The vectorised source computes exactly this sum in this order."""
    prox = REMOTE_PROXIMITY if c.remote or distance_km is None else proximity(distance_km)
    aff = activity_affinity(query)
    act = max((aff.get(a, 0.0) for a in c.activities), default=0.0)
    cause = 1.0 if query.causes and set(query.causes) & set(c.causes) else 0.0
    time = 0.0
    if query.days or query.dayparts:
        day_ok = 1.0 if not query.days or not c.days or set(query.days) & set(c.days) else 0.0
        part_ok = (
            1.0
            if not query.dayparts or not c.dayparts or set(query.dayparts) & set(c.dayparts)
            else 0.0
        )
        time = (day_ok + part_ok) / 2.0
    commit = 0.0
    if query.commitment == "one_off":
        commit = 1.0 if c.one_off else 0.0
    elif query.little_time:
        # "Ik heb weinig tijd": one-off and short work first.
        commit = 1.0 if c.one_off or is_short(c) else 0.0
    elif query.commitment == "regular":
        commit = 0.0 if c.one_off else 1.0
    offer = 1.0 if query.offers and set(query.offers) & set(c.offers) else 0.0
    total = (
        w.distance * prox
        + w.activity * act
        + w.cause * cause
        + w.time * time
        + w.commitment * commit
        + w.offer * offer
    )
    return total / w.total


def is_short(c: Candidate) -> bool:
    """At most SHORT_HOURS (the most it can take; unknown hours are not short)."""
    most = c.hours_max if c.hours_max is not None else c.hours_min
    return most is not None and most <= SHORT_HOURS


def sort_key(s: Scored) -> tuple[float, float, str]:
    """Best score first; ties: nearer first, then by id (deterministic pages)."""
    return (-s.score, s.distance_km if s.distance_km is not None else 1e9, s.candidate.vacancy_id)


# --------------------------------------------------------------------------- sources


class CandidateSource(Protocol):
    def ranked(self, query: Query, ring: tuple[float, float] | None, top: int) -> list[Scored]:
        """Up to `top` candidates passing the person's limits, best first (sort_key).

        ring=(inner, outer): local, non-remote work with inner < distance <= outer
        (the first ring has inner=-1 so distance 0 counts);
        ring=None: remote work. Volunteer centres are never included.
        """
        ...

    def centre(self, query: Query) -> Scored | None:
        """The volunteer centre of the person's municipality, else the nearest one."""
        ...


class ListSource:
    """A CandidateSource over a plain list: the reference implementation."""

    def __init__(
        self,
        candidates: Iterable[Candidate],
        distance: Callable[[float, float, float, float], float] | None = None,
    ) -> None:
        self.candidates = list(candidates)
        self.distance = distance or haversine_km

    def _dist(self, query: Query, c: Candidate) -> float | None:
        if not query.located or c.lat is None or c.lon is None:
            return None
        assert query.lat is not None and query.lon is not None
        return self.distance(query.lat, query.lon, c.lat, c.lon)

    def ranked(self, query: Query, ring: tuple[float, float] | None, top: int) -> list[Scored]:
        out: list[Scored] = []
        for c in self.candidates:
            if c.is_volunteer_centre or not fits_person(query, c):
                continue
            if ring is None:
                if not c.remote:
                    continue
                d = self._dist(query, c)
            else:
                if c.remote:
                    continue
                d = self._dist(query, c)
                if d is None or not ring[0] < d <= ring[1]:
                    continue
            out.append(Scored(c, d, score(query, c, d), "remote" if c.remote else "near"))
        out.sort(key=sort_key)
        return out[:top]

    def centre(self, query: Query) -> Scored | None:
        centres = [c for c in self.candidates if c.is_volunteer_centre]
        if not centres or not (query.located or query.municipality):
            return None
        same = [c for c in centres if query.municipality and c.municipality == query.municipality]
        pool = same or centres
        best = min(
            pool,
            key=lambda c: (
                d if (d := self._dist(query, c)) is not None else 1e9,
                c.vacancy_id,
            ),
        )
        d = self._dist(query, best)
        return Scored(best, d, score(query, best, d), "centre")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


# --------------------------------------------------------------------------- ranking


def radius_steps(radius_km: float) -> list[float]:
    """The travel radius, then wider rings step by step (doubling) up to MAX_RADIUS_KM."""
    steps = [radius_km]
    while steps[-1] < MAX_RADIUS_KM:
        steps.append(min(steps[-1] * 2, MAX_RADIUS_KM))
    return steps


def _tiers(query: Query, source: CandidateSource, top: int) -> Iterator[Scored]:
    """Candidates in fallback order: near, wider rings, remote work, the volunteer centre.

    Wider rings open one by one only while fewer than MIN_RESULTS were found closer by, so
    the order never depends on the page asked for.
    """
    found = 0
    if query.located:
        inner = -1.0  # the first ring includes distance 0
        for i, outer in enumerate(radius_steps(query.radius_km)):
            if i > 0 and found >= MIN_RESULTS:
                break
            for s in source.ranked(query, (inner, outer), top):
                found += 1
                yield s if i == 0 else Scored(s.candidate, s.distance_km, s.score, "wider")
            inner = outer
    for s in source.ranked(query, None, top):
        yield Scored(s.candidate, s.distance_km, s.score, "remote")
    centre = source.centre(query)
    if centre is not None:
        yield Scored(centre.candidate, centre.distance_km, centre.score, "centre")


def diversify(stream: Iterator[Scored], need: int, chosen_causes: Sequence[str]) -> list[Scored]:
    """Take `need` results in stream order, swapping in later ones where the first five
    would repeat an organisation or pile up one cause the person did not choose."""
    out: list[Scored] = []
    pool: list[Scored] = []
    exhausted = False
    seen: set[str] = set()

    def fill() -> None:
        nonlocal exhausted
        # Look far ahead only while the diversity rules may swap; then take what is needed.
        target = LOOKAHEAD if len(out) < DIVERSE_TOP else need - len(out)
        while not exhausted and len(pool) < target:
            try:
                s = next(stream)
            except StopIteration:
                exhausted = True
                return
            if s.candidate.vacancy_id not in seen:
                seen.add(s.candidate.vacancy_id)
                pool.append(s)

    while len(out) < need:
        fill()
        if not pool:
            break
        pick = 0
        if len(out) < DIVERSE_TOP:
            pick = next(
                (i for i, s in enumerate(pool) if _diverse(s, out, chosen_causes)),
                next((i for i, s in enumerate(pool) if _new_organisation(s, out)), 0),
            )
        out.append(pool.pop(pick))
    return out


def _new_organisation(s: Scored, chosen: Sequence[Scored]) -> bool:
    if s.tier == "centre":  # the last resort is never swapped forward
        return False
    return all(x.candidate.organisation_id != s.candidate.organisation_id for x in chosen)


def _diverse(s: Scored, chosen: Sequence[Scored], chosen_causes: Sequence[str]) -> bool:
    """May `s` follow `chosen` in the first five? New organisation, cause not piled up.
    (When nothing qualifies, a new organisation alone will do, then simply the next.)"""
    c = s.candidate
    if not _new_organisation(s, chosen):
        return False
    main = c.causes[0] if c.causes else None
    if main is None or main in chosen_causes:
        return True
    same = sum(1 for x in chosen if x.candidate.causes[:1] == (main,))
    return same < MAX_SAME_CAUSE


def recommend(
    query_data: Mapping[str, Any] | Query,
    source: CandidateSource,
    texts: Texts | None = None,
    offset: int = 0,
    limit: int = 3,
) -> Page:
    """One page of recommendations (dicts in the pipeline's item shape) and whether more exist."""
    query = query_data if isinstance(query_data, Query) else Query.from_dict(query_data)
    offset, limit = max(0, offset), max(1, limit)
    need = offset + limit + 1  # one extra tells whether more are available
    ranked = diversify(_tiers(query, source, need + LOOKAHEAD), need, query.causes)
    page = ranked[offset : offset + limit]
    return Page(
        items=[to_item(query, s, texts) for s in page],
        more_available=len(ranked) > offset + limit,
    )


# --------------------------------------------------------------------------- reasons


def _text(texts: Texts, lang: str, key: str, **values: Any) -> str:
    """A reason phrase from the content's `reason_*` UI texts (checked at load by
    quiz.validate: present in every language, with exactly the placeholders filled here)."""
    table = texts.ui.get(lang) or next(iter(texts.ui.values()))
    return table[key].format(**values)


def _label(texts: Texts, lang: str, taxonomy_id: str) -> str:
    return texts.label(lang, taxonomy_id)


def format_km(km: float, lang: str = "en") -> str:
    """4, 2.5 or 12: one decimal only below 10 km and only when it says something.

    Dutch writes a decimal comma (2,5 km).
    """
    if km < 10:
        text = f"{km:.1f}"
        text = text[:-2] if text.endswith(".0") else text
    else:
        text = f"{km:.0f}"
    return text.replace(".", ",") if lang == "nl" else text


def _hours(value: float) -> str:
    return f"{value:g}"


def reasons(query: Query, s: Scored, texts: Texts | None = None) -> list[str]:
    """Why this vacancy fits, in the person's language, most telling first.

    The words come from the quiz content; without it (pure ranking) there are no reasons.
    """
    if texts is None:
        return []
    c, lang = s.candidate, query.lang
    out: list[str] = []
    if s.tier == "centre":
        out.append(_text(texts, lang, "reason_centre"))
    if c.remote:
        out.append(_text(texts, lang, "remote"))
    elif s.distance_km is not None:
        out.append(_text(texts, lang, "distance_km", km=format_km(s.distance_km, lang)))
    if s.tier == "wider":
        out.append(_text(texts, lang, "reason_wider"))
    if s.tier == "centre":
        return out
    aff = activity_affinity(query)
    if aff and c.activities:
        best = max(c.activities, key=lambda a: (aff.get(a, 0.0), -ACTIVITIES.index(a)))
        if aff.get(best, 0.0) >= STRONG_ACTIVITY:
            out.append(_text(texts, lang, "reason_strength", activity=_label(texts, lang, best)))
    offered = [o for o in c.offers if o in query.offers]
    if offered:
        out.append(_text(texts, lang, f"offer_{offered[0]}"))
    picked = [x for x in c.causes if x in query.causes]
    if picked:
        out.append(_text(texts, lang, "reason_cause", cause=_label(texts, lang, picked[0])))
    when = _when(query, c, texts)
    if when:
        out.append(when)
    if c.one_off:
        out.append(_text(texts, lang, "reason_one_off"))
    elif c.hours_min is not None or c.hours_max is not None:
        lo = c.hours_min if c.hours_min is not None else c.hours_max
        hi = c.hours_max if c.hours_max is not None else lo
        assert lo is not None and hi is not None
        hours = _hours(lo) if hi <= lo else f"{_hours(lo)}-{_hours(hi)}"
        out.append(_text(texts, lang, "reason_hours", hours=hours))
    if c.min_age is not None and c.min_age > ADULT_AGE:
        out.append(_text(texts, lang, "reason_min_age", age=c.min_age))
    return out


def _when(query: Query, c: Candidate, texts: Texts) -> str | None:
    lang = query.lang
    if not c.days and not c.dayparts:
        return _text(texts, lang, "reason_flexible") if query.days or query.dayparts else None
    days = [d for d in c.days if d in query.days] or list(c.days)
    parts = [p for p in c.dayparts if p in query.dayparts] or list(c.dayparts)
    day = _label(texts, lang, days[0]) if days else ""
    part = _label(texts, lang, parts[0]) if parts else ""
    if day and part:
        return _text(texts, lang, "reason_when", day=day, daypart=part)
    return day or part


def to_item(query: Query, s: Scored, texts: Texts | None = None) -> dict[str, Any]:
    """The recommendation dict the pipeline and the engine's renderer use."""
    c = s.candidate
    return {
        "vacancy_id": c.vacancy_id,
        "organisation_id": c.organisation_id,
        "organisation": c.organisation,
        "title": c.title,
        "description": c.description,
        "distance_km": None if c.remote or s.distance_km is None else round(s.distance_km, 1),
        "score": round(s.score, 4),
        "reasons": reasons(query, s, texts),
        "contact_email": c.contact_email,
        "url": c.url,
        "vog_required": c.vog_required,
        "remote": c.remote,
        "fictional": c.fictional,
        "fallback": None if s.tier == "near" else s.tier,
        "place": c.place,
        "municipality": c.municipality,
        "hours_min": c.hours_min,
        "hours_max": c.hours_max,
        "min_age": c.min_age,
        "one_off": c.one_off,
        "offers": list(c.offers),
    }

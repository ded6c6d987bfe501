"""The funnel report, read from report_counts (see bot.analytics.aggregates).

Every query reads the smallest grain of the counters that holds the dimensions it filters and
groups on, so a report costs a handful of indexed GROUP BYs over small tables whatever the
number of journeys. Every number a report carries is a count of people that went through
`suppress` (k = 5); where cells add up to a published total a second cell is suppressed too.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.analytics.journeys import GRAINS
from bot.analytics.stages import ALL_STAGES, OPTIONAL, REFERRAL_CAMPAIGN
from bot.analytics.suppression import K, cell, suppress, suppress_partition
from quiz.model import Quiz

NO_CAMPAIGN = "(geen campagne)"
UNKNOWN = "(onbekend)"
DIMENSIONS: tuple[str, ...] = ("campaign", "channel", "region", "week")


@dataclass(frozen=True)
class Filters:
    """Which journeys a report covers. `campaigns=()` means none (an owner without any)."""

    campaigns: tuple[str, ...] | None = None
    channel: str | None = None
    region: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive

    @classmethod
    def for_week(cls, week: str, **kwargs: Any) -> Filters:
        """An ISO week such as '2026-W48'."""
        year, _, num = week.upper().partition("-W")
        monday = date.fromisocalendar(int(year), int(num), 1)
        return cls(since=monday, until=monday + timedelta(days=6), **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaigns": list(self.campaigns) if self.campaigns is not None else None,
            "channel": self.channel,
            "region": self.region,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

    def dims(self) -> set[str]:
        out = set()
        if self.channel:
            out.add("channel")
        if self.region:
            out.add("region")
        if self.since or self.until:
            out.add("day")
        return out


# ---------------------------------------------------------------------------- reading counts


def _grain(dims: set[str]) -> int:
    return min((g for g, kept in GRAINS.items() if dims <= kept), key=lambda g: len(GRAINS[g]))


async def _sum(
    session: AsyncSession,
    filters: Filters,
    group: str | None,
    metrics: Sequence[str],
) -> list[tuple[Any, ...]]:
    """SUM(n) per (group column?, metric, key) over the journeys the filters cover."""
    dims = filters.dims() | ({group} if group and group != "campaign" else set())
    where = ["g = :g", "metric IN :metrics"]
    params: dict[str, Any] = {"g": _grain(dims), "metrics": list(metrics)}
    binds: list[Any] = [sa.bindparam("metrics", expanding=True)]
    if filters.campaigns is not None:
        where.append("campaign IN :campaigns")
        params["campaigns"] = list(filters.campaigns)
        binds.append(sa.bindparam("campaigns", expanding=True))
    if filters.channel:
        where.append("channel = :channel")
        params["channel"] = filters.channel
    if filters.region:
        where.append("region = :region")
        params["region"] = filters.region
    if filters.since:
        where.append("day >= :since")
        params["since"] = filters.since.isoformat()
    if filters.until:
        where.append("day <= :until")
        params["until"] = filters.until.isoformat()
    cols = f"{group}, metric, key" if group else "metric, key"
    query = sa.text(
        f"SELECT {cols}, SUM(n) FROM report_counts WHERE {' AND '.join(where)} "
        f"GROUP BY {cols} HAVING SUM(n) <> 0"
    ).bindparams(*binds)
    return [tuple(r) for r in (await session.execute(query, params)).all()]


async def _visible_stages(session: AsyncSession) -> tuple[str, ...]:
    seen = {
        r[0]
        for r in (
            await session.execute(
                sa.text(
                    "SELECT key FROM report_counts WHERE g = 0 AND metric = 'seen' "
                    "GROUP BY key HAVING SUM(n) > 0"
                )
            )
        ).all()
    }
    return tuple(s for s in ALL_STAGES if s not in OPTIONAL or s in seen)


def _cumulative(at_stage: dict[str, int]) -> list[int]:
    """People who reached each stage of ALL_STAGES (a journey reached every earlier one)."""
    counts: list[int] = []
    running = 0
    for stage in reversed(ALL_STAGES):
        running += at_stage.get(stage, 0)
        counts.append(running)
    return counts[::-1]


# ---------------------------------------------------------------------------- the report


@dataclass
class QuestionRow:
    position: int
    question: str
    label: str
    shown: int | None
    answered: int | None
    skipped: int | None
    left: int | None  # journeys whose last question was this one and that never finished


@dataclass
class Report:
    """A funnel report: every count is already suppressed (None = fewer than K people)."""

    filters: dict[str, Any]
    stages: list[tuple[str, int | None]]
    breakdowns: dict[str, list[tuple[str, list[int | None]]]]
    daily: list[tuple[date, int | None]]
    drop_off: list[QuestionRow]
    profiles: list[tuple[str, str, int | None]]
    causes: list[tuple[str, str, int | None]]
    campaign_weeks: list[tuple[date, date]] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    k: int = K
    referrals: int | None = None  # journeys that came in through a shared result card

    @property
    def entries(self) -> int | None:
        return self.stages[0][1]

    @property
    def stage_names(self) -> list[str]:
        return [name for name, _ in self.stages]

    def to_dict(self) -> dict[str, Any]:
        names = self.stage_names
        return {
            "stages": [
                {"name": name, "count": n, "suppressed": n is None} for name, n in self.stages
            ],
            "k": self.k,
            "filters": self.filters,
            "breakdowns": {
                dim: [
                    {"value": value, "stages": dict(zip(names, counts, strict=True))}
                    for value, counts in rows
                ]
                for dim, rows in self.breakdowns.items()
            },
            "daily": [{"date": d.isoformat(), "entries": n} for d, n in self.daily],
            "drop_off": [asdict(q) for q in self.drop_off],
            "profiles": [{"id": i, "name": name, "count": n} for i, name, n in self.profiles],
            "causes": [{"id": i, "name": name, "count": n} for i, name, n in self.causes],
            "referrals": self.referrals,
            "campaign_weeks": [[a.isoformat(), b.isoformat()] for a, b in self.campaign_weeks],
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
        }

    def funnel_csv(self) -> str:
        """stage,count,percent_of_entries — '<5' where suppressed."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["stage", "count", "percent_of_entries"])
        first = self.entries
        for name, n in self.stages:
            pct = f"{100 * n / first:.1f}" if n is not None and first else ""
            w.writerow([name, cell(n), pct])
        return buf.getvalue()

    def breakdown_csv(self, dimension: str) -> str:
        """One row per campaign / channel / region / week, one column per stage."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([dimension, *self.stage_names])
        for value, counts in self.breakdowns.get(dimension, []):
            w.writerow([value, *(cell(n) for n in counts)])
        return buf.getvalue()

    def drop_off_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["position", "question", "shown", "answered", "skipped", "left"])
        for q in self.drop_off:
            w.writerow(
                [
                    q.position,
                    q.question,
                    cell(q.shown),
                    cell(q.answered),
                    cell(q.skipped),
                    cell(q.left),
                ]
            )
        return buf.getvalue()


def _week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def _label(dimension: str, value: str) -> str:
    if dimension == "campaign":
        return value or NO_CAMPAIGN
    if dimension == "region":
        return value or UNKNOWN
    if dimension == "week":
        return _week(value)
    return value


async def _breakdown(
    session: AsyncSession, filters: Filters, dimension: str, visible: Sequence[str]
) -> list[tuple[str, list[int | None]]]:
    column = "day" if dimension == "week" else dimension
    per: dict[str, dict[str, int]] = {}
    for value, _metric, stage, n in await _sum(session, filters, column, ["stage"]):
        bucket = per.setdefault(_label(dimension, value), {})
        bucket[stage] = bucket.get(stage, 0) + int(n)
    idx = [ALL_STAGES.index(s) for s in visible]
    raw = {v: [c[i] for i in idx] for v, at in per.items() if (c := _cumulative(at))[0] > 0}
    columns = [suppress_partition({v: c[i] for v, c in raw.items()}) for i in range(len(idx))]
    order = sorted(raw) if dimension == "week" else sorted(raw, key=lambda v: (-raw[v][0], v))
    return [(v, [columns[i][v] for i in range(len(idx))]) for v in order]


def _daily(per_day: Counter[date], span: tuple[date, date] | None) -> list[tuple[date, int | None]]:
    if span is None:
        if not per_day:
            return []
        span = (min(per_day), max(per_day))
    first, last = span
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    # Each ISO week is a partition of that week's entries.
    out: dict[str, int | None] = {}
    weeks: dict[tuple[int, int], list[date]] = {}
    for d in days:
        weeks.setdefault(d.isocalendar()[:2], []).append(d)
    for ds in weeks.values():
        out.update(suppress_partition({d.isoformat(): per_day.get(d, 0) for d in ds}))
    return [(d, out[d.isoformat()]) for d in days]


def _question_label(quiz: Quiz, question: str, lang: str) -> str:
    q = quiz.question(question)
    if q is None:
        return question
    text = q.text.get(lang) or next(iter(q.text.values()), question)
    return text if len(text) <= 48 else text[:47].rstrip() + "…"


def _drop_off(
    quiz: Quiz, counts: dict[tuple[str, str], int], left: Counter[str], lang: str
) -> list[QuestionRow]:
    order = [q.id for q in quiz.questions]
    extra = sorted({q for q, _ in counts} - set(order))
    rows: list[QuestionRow] = []
    for i, qid in enumerate([*order, *extra], start=1):
        rows.append(
            QuestionRow(
                position=i,
                question=qid,
                label=_question_label(quiz, qid, lang),
                shown=suppress(counts.get((qid, "question_shown"), 0)),
                answered=suppress(counts.get((qid, "answered"), 0)),
                skipped=suppress(counts.get((qid, "skipped"), 0)),
                left=suppress(left.get(qid, 0)),
            )
        )
    return rows


def _profiles(quiz: Quiz, found: Counter[str], lang: str) -> list[tuple[str, str, int | None]]:
    all_profiles = {p.id: p for p in quiz.profiles}
    counts = {pid: found.get(pid, 0) for pid in all_profiles}
    counts.update({pid: n for pid, n in found.items() if pid not in counts})
    shown = suppress_partition(counts)
    out = []
    for pid in sorted(counts, key=lambda p: (-counts[p], p)):
        profile = all_profiles.get(pid)
        name = (profile.name.get(lang) or next(iter(profile.name.values()))) if profile else pid
        out.append((pid, name, shown[pid]))
    return out


def _causes(quiz: Quiz, found: Counter[str], lang: str) -> list[tuple[str, str, int | None]]:
    from quiz.model import CAUSES

    return [
        (cid, quiz.label(lang, cid), suppress(found.get(cid, 0)))
        for cid in sorted(CAUSES, key=lambda c: (-found.get(c, 0), c))
    ]


def _engine_of(session: AsyncSession) -> AsyncEngine:
    """The session's own engine (a CLI command's private one, or the shared one)."""
    bind = session.bind
    if isinstance(bind, AsyncConnection):
        return bind.engine
    assert isinstance(bind, AsyncEngine)
    return bind


async def funnel_report(
    session: AsyncSession,
    filters: Filters | None = None,
    quiz: Quiz | None = None,
    lang: str = "nl",
    campaign_weeks: Sequence[tuple[date, date]] = (),
) -> Report:
    """Everything the CLI and the dashboard show, suppressed (k ≥ 5).

    The counters are brought up to date first, on a connection of the session's engine: call
    it from a session that has not written anything (its write lock would be waited for)."""
    from bot.analytics.aggregates import refresh

    if quiz is None:
        from bot.content import default_quiz

        quiz = default_quiz()
    filters = filters or Filters()
    await refresh(_engine_of(session))
    visible = await _visible_stages(session)
    empty = filters.campaigns is not None and not filters.campaigns
    totals: dict[str, Counter[str]] = {}
    if not empty:
        for metric, key, n in await _sum(
            session, filters, None, ["stage", "q", "left", "profile", "cause"]
        ):
            totals.setdefault(metric, Counter())[key] += int(n)
    at_stage = totals.get("stage", Counter())
    cumulative = _cumulative(at_stage)
    stages = [(s, suppress(cumulative[ALL_STAGES.index(s)])) for s in visible]
    breakdowns = {
        dim: ([] if empty else await _breakdown(session, filters, dim, visible))
        for dim in DIMENSIONS
    }
    per_day: Counter[date] = Counter()
    if not empty:
        for day, _metric, _stage, n in await _sum(session, filters, "day", ["stage"]):
            per_day[date.fromisoformat(day)] += int(n)
    per_day = Counter({d: n for d, n in per_day.items() if n})
    span: tuple[date, date] | None = None
    weeks = [(a, b) for a, b in campaign_weeks if a and b]
    if weeks:
        span = (min(a for a, _ in weeks), max(b for _, b in weeks))
        if per_day:
            span = (min(span[0], *per_day), max(span[1], *per_day))
    if filters.since and filters.until:
        span = (filters.since, filters.until)
    counts: dict[tuple[str, str], int] = {}
    if cumulative[0]:
        for key, n in totals.get("q", Counter()).items():
            question, _, name = key.rpartition("|")
            if n:
                counts[(question, name)] = n
    left = totals.get("left", Counter()) if cumulative[0] else Counter()
    referral = dict(breakdowns["campaign"]).get(REFERRAL_CAMPAIGN)
    return Report(
        filters=filters.to_dict(),
        stages=stages,
        breakdowns=breakdowns,
        daily=_daily(per_day, span),
        drop_off=_drop_off(quiz, counts, left, lang),
        profiles=_profiles(quiz, totals.get("profile", Counter()), lang),
        causes=_causes(quiz, totals.get("cause", Counter()), lang),
        campaign_weeks=weeks,
        referrals=referral[0] if referral else None,
    )


@dataclass
class TeamReport:
    """What a company sees of its employee-volunteering campaign: aggregates only."""

    campaign: str
    name: str
    entries: int | None
    completed: int | None
    profiles: list[tuple[str, str, int | None]]
    causes: list[tuple[str, str, int | None]]
    k: int = K

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "name": self.name,
            "k": self.k,
            "entries": self.entries,
            "completed": self.completed,
            "profiles": [{"id": i, "name": n, "count": c} for i, n, c in self.profiles],
            "causes": [{"id": i, "name": n, "count": c} for i, n, c in self.causes],
        }


async def team_report(
    session: AsyncSession, code: str, name: str, quiz: Quiz | None = None, lang: str = "nl"
) -> TeamReport:
    report = await funnel_report(session, Filters(campaigns=(code,)), quiz=quiz, lang=lang)
    counts = dict(report.stages)
    return TeamReport(
        campaign=code,
        name=name,
        entries=counts["entries"],
        completed=counts["completed"],
        profiles=report.profiles,
        causes=report.causes,
    )

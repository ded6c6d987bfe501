"""Campaign analytics over the pipeline's event rows: the funnel, drop-off and profile mix.

Privacy by construction: the raw per-conversation rows never leave this module. Every number a
report carries is a count of people that went through `suppress` (k = 5): a cell with fewer
than five people is replaced by None ("<5"). Where cells add up to a published total (profile
mix, a breakdown by channel, days of a week) a second cell is suppressed too when a lone
suppressed cell could be worked out by subtraction. No free text, no identifiers.

A journey is one conversation's event rows. It is attributed to its first-touch campaign
(the first campaign its events carry), its channel, its province (the latest one known) and
the day of its first event (Europe/Amsterdam). Its stage is the furthest funnel step it reached,
so every stage count is ≤ the one before it by construction.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quiz.model import Quiz

K = 5
TZ = ZoneInfo("Europe/Amsterdam")

STAGES: tuple[str, ...] = (
    "entries",
    "consent",
    "started",
    "completed",
    "recommendations_shown",
    "want_to_help",
    "organisation_responded",
)
STAGE_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "entries": "Binnengekomen",
        "consent": "Toestemming",
        "started": "Gestart",
        "completed": "Test af",
        "recommendations_shown": "Vacatures gezien",
        "want_to_help": "Ik wil helpen",
        "organisation_responded": "Organisatie reageerde",
    },
    "en": {
        "entries": "Entries",
        "consent": "Consent",
        "started": "Started",
        "completed": "Completed",
        "recommendations_shown": "Recommendations shown",
        "want_to_help": "Want to help",
        "organisation_responded": "Organisation responded",
    },
}
# Event names that move a journey to a stage (index into STAGES). The hand-off feature
# records "organisation_responded" (or sets a lead's status to "responded").
STAGE_EVENTS: dict[int, tuple[str, ...]] = {
    1: ("consent", "quiz_started"),
    2: ("answered", "skipped"),
    3: ("completed",),
    4: ("recommendations_shown",),
    5: ("want_to_help",),
    6: ("organisation_responded",),
}
RESPONDED_LEAD_STATUSES: tuple[str, ...] = ("responded",)
COMPLETED = STAGES.index("completed")
NO_CAMPAIGN = "(geen campagne)"
UNKNOWN = "(onbekend)"
DIMENSIONS: tuple[str, ...] = ("campaign", "channel", "region", "week")


# ---------------------------------------------------------------------------- suppression


def suppress(n: int) -> int | None:
    """A count of people, or None when fewer than K (zero included: 'fewer than five')."""
    return n if n >= K else None


def suppress_partition(counts: Mapping[str, int]) -> dict[str, int | None]:
    """Suppress cells < K, then more (smallest first) until the hidden cells together hold
    none or at least K people, so subtracting from the total reveals no small group."""
    out: dict[str, int | None] = {key: suppress(n) for key, n in counts.items()}
    hidden = [key for key, v in out.items() if v is None]
    if not hidden:
        return out
    visible = sorted((n, key) for key, n in counts.items() if out[key] is not None)
    while visible and 0 < sum(counts[h] for h in hidden) < K:
        _, key = visible.pop(0)
        out[key] = None
        hidden.append(key)
    return out


def cell(value: int | None) -> str:
    return "<5" if value is None else str(value)


# ---------------------------------------------------------------------------- filters


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


# ---------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class _Journey:
    conversation_id: str
    campaign: str | None
    channel: str
    region: str | None
    first_at: datetime
    stage: int

    @property
    def day(self) -> date:
        return self.first_at.astimezone(TZ).date()

    @property
    def week(self) -> str:
        year, week, _ = self.day.isocalendar()
        return f"{year}-W{week:02d}"

    def value(self, dimension: str) -> str:
        if dimension == "campaign":
            return self.campaign or NO_CAMPAIGN
        if dimension == "channel":
            return self.channel
        if dimension == "region":
            return self.region or UNKNOWN
        return self.week


def _tables() -> tuple[sa.Table, sa.Table]:
    from bot.store.conversations import events, leads

    return events, leads


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bound(day: date) -> datetime:
    """Midnight in Amsterdam in UTC (SQLite stores UTC wall time, Postgres timestamptz)."""
    return datetime.combine(day, time(), TZ).astimezone(UTC)


def _prefilter(filters: Filters) -> list[Any]:
    """Cheap conditions on event rows that keep every event of the journeys in scope."""
    ev, _ = _tables()
    pre: list[Any] = []
    if filters.campaigns is not None:
        # Only conversations that ever carried one of these campaigns (index on campaign).
        ids = sa.select(ev.c.conversation_id).where(ev.c.campaign.in_(filters.campaigns))
        pre.append(ev.c.conversation_id.in_(ids))
    if filters.channel:
        pre.append(ev.c.channel == filters.channel)
    return pre


async def _journeys(session: AsyncSession, filters: Filters) -> list[_Journey]:
    """One journey per conversation, from three plain GROUP BY queries combined here (window
    functions or joins of grouped subqueries cost seconds to minutes on SQLite at 10⁵ rows).
    Event ids give the order within a conversation."""
    if filters.campaigns is not None and not filters.campaigns:
        return []
    ev, _ = _tables()
    conv = ev.c.conversation_id
    pre = _prefilter(filters)
    rank = sa.case(
        *[(ev.c.name.in_(names), stage) for stage, names in sorted(STAGE_EVENTS.items())],
        else_=0,
    )
    agg = sa.select(
        conv,
        sa.func.min(ev.c.channel).label("channel"),
        sa.func.min(ev.c.created_at).label("first_at"),
        sa.func.max(rank).label("stage"),
    ).where(*pre)
    agg = agg.group_by(conv)

    async def first_or_last(column: Any, first: bool) -> dict[str, Any]:
        """The value of `column` on each conversation's first (or last) event that has one."""
        pick = sa.func.min(ev.c.id) if first else sa.func.max(ev.c.id)
        ids = (
            sa.select(pick.label("eid")).where(column.is_not(None), *pre).group_by(conv)
        ).subquery("ids")
        query = sa.select(conv, column).join(ids, ev.c.id == ids.c.eid)
        return {r[0]: r[1] for r in (await session.execute(query)).all()}

    touch = await first_or_last(ev.c.campaign, first=True)  # first touch
    place = await first_or_last(ev.c.region, first=False)  # the latest province known
    since = _bound(filters.since) if filters.since else None
    until = _bound(filters.until + timedelta(days=1)) if filters.until else None
    journeys: list[_Journey] = []
    for r in (await session.execute(agg)).all():
        first_at = _utc(r.first_at)
        j = _Journey(
            conversation_id=r.conversation_id,
            campaign=touch.get(r.conversation_id),
            channel=r.channel,
            region=place.get(r.conversation_id),
            first_at=first_at,
            stage=int(r.stage or 0),
        )
        if filters.campaigns is not None and j.campaign not in filters.campaigns:
            continue
        if filters.region and j.region != filters.region:
            continue
        if until is not None and first_at >= until:
            continue
        if since is not None and first_at < since:
            continue
        journeys.append(j)
    return await _with_responses(session, journeys)


async def _with_responses(session: AsyncSession, journeys: list[_Journey]) -> list[_Journey]:
    """Raise journeys whose lead an organisation answered to the last stage."""
    _, leads = _tables()
    if not journeys:
        return journeys
    responded = set(
        (
            await session.execute(
                sa.select(leads.c.conversation_id)
                .where(leads.c.status.in_(RESPONDED_LEAD_STATUSES))
                .distinct()
            )
        ).scalars()
    )
    if not responded:
        return journeys
    last = len(STAGES) - 1
    return [
        _Journey(**{**asdict(j), "stage": last}) if j.conversation_id in responded else j
        for j in journeys
    ]


@asynccontextmanager
async def _scope(session: AsyncSession, ids: Iterable[str] | None) -> AsyncIterator[Any]:
    """The journeys in scope as a temporary table of conversation ids (None: everything),
    so the per-question and mix queries join an index instead of redoing the journeys."""
    if ids is None:
        yield None
        return
    table = sa.Table(
        f"vk_scope_{uuid.uuid4().hex[:12]}",
        sa.MetaData(),
        sa.Column("conversation_id", sa.String(64), primary_key=True),
        prefixes=["TEMPORARY"],
    )
    conn = await session.connection()
    await conn.run_sync(table.create)
    try:
        rows = [{"conversation_id": i} for i in ids]
        if rows:
            await conn.execute(sa.insert(table), rows)
        yield sa.select(table.c.conversation_id)
    finally:
        await conn.run_sync(table.drop)


def _in(column: Any, scope: Any) -> list[Any]:
    return [] if scope is None else [column.in_(scope)]


async def _question_counts(
    session: AsyncSession, scope: Any
) -> tuple[dict[tuple[str, str], int], dict[str, str]]:
    """People per (question, shown|answered|skipped), and each journey's last shown question."""
    ev, _ = _tables()
    names = ("question_shown", "answered", "skipped")
    counts_q = (
        sa.select(
            ev.c.question, ev.c.name, sa.func.count(sa.distinct(ev.c.conversation_id)).label("n")
        )
        .where(ev.c.name.in_(names), ev.c.question.is_not(None), *_in(ev.c.conversation_id, scope))
        .group_by(ev.c.question, ev.c.name)
    )
    counts = {(r.question, r.name): int(r.n) for r in (await session.execute(counts_q)).all()}
    last_ids = (
        sa.select(sa.func.max(ev.c.id).label("eid"))
        .where(ev.c.name == "question_shown", *_in(ev.c.conversation_id, scope))
        .group_by(ev.c.conversation_id)
        .subquery("last_ids")
    )
    last_q = sa.select(ev.c.conversation_id, ev.c.question).join(
        last_ids, ev.c.id == last_ids.c.eid
    )
    last = {r.conversation_id: r.question for r in (await session.execute(last_q)).all()}
    return counts, last


async def _latest_data(
    session: AsyncSession, scope: Any, name: str, questions: Sequence[str] | None = None
) -> dict[tuple[str, str | None], dict[str, Any]]:
    """The latest `data` of event `name` per (conversation, question)."""
    ev, _ = _tables()
    where = [ev.c.name == name, *_in(ev.c.conversation_id, scope)]
    if questions is not None:
        where.append(ev.c.question.in_(list(questions)))
    latest = (
        sa.select(sa.func.max(ev.c.id).label("eid"))
        .where(*where)
        .group_by(ev.c.conversation_id, ev.c.question)
        .subquery("latest")
    )
    query = sa.select(ev.c.conversation_id, ev.c.question, ev.c.data).join(
        latest, ev.c.id == latest.c.eid
    )
    return {
        (r.conversation_id, r.question): dict(r.data or {})
        for r in (await session.execute(query)).all()
    }


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

    @property
    def entries(self) -> int | None:
        return self.stages[0][1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": [
                {"name": name, "count": n, "suppressed": n is None} for name, n in self.stages
            ],
            "k": self.k,
            "filters": self.filters,
            "breakdowns": {
                dim: [
                    {"value": value, "stages": dict(zip(STAGES, counts, strict=True))}
                    for value, counts in rows
                ]
                for dim, rows in self.breakdowns.items()
            },
            "daily": [{"date": d.isoformat(), "entries": n} for d, n in self.daily],
            "drop_off": [asdict(q) for q in self.drop_off],
            "profiles": [{"id": i, "name": name, "count": n} for i, name, n in self.profiles],
            "causes": [{"id": i, "name": name, "count": n} for i, name, n in self.causes],
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
        w.writerow([dimension, *STAGES])
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


def _stage_counts(journeys: Iterable[_Journey]) -> list[int]:
    reached = Counter(j.stage for j in journeys)
    counts: list[int] = []
    running = 0
    for stage in reversed(range(len(STAGES))):
        running += reached.get(stage, 0)
        counts.append(running)
    return counts[::-1]


def _breakdown(journeys: Sequence[_Journey], dimension: str) -> list[tuple[str, list[int | None]]]:
    groups: dict[str, list[_Journey]] = {}
    for j in journeys:
        groups.setdefault(j.value(dimension), []).append(j)
    raw = {value: _stage_counts(js) for value, js in groups.items()}
    # Column by column: the groups partition each stage's total.
    columns = [suppress_partition({v: c[i] for v, c in raw.items()}) for i in range(len(STAGES))]
    order = sorted(raw, key=lambda v: (-raw[v][0], v))
    if dimension == "week":
        order = sorted(raw)
    return [(v, [columns[i][v] for i in range(len(STAGES))]) for v in order]


def _daily(
    journeys: Sequence[_Journey], span: tuple[date, date] | None
) -> list[tuple[date, int | None]]:
    per_day = Counter(j.day for j in journeys)
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
    quiz: Quiz,
    journeys: Sequence[_Journey],
    counts: Mapping[tuple[str, str], int],
    last: Mapping[str, str],
    lang: str,
) -> list[QuestionRow]:
    unfinished = {j.conversation_id for j in journeys if j.stage < COMPLETED}
    left = Counter(q for conv, q in last.items() if conv in unfinished)
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


def _cause_of_option(quiz: Quiz) -> tuple[list[str], dict[tuple[str, str], list[str]]]:
    questions = [q for q in quiz.questions if q.feeds == "causes"]
    mapping: dict[tuple[str, str], list[str]] = {}
    for q in questions:
        for o in q.options:
            value = o.value
            ids = [value] if isinstance(value, str) else [str(v) for v in (value or [])]
            mapping[(q.id, o.id)] = ids
    return [q.id for q in questions], mapping


async def _mix(
    session: AsyncSession,
    quiz: Quiz,
    scope: Any,
    journeys: Sequence[_Journey],
    lang: str,
) -> tuple[list[tuple[str, str, int | None]], list[tuple[str, str, int | None]]]:
    """Profile mix (a partition of completed journeys) and causes chosen (multi-select)."""
    ids = {j.conversation_id for j in journeys}
    completed = await _latest_data(session, scope, "completed")
    profile_counts = Counter(
        str(data.get("profile"))
        for (conv, _), data in completed.items()
        if conv in ids and data.get("profile")
    )
    all_profiles = {p.id: p for p in quiz.profiles}
    counts = {pid: profile_counts.get(pid, 0) for pid in all_profiles}
    counts.update({pid: n for pid, n in profile_counts.items() if pid not in counts})
    shown = suppress_partition(counts)
    profiles = []
    for pid in sorted(counts, key=lambda p: (-counts[p], p)):
        profile = all_profiles.get(pid)
        name = (profile.name.get(lang) or next(iter(profile.name.values()))) if profile else pid
        profiles.append((pid, name, shown[pid]))

    questions, mapping = _cause_of_option(quiz)
    answered = await _latest_data(session, scope, "answered", questions) if questions else {}
    chosen: dict[str, set[str]] = {}
    for (conv, question), data in answered.items():
        if conv not in ids or question is None:
            continue
        for option in data.get("options") or []:
            for cause in mapping.get((question, str(option)), []):
                chosen.setdefault(cause, set()).add(conv)
    from quiz.model import CAUSES

    causes = [
        (cid, quiz.label(lang, cid), suppress(len(chosen.get(cid, ()))))
        for cid in sorted(CAUSES, key=lambda c: (-len(chosen.get(c, ())), c))
    ]
    return profiles, causes


async def funnel_report(
    session: AsyncSession,
    filters: Filters | None = None,
    quiz: Quiz | None = None,
    lang: str = "nl",
    campaign_weeks: Sequence[tuple[date, date]] = (),
) -> Report:
    """Everything the CLI and the dashboard show, suppressed (k ≥ 5)."""
    if quiz is None:
        from bot.content import load_quiz

        quiz = load_quiz()
    filters = filters or Filters()
    journeys = await _journeys(session, filters)
    stages = list(zip(STAGES, [suppress(n) for n in _stage_counts(journeys)], strict=True))
    breakdowns = {dim: _breakdown(journeys, dim) for dim in DIMENSIONS}
    span: tuple[date, date] | None = None
    weeks = [(a, b) for a, b in campaign_weeks if a and b]
    if weeks:
        span = (min(a for a, _ in weeks), max(b for _, b in weeks))
        if journeys:
            days = [j.day for j in journeys]
            span = (min(span[0], *days), max(span[1], *days))
    if filters.since and filters.until:
        span = (filters.since, filters.until)
    ids = None if filters == Filters() else [j.conversation_id for j in journeys]
    async with _scope(session, ids) as scope:
        if journeys:
            counts, last = await _question_counts(session, scope)
        else:
            counts, last = {}, {}
        profiles, causes = await _mix(session, quiz, scope, journeys, lang)
    return Report(
        filters=filters.to_dict(),
        stages=stages,
        breakdowns=breakdowns,
        daily=_daily(journeys, span),
        drop_off=_drop_off(quiz, journeys, counts, last, lang),
        profiles=profiles,
        causes=causes,
        campaign_weeks=weeks,
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

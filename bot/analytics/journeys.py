"""One journey (a conversation's events) folded into the few facts reports need, and the
counter cells those facts add to. Pure: no I/O, so the incremental refresh and erasure share it.

A journey is attributed to its first-touch campaign (the first campaign its events carry), its
channel, its province (the latest one known) and the Amsterdam day of its first event. Its stage
is the furthest funnel step it reached. Folding events in id order, in any number of batches,
gives the same journey as folding them all at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.analytics.stages import ALL_STAGES, COMPLETED, RANK, RESPONDED

TZ = ZoneInfo("Europe/Amsterdam")
QUESTION_EVENTS = frozenset({"question_shown", "answered", "skipped"})
# Event names counted as such (optional stages show once seen).
SEEN_EVENTS = frozenset({"lead_delivered", "volunteer_started"})
# Grains of report_counts: which dimensions a row keeps (the others are '').
# Every combination of the three filterable dimensions, so any filter (plus one breakdown)
# reads one small grain; campaign is kept in all of them.
GRAINS: dict[int, frozenset[str]] = {
    0: frozenset(),
    1: frozenset({"channel"}),
    2: frozenset({"region"}),
    3: frozenset({"day"}),
    4: frozenset({"day", "channel", "region"}),
    5: frozenset({"channel", "region"}),
    6: frozenset({"day", "channel"}),
    7: frozenset({"day", "region"}),
}
Cell = tuple[int, str, str, str, str, str, str]  # g, campaign, day, channel, region, metric, key


def ts_text(value: Any) -> str:
    """A timestamp as sortable UTC text (SQLite stores this form; Postgres gives datetimes)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    text = str(value)
    return text if len(text) > 19 else text + ".000000"


def amsterdam_day(first_at: str) -> date:
    return datetime.fromisoformat(first_at).replace(tzinfo=UTC).astimezone(TZ).date()


@dataclass
class Journey:
    campaign: str | None = None
    channel: str | None = None
    region: str | None = None
    first_at: str | None = None
    stage: int = 0
    raised: bool = False  # an organisation answered the lead
    last_question: str | None = None
    seen: set[str] = field(default_factory=set)  # "question|event"
    profile: str | None = None
    answers: dict[str, list[str]] = field(default_factory=dict)  # cause questions' options
    day: str = ""

    @property
    def effective_stage(self) -> int:
        return max(self.stage, RESPONDED) if self.raised else self.stage

    def dumps(self) -> str:
        return json.dumps(
            [
                self.campaign,
                self.channel,
                self.region,
                self.first_at,
                self.stage,
                self.raised,
                self.last_question,
                sorted(self.seen),
                self.profile,
                self.answers,
            ],
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str) -> Journey:
        c, ch, r, first, stage, raised, last, seen, profile, answers = json.loads(text)
        j = cls(c, ch, r, first, stage, raised, last, set(seen), profile, answers)
        j.day = amsterdam_day(first).isoformat() if first else ""
        return j

    def copy(self) -> Journey:
        return Journey(
            self.campaign,
            self.channel,
            self.region,
            self.first_at,
            self.stage,
            self.raised,
            self.last_question,
            set(self.seen),
            self.profile,
            dict(self.answers),
            self.day,
        )


def _data(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def fold(
    j: Journey,
    name: str,
    question: str | None,
    campaign: str | None,
    channel: str,
    region: str | None,
    created_at: Any,
    data: Any,
    cause_questions: frozenset[str],
) -> None:
    """Fold one event (the next by id) into the journey."""
    if j.campaign is None and campaign is not None:
        j.campaign = campaign
    if j.channel is None or channel < j.channel:
        j.channel = channel
    if region is not None:
        j.region = region
    at = ts_text(created_at)
    if j.first_at is None or at < j.first_at:
        j.first_at = at
        j.day = amsterdam_day(at).isoformat()
    rank = RANK.get(name, 0)
    if rank > j.stage:
        j.stage = rank
    if name in QUESTION_EVENTS:
        if question is not None:
            j.seen.add(f"{question}|{name}")
        if name == "question_shown":
            j.last_question = question
        elif name == "answered" and question in cause_questions:
            j.answers[question] = [str(o) for o in _data(data).get("options") or []]
    elif name == "completed":
        profile = _data(data).get("profile")
        j.profile = str(profile) if profile else None


def contributions(
    j: Journey, causes_of: Mapping[tuple[str, str], list[str]]
) -> list[tuple[str, str]]:
    """(metric, key) pairs this journey counts once in."""
    stage = j.effective_stage
    out = [("stage", ALL_STAGES[stage])]
    out += [("q", s) for s in j.seen]
    if stage < COMPLETED and j.last_question is not None:
        out.append(("left", j.last_question))
    if j.profile:
        out.append(("profile", j.profile))
    causes = {
        c for q, options in j.answers.items() for o in options for c in causes_of.get((q, o), ())
    }
    out += [("cause", c) for c in causes]
    return out


def cells(j: Journey, pairs: Iterable[tuple[str, str]]) -> list[Cell]:
    """Every report_counts row the pairs add to, in every grain."""
    campaign, channel, region, day = j.campaign or "", j.channel or "", j.region or "", j.day
    dims = (
        (0, campaign, "", "", ""),
        (1, campaign, "", channel, ""),
        (2, campaign, "", "", region),
        (3, campaign, day, "", ""),
        (4, campaign, day, channel, region),
        (5, campaign, "", channel, region),
        (6, campaign, day, channel, ""),
        (7, campaign, day, "", region),
    )
    return [(*d, metric, key) for d in dims for metric, key in pairs]


def delta(
    old: Journey | None,
    new: Journey | None,
    causes_of: Mapping[tuple[str, str], list[str]],
    into: dict[Cell, int],
) -> None:
    """Add (new - old) contributions to `into`."""
    if old is not None:
        for c in cells(old, contributions(old, causes_of)):
            into[c] = into.get(c, 0) - 1
    if new is not None:
        for c in cells(new, contributions(new, causes_of)):
            into[c] = into.get(c, 0) + 1

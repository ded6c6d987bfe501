"""Event rows as the pipeline writes them, for whole cohorts of journeys at once.

The pipeline stores each engine Track effect as a row of `events` (name, data, question,
campaign, channel, region, created_at). These helpers write the same rows for many journeys
quickly, so report tests can assert exact counts; tests/bot/test_analytics_pipeline.py checks
that real conversations produce rows of this shape.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.content import load_quiz
from bot.store.conversations import events
from bot.store.db import session_scope

STAGE_ORDER = (
    "entries",
    "consent",
    "started",
    "completed",
    "recommendations_shown",
    "want_to_help",
    "organisation_responded",
)
DAY0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday of ISO week 2026-W48


@dataclass
class Cohort:
    """`n` journeys that all stop at `stage`."""

    n: int
    stage: str
    campaign: str | None = "radio"
    channel: str = "telegram"
    region: str | None = "Utrecht"
    day: int = 0  # days after DAY0
    left_at: str = "activity"  # the last question shown when stage == "started"
    profile: str = "verbinder"
    causes: tuple[str, ...] = ("elderly",)
    later_campaign: str | None = None  # a second campaign touch later in the journey
    rows: list[dict[str, Any]] = field(default_factory=list)


def journey(cohort: Cohort, conversation_id: str, start: datetime) -> list[dict[str, Any]]:
    quiz = load_quiz()
    questions = [q.id for q in quiz.questions]
    reach = STAGE_ORDER.index(cohort.stage)
    rows: list[dict[str, Any]] = []
    clock = [start]
    region: list[str | None] = [None]
    campaign = [cohort.campaign]

    def add(name: str, question: str | None = None, **data: Any) -> None:
        clock[0] += timedelta(seconds=7)
        if question is not None:
            data["question"] = question
        rows.append(
            {
                "conversation_id": conversation_id,
                "name": name,
                "data": data,
                "question": question,
                "campaign": campaign[0],
                "channel": cohort.channel,
                "region": region[0],
                "created_at": clock[0],
            }
        )

    add("started_chat", lang="nl", **({"campaign": cohort.campaign} if cohort.campaign else {}))
    if cohort.later_campaign:
        campaign[0] = cohort.later_campaign
    if reach < 1:
        return rows
    add("consent")
    add("quiz_started")
    last = len(questions) if reach >= 3 else questions.index(cohort.left_at)
    if reach < 2:
        last = 0
    for i, qid in enumerate(questions):
        add("question_shown", qid)
        if i >= last:
            return rows
        q = quiz.question(qid)
        assert q is not None
        if q.feeds == "causes":
            options = [
                o.id
                for o in q.options
                if set(o.value if isinstance(o.value, list) else [o.value]) & set(cohort.causes)
            ]
            add("answered", qid, options=options or [q.options[-1].id])
        else:
            add("answered", qid)
        if qid == "place":
            region[0] = cohort.region
    add("completed", profile=cohort.profile, confidence="high")
    if reach >= 4:
        add("recommendations_shown", count=3, offset=0, first=True)
    if reach >= 5:
        add("want_to_help")
    if reach >= 6:
        add("organisation_responded")
    return rows


async def write(db_url: str, *cohorts: Cohort) -> dict[str, list[str]]:
    """Write every cohort's journeys; returns the conversation ids per cohort stage."""
    ids: dict[str, list[str]] = {}
    rows: list[dict[str, Any]] = []
    for c in cohorts:
        for i in range(c.n):
            conversation_id = uuid.uuid4().hex
            ids.setdefault(c.stage, []).append(conversation_id)
            start = DAY0 + timedelta(days=c.day, minutes=3 * i)
            rows.extend(journey(c, conversation_id, start))
    async with session_scope(db_url) as session:
        await session.execute(sa.insert(events), rows)
    return ids


def radio_cohorts() -> list[Cohort]:
    """34 journeys of campaign 'radio': 34 → 28 → 23 → 16 → 13 → 7 → 2."""
    return [
        Cohort(6, "entries", day=0),
        Cohort(5, "consent", day=1),
        Cohort(7, "started", day=1, left_at="activity"),
        Cohort(3, "completed", day=2, profile="verbinder", causes=("elderly", "youth")),
        Cohort(6, "recommendations_shown", day=2, profile="aanpakker", causes=("nature",)),
        Cohort(5, "want_to_help", day=3, profile="verbinder", causes=("elderly",)),
        Cohort(2, "organisation_responded", day=9, profile="organisator", region="Zeeland"),
    ]

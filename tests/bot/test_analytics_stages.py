"""The funnel's extensible stages, incremental counters and the lead-status raise."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from bot.analytics import ALL_STAGES, STAGES, Filters, funnel_report
from bot.analytics.aggregates import refresh
from bot.store.conversations import events, leads
from bot.store.db import session_scope
from tests.bot.analytics_data import DAY0, Cohort, write


async def add_events(db_url: str, ids: list[str], name: str) -> None:
    rows = [
        {
            "conversation_id": cid,
            "name": name,
            "data": {},
            "question": None,
            "campaign": "radio",
            "channel": "telegram",
            "region": "Utrecht",
            "created_at": DAY0 + timedelta(days=1),
        }
        for cid in ids
    ]
    async with session_scope(db_url) as s:
        await s.execute(sa.insert(events), rows)


async def test_new_stages_join_once_their_events_exist(db_url: str) -> None:
    ids = await write(db_url, Cohort(12, "want_to_help"))
    async with session_scope(db_url) as s:
        before = await funnel_report(s, Filters())
    assert [name for name, _ in before.stages] == list(STAGES)
    helpers = ids["want_to_help"]
    await add_events(db_url, helpers[:10], "lead_delivered")
    await add_events(db_url, helpers[:7], "organisation_responded")
    await add_events(db_url, helpers[:5], "volunteer_started")
    async with session_scope(db_url) as s:
        after = await funnel_report(s, Filters(campaigns=("radio",)))
    assert [name for name, _ in after.stages] == list(ALL_STAGES)
    counts = dict(after.stages)
    assert counts["want_to_help"] == 12 and counts["lead_delivered"] == 10
    assert counts["organisation_responded"] == 7 and counts["volunteer_started"] == 5
    row = after.to_dict()["breakdowns"]["campaign"][0]
    assert list(row["stages"]) == list(ALL_STAGES)


async def test_counters_follow_new_events_incrementally(db_url: str) -> None:
    await write(db_url, Cohort(6, "completed"))
    async with session_scope(db_url) as s:
        first = await funnel_report(s, Filters())
    assert await refresh(db_url) == 0  # caught up: nothing to fold
    ids = await write(db_url, Cohort(5, "completed", campaign="vriend", day=2))
    async with session_scope(db_url) as s:
        second = await funnel_report(s, Filters())
    assert first.entries == 6 and second.entries == 11
    assert second.referrals == 5 and dict(second.breakdowns["campaign"])["vriend"][0] == 5
    # A journey that goes on later moves up, and is not counted twice.
    await add_events(db_url, ids["completed"], "want_to_help")
    async with session_scope(db_url) as s:
        third = await funnel_report(s, Filters())
    assert third.entries == 11 and dict(third.stages)["want_to_help"] == 5


async def test_a_responded_lead_raises_its_journey(db_url: str) -> None:
    ids = await write(db_url, Cohort(6, "want_to_help"))
    rows = [
        {
            "conversation_id": cid,
            "vacancy_id": "v1",
            "channel": "telegram",
            "campaign": "radio",
            "status": "responded",
            "created_at": DAY0,
        }
        for cid in ids["want_to_help"]
    ]
    async with session_scope(db_url) as s:
        await s.execute(sa.insert(leads), rows)
    async with session_scope(db_url) as s:
        report = await funnel_report(s, Filters())
    assert dict(report.stages)["organisation_responded"] == 6
    assert uuid.UUID(ids["want_to_help"][0])  # plain conversation ids, nothing else

"""Funnel, drop-off and profile mix over event rows; k ≥ 5 in every output."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from bot.analytics import (
    STAGES,
    Filters,
    K,
    funnel_report,
    suppress,
    suppress_partition,
    team_report,
)
from bot.store.db import session_scope
from tests.bot.analytics_data import Cohort, radio_cohorts, write

RADIO = [34, 28, 23, 16, 13, 7, None]  # organisation_responded: 2 people, hidden


def small_counts(data: Any, path: str = "") -> list[str]:
    """Every number in a report that counts fewer than K people (must be empty).

    Exempt: positions, K itself and percentages; everything else that is an int counts people.
    """
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("position", "k"):
                continue
            found += small_counts(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += small_counts(value, f"{path}[{i}]")
    elif isinstance(data, int) and not isinstance(data, bool) and data < K:
        found.append(f"{path}={data}")
    return found


def test_suppress_and_partition() -> None:
    assert [suppress(n) for n in (0, 1, 4, 5, 120)] == [None, None, None, 5, 120]
    # One hidden cell could be recovered from the total: the next smallest goes too.
    assert suppress_partition({"a": 10, "b": 3, "c": 20}) == {"a": None, "b": None, "c": 20}
    # Hidden cells that already hold ≥ K people together need no company.
    assert suppress_partition({"a": 10, "b": 3, "c": 4}) == {"a": 10, "b": None, "c": None}
    # Zeros hide nobody.
    assert suppress_partition({"a": 10, "b": 0, "c": 7}) == {"a": 10, "b": None, "c": 7}
    assert suppress_partition({"a": 2, "b": 1}) == {"a": None, "b": None}


async def test_funnel_counts_per_campaign(db_url: str) -> None:
    await write(db_url, *radio_cohorts(), Cohort(8, "completed", campaign="poster"))
    async with session_scope(db_url) as s:
        radio = await funnel_report(s, Filters(campaigns=("radio",)))
        both = await funnel_report(s, Filters())
    assert [n for _, n in radio.stages] == RADIO
    assert radio.stages[0][0] == "entries" and [name for name, _ in radio.stages] == list(STAGES)
    assert [n for _, n in both.stages][:4] == [42, 36, 31, 24]
    by_campaign = dict(both.breakdowns["campaign"])
    assert by_campaign["radio"][:2] == [34, 28] and by_campaign["poster"][:4] == [8, 8, 8, 8]


async def test_drop_off_profile_mix_and_causes(db_url: str) -> None:
    await write(db_url, *radio_cohorts())
    async with session_scope(db_url) as s:
        report = await funnel_report(s, Filters(campaigns=("radio",)))
    rows = {q.question: q for q in report.drop_off}
    first = report.drop_off[0]
    assert first.question == "age" and first.shown == 28 and first.answered == 23
    assert first.left == 5  # consented, saw the first question, went no further
    assert rows["activity"].left == 7
    assert rows["motive"].left is None  # nobody stopped there: 0 < K
    assert rows["interest"].answered == 16
    profiles = {pid: n for pid, _, n in report.profiles}
    # organisator (2) is hidden, so aanpakker (6) is hidden as well (no subtraction attack).
    assert profiles["verbinder"] == 8
    assert profiles["organisator"] is None and profiles["aanpakker"] is None
    causes = {cid: n for cid, _, n in report.causes}
    assert causes["elderly"] == 10 and causes["nature"] == 6 and causes["youth"] is None
    assert small_counts(report.to_dict()) == []


async def test_first_touch_region_and_week(db_url: str) -> None:
    await write(
        db_url,
        Cohort(6, "completed", campaign="poster", later_campaign="radio", region="Utrecht"),
        Cohort(5, "completed", campaign=None, later_campaign="radio", region="Gelderland", day=7),
        Cohort(5, "entries", campaign="radio", channel="whatsapp", day=8),
    )
    async with session_scope(db_url) as s:
        poster = await funnel_report(s, Filters(campaigns=("poster",)))
        radio = await funnel_report(s, Filters(campaigns=("radio",)))
        utrecht = await funnel_report(s, Filters(region="Utrecht"))
        w49 = await funnel_report(s, Filters.for_week("2026-W49"))
        whatsapp = await funnel_report(s, Filters(channel="whatsapp"))
    # First touch: the first campaign a journey carried, even when a later one followed.
    assert poster.entries == 6
    # A journey without a campaign at first is attributed to its first campaign touch.
    assert radio.entries == 10
    assert utrecht.entries == 6 and whatsapp.entries == 5
    assert w49.entries == 10
    weeks = dict(w49.breakdowns["week"])
    assert list(weeks) == ["2026-W49"]
    days = dict(w49.daily)
    assert days[date(2026, 11, 30)] == 5 and days[date(2026, 12, 1)] == 5
    assert len(w49.daily) == 7


async def test_csv_every_stage_at_most_the_one_before(db_url: str) -> None:
    await write(db_url, *radio_cohorts())
    async with session_scope(db_url) as s:
        report = await funnel_report(s, Filters(campaigns=("radio",)))
    rows = list(csv.DictReader(io.StringIO(report.funnel_csv())))
    assert [r["stage"] for r in rows] == list(STAGES)
    previous: int | None = None
    hidden = False
    for r in rows:
        if r["count"] == "<5":
            hidden = True
            continue
        assert not hidden, "a stage after a hidden one cannot have ≥ 5 people"
        n = int(r["count"])
        assert n >= K
        assert previous is None or n <= previous
        previous = n
    assert rows[-1]["count"] == "<5"
    for dim in ("campaign", "channel", "region", "week"):
        for row in csv.reader(io.StringIO(report.breakdown_csv(dim))):
            if row[0] == dim:
                continue
            assert all(c == "<5" or int(c) >= K for c in row[1:]), row


async def test_small_campaign_is_hidden_everywhere(db_url: str) -> None:
    await write(
        db_url,
        Cohort(4, "want_to_help", campaign="tiny", region="Drenthe", profile="coach"),
        Cohort(30, "completed", campaign="big", region="Utrecht"),
    )
    async with session_scope(db_url) as s:
        tiny = await funnel_report(s, Filters(campaigns=("tiny",)))
        everything = await funnel_report(s, Filters())
    assert [n for _, n in tiny.stages] == [None] * len(STAGES)
    assert all(n is None for _, n in tiny.daily)
    assert all(n is None for _, _, n in tiny.profiles + tiny.causes)
    assert all(v is None for q in tiny.drop_off for v in (q.shown, q.answered, q.skipped, q.left))
    assert small_counts(tiny.to_dict()) == []
    by_campaign = dict(everything.breakdowns["campaign"])
    # tiny is hidden, and big too in the same column, or 34 - 30 would give tiny away.
    assert by_campaign["tiny"][0] is None and by_campaign["big"][0] is None
    assert everything.entries == 34
    assert small_counts(everything.to_dict()) == []


async def test_empty_scope_and_unknown_campaign(db_url: str) -> None:
    await write(db_url, Cohort(10, "completed"))
    async with session_scope(db_url) as s:
        none = await funnel_report(s, Filters(campaigns=()))
        unknown = await funnel_report(s, Filters(campaigns=("nope",)))
    for report in (none, unknown):
        assert report.entries is None and report.daily == []
        assert small_counts(report.to_dict()) == []


async def test_team_report(db_url: str) -> None:
    await write(
        db_url,
        Cohort(7, "completed", campaign="acme", profile="organisator", causes=("nature",)),
        Cohort(6, "recommendations_shown", campaign="acme", profile="coach", causes=("youth",)),
        Cohort(2, "completed", campaign="acme", profile="zorgzame", causes=("disability",)),
    )
    async with session_scope(db_url) as s:
        team = await team_report(s, "acme", "ACME BV")
    data = team.to_dict()
    assert data["entries"] == 15 and data["completed"] == 15
    profiles = {p["id"]: p["count"] for p in data["profiles"]}
    assert profiles["organisator"] == 7 and profiles["zorgzame"] is None
    assert profiles["coach"] is None  # hidden with zorgzame, else 15 - 7 - 6 = 2 shows
    causes = {c["id"]: c["count"] for c in data["causes"]}
    assert causes["nature"] == 7 and causes["youth"] == 6 and causes["disability"] is None
    assert small_counts(data) == []


@pytest.mark.parametrize("week", ["2026-W48", "2026-w01"])
def test_week_filter_parses(week: str) -> None:
    f = Filters.for_week(week)
    assert f.since is not None and f.until is not None
    assert f.since.isoweekday() == 1 and (f.until - f.since).days == 6

"""The one clock: overridable now(), Dutch working days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import clock


def test_now_is_aware_utc_and_can_be_fixed() -> None:
    assert clock.now().tzinfo is not None
    at = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    with clock.frozen(at):
        assert clock.now() == at
    clock.set_now(at + timedelta(days=1))
    try:
        assert clock.now() == at + timedelta(days=1)
    finally:
        clock.set_now(None)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_parse_accepts_z_and_naive_as_utc() -> None:
    assert clock.parse("2026-12-04T09:00:00Z") == datetime(2026, 12, 4, 9, tzinfo=UTC)
    assert clock.parse("2026-12-04T09:00") == datetime(2026, 12, 4, 9, tzinfo=UTC)


def test_working_days_skip_weekends_and_dutch_holidays() -> None:
    friday = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    assert clock.add_working_days(friday, 1).date().isoformat() == "2026-12-07"  # Monday
    assert clock.add_working_days(friday, 5).date().isoformat() == "2026-12-11"
    # Christmas (Fri 25th, Sat 26th) and the weekend: Thursday 24th + 1 = Monday 28th.
    assert clock.add_working_days(datetime(2026, 12, 24, 10, tzinfo=UTC), 1).day == 28
    # King's Day, Monday 27 April 2026: Friday 24th + 1 = Tuesday 28th.
    assert clock.add_working_days(datetime(2026, 4, 24, 10, tzinfo=UTC), 1).day == 28
    # Saturday + 2 = Tuesday; the local time of day is kept across the DST change.
    assert clock.add_working_days(datetime(2026, 12, 5, 10, tzinfo=UTC), 2).day == 8
    before_dst = datetime(2026, 3, 27, 8, tzinfo=UTC)  # Friday 09:00 in Amsterdam (CET)
    after = clock.add_working_days(before_dst, 1)  # Monday 09:00 CEST
    assert after.astimezone(clock.LOCAL).hour == 9 and after.hour == 7
    assert not clock.is_working_day(datetime(2026, 4, 27).date())

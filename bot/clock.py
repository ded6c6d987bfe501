"""The one clock. Everything timed asks `now()`, so tests and `jobs run --now` control time.

Working days follow the Dutch calendar (weekends and the public holidays of the `holidays`
package for NL), counted in Europe/Amsterdam: a lead that arrives on Friday evening is due
on Tuesday, not on Sunday.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Amsterdam")

_fixed: ContextVar[datetime | None] = ContextVar("vk_clock_fixed", default=None)
_global: datetime | None = None


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now() -> datetime:
    """The current time as an aware UTC datetime (or the time set for this context)."""
    fixed = _fixed.get()
    if fixed is None:
        fixed = _global
    return fixed if fixed is not None else datetime.now(UTC)


def wall() -> datetime:
    """Real time, never overridden: for what other machines check against their own clocks
    (webhook signature timestamps)."""
    return datetime.now(UTC)


def set_now(value: datetime | None) -> None:
    """Fix the clock for the whole process (None: back to real time). For CLIs and tests."""
    global _global
    _global = None if value is None else _aware(value)


@contextmanager
def frozen(value: datetime) -> Iterator[datetime]:
    """Fix the clock for the current task and what it awaits."""
    token = _fixed.set(_aware(value))
    try:
        yield _aware(value)
    finally:
        _fixed.reset(token)


def parse(text: str) -> datetime:
    """ISO-8601 (a trailing Z allowed); without a zone it is taken as UTC."""
    return _aware(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("NL", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(dt: datetime, n: int) -> datetime:
    """`dt` moved `n` Dutch working days ahead, keeping the local time of day.

    Days are counted from the next day on, so Saturday + 2 is Tuesday.
    """
    local = _aware(dt).astimezone(LOCAL)
    day = local.date()
    left = n
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    moved = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=LOCAL)
    return moved.astimezone(UTC)

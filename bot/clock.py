"""The one clock: everything timed asks `now()`, so tests and `--now` can fix the moment."""

from __future__ import annotations

from datetime import UTC, datetime

_fixed: datetime | None = None


def now() -> datetime:
    """An aware UTC datetime: the fixed moment when one is set, else the wall clock."""
    return _fixed if _fixed is not None else datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Fix the clock (None: back to the wall clock). Naive datetimes are taken as UTC."""
    global _fixed
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    _fixed = moment

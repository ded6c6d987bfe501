"""What an erasure leaves of a journey: its contribution to the report counters, nothing else.

The store calls `fold_erased` inside the erasure's transaction with the journey's folded state
(if the refresh got to it) and its events not folded yet; the counter changes it returns make
the counters include the whole journey, so the events and the state can be deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.analytics.aggregates import cause_mapping
from bot.analytics.journeys import SEEN_EVENTS, Cell, Journey, delta, fold


def fold_erased(
    state: str | None, pending: Sequence[Sequence[Any]], responded: bool
) -> list[tuple[int, str, str, str, str, str, str, int]]:
    """Counter changes (report_counts rows to add) that account for the erased journey.

    `pending`: (name, question, campaign, channel, region, created_at, data) rows, by id."""
    cause_questions, causes_of = cause_mapping()
    old = Journey.loads(state) if state else None
    if old is None and not pending:
        return []
    new = old.copy() if old is not None else Journey()
    changes: dict[Cell, int] = {}
    for name, question, campaign, channel, region, at, data in pending:
        fold(new, name, question, campaign, channel, region, at, data, cause_questions)
        if name in SEEN_EVENTS:
            key = (0, "", "", "", "", "seen", name)
            changes[key] = changes.get(key, 0) + 1
    if responded:
        new.raised = True
    delta(old, new, causes_of, changes)
    return [(*c, n) for c, n in changes.items() if n]

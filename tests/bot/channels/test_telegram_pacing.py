"""Telegram's limits, paced per second: calls with room go at once, the others at the start
of the next second with room, together; no second ever carries more than the limit."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.channels.telegram.send import Pacing, Schedule, on_tick


def test_on_tick_rounds_up_to_the_grid_and_never_down() -> None:
    assert on_tick(3.0, 1.0) == 3.0
    assert on_tick(3.2, 1.0) == 4.0
    assert on_tick(0.26, 0.25) == 0.5
    assert on_tick(7.123, 0.0) == 7.123  # no grid: exactly when due


def sends(schedule: Schedule, arrivals: list[float]) -> list[float]:
    """When each call goes out, on a virtual clock."""
    return [schedule.due(now) for now in arrivals]


def test_a_saturated_bot_sends_on_whole_seconds_within_the_limit() -> None:
    rng = random.Random(7)
    arrivals = sorted(rng.uniform(0.0, 10.0) for _ in range(900))  # 90 calls/s wanted
    schedule = Schedule(30.0, burst=30, tick=1.0)
    out = sends(schedule, arrivals)

    assert all(sent >= came for sent, came in zip(out, arrivals, strict=True))  # never early
    waited = [sent for sent, came in zip(out, arrivals, strict=True) if sent > came]
    assert waited and all(sent == int(sent) for sent in waited)  # on whole seconds
    # No window of one second holds more than the limit (and one at its edge).
    for i, start in enumerate(out):
        within = sum(1 for t in out[i:] if t < start + 1.0)
        assert within <= 31, (start, within)
    # On average exactly the limit: 900 calls take 30 s.
    assert max(out) == pytest.approx(900 / 30, abs=1.0)


def test_calls_that_find_room_go_at_once() -> None:
    schedule = Schedule(30.0, burst=30, tick=1.0)
    arrivals = [100.0 + n * 0.05 for n in range(40)]  # 20 calls/s: under the limit
    assert sends(schedule, arrivals) == arrivals


async def test_a_chat_over_its_burst_waits_for_the_grid() -> None:
    pacing = Pacing(overall=1000.0, per_chat_burst=2, per_chat_period=0.2, tick=0.05)
    loop = asyncio.get_running_loop()
    woke = []
    for _ in range(5):
        await pacing.wait("chat")
        woke.append(loop.time())
    assert woke[1] - woke[0] < 0.02  # the burst goes at once
    later = woke[2:]
    assert woke[-1] - woke[1] >= 0.25  # then one per 0.1 s
    for t in later:  # woken on the 0.05 s grid (the event loop may be a little late)
        assert (t / 0.05) % 1 < 0.4

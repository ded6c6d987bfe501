"""A scripted quiz taker speaking the Rasa REST protocol (used by tests and the benchmark).

Given the messages the bot just sent, `next_request` says what a person tapping buttons sends
next: consent yes, an option of each question (multi: one option, then "done"), the location
for the place question. None once the result has arrived.
"""

from __future__ import annotations

import random
from typing import Any

UTRECHT = {"lat": 52.0907, "lon": 5.1214}


def has_result(messages: list[dict[str, Any]]) -> bool:
    return any("result" in (m.get("custom") or {}) for m in messages)


def result_of(messages: list[dict[str, Any]]) -> dict[str, Any]:
    for m in messages:
        custom = m.get("custom") or {}
        if "result" in custom:
            return dict(custom["result"])
    raise AssertionError(f"no result in {messages!r}")


def next_request(
    messages: list[dict[str, Any]], rng: random.Random | None = None
) -> dict[str, Any] | None:
    """The body fields (`message`, `metadata`) of the next request; None when finished."""
    if has_result(messages):
        return None
    for m in reversed(messages):
        custom = m.get("custom") or {}
        quiz = custom.get("quiz")
        buttons = m.get("buttons") or []
        if quiz:
            if quiz["kind"] == "place":
                return {"message": "", "metadata": {"location": UTRECHT}}
            options = [b["payload"] for b in buttons if b["payload"].startswith("/a/")]
            if quiz["kind"] == "multi":
                if custom.get("selected"):
                    return {"message": custom["done"]["payload"]}
                pick = rng.choice(options) if rng else options[0]
                return {"message": pick}
            return {"message": rng.choice(options) if rng else options[0]}
        if any(b["payload"] == "/consent/yes" for b in buttons):
            return {"message": "/consent/yes"}
    raise AssertionError(f"do not know what to answer to {messages!r}")

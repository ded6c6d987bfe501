"""A scripted quiz taker speaking the Rasa REST protocol (used by tests and the benchmark).

Given the messages the bot just sent, `next_request` says what a person tapping buttons sends
next: consent yes, the adult age bracket (random walkers too: a child gets other work), an
option of each question (multi: one option, then "done"), yes to nearby work after the
profile, the location for the place question. None once the recommendations have arrived.
"""

from __future__ import annotations

import random
from typing import Any

UTRECHT = {"lat": 52.0907, "lon": 5.1214}


ADULT = "/a/age/a18"


def has_profile(messages: list[dict[str, Any]]) -> bool:
    return any("profile" in ((m.get("custom") or {}).get("result") or {}) for m in messages)


def has_result(messages: list[dict[str, Any]]) -> bool:
    """The recommendations have arrived (the profile comes before them)."""
    return any("recommendations" in ((m.get("custom") or {}).get("result") or {}) for m in messages)


def result_of(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Every `custom.result` seen, merged: the profile and, later, the recommendations."""
    out: dict[str, Any] = {}
    for m in messages:
        custom = m.get("custom") or {}
        if "result" in custom:
            out.update(custom["result"])
    if not out:
        raise AssertionError(f"no result in {messages!r}")
    return out


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
            if ADULT in options:
                return {"message": ADULT}
            if quiz["kind"] == "multi":
                if custom.get("selected"):
                    return {"message": custom["done"]["payload"]}
                pick = rng.choice(options) if rng else options[0]
                return {"message": pick}
            return {"message": rng.choice(options) if rng else options[0]}
        if any(b["payload"] == "/consent/yes" for b in buttons):
            return {"message": "/consent/yes"}
        if any(b["payload"] == "/nearby/yes" for b in buttons):
            return {"message": "/nearby/yes"}
    raise AssertionError(f"do not know what to answer to {messages!r}")

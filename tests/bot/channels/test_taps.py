"""How many taps the quiz costs, per channel: from the first message to the profile (the
reward) and to the recommendations.

A person taps the first answer of every question (so "Elke week", which adds the weekly
hours question: the longest path), says yes to keeping answers, is 18 or older, says yes to
nearby work and types the 4 digits of a postcode. Every input after the opening message counts
as one tap: a button, a typed postcode, a callback. On WhatsApp a list costs two taps (open
the list, pick a row); reply buttons cost one. The README's table shows these figures and this
test checks that it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings
from tests.fakes.harness import rest_stack, telegram_stack, whatsapp_stack, with_vacancies

POSTCODE = "3511"
README = Path(__file__).resolve().parents[3] / "README.md"
# The bounds: the profile within 8 taps on REST/widget and Telegram, within 1.5 times
# that on WhatsApp; the recommendations within 14 taps on REST.
MAX_TO_PROFILE = 8
MAX_TO_RECOMMENDATIONS_REST = 14


@dataclass
class Taps:
    to_profile: int | None = None
    to_recommendations: int | None = None
    taps: int = 0

    def count(self, n: int = 1) -> None:
        self.taps += n


def readme_figures() -> dict[str, tuple[int, int]]:
    """The README's tap table: channel -> (to the profile, to the recommendations)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- taps -->")
    end = text.index("<!-- /taps -->")
    out: dict[str, tuple[int, int]] = {}
    for line in text[start:end].splitlines():
        m = re.match(r"\|\s*([^|]+?)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", line)
        if m:
            out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return out


# ---------------------------------------------------------------------- REST


def _rest_next(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        quiz = (m.get("custom") or {}).get("quiz")
        payloads = [b["payload"] for b in m.get("buttons") or []]
        if quiz and quiz["kind"] == "place":
            return POSTCODE
        if quiz:
            return next(p for p in payloads if p.startswith("/a/"))
        for wanted in ("/consent/yes", "/nearby/yes"):
            if wanted in payloads:
                return wanted
    raise AssertionError(f"nothing to tap in {messages!r}")


async def rest_taps(settings: Settings) -> Taps:
    out = Taps()
    async with rest_stack(settings) as st:
        messages = await st.post("taps", "Hoi")
        for _ in range(30):
            message = _rest_next(messages)
            messages = await st.post("taps", message)
            out.count()
            results = [(m.get("custom") or {}).get("result") or {} for m in messages]
            if out.to_profile is None and any("profile" in r for r in results):
                out.to_profile = out.taps
            if any("recommendations" in r for r in results):
                out.to_recommendations = out.taps
                return out
    raise AssertionError("no recommendations")


# ---------------------------------------------------------------------- Telegram


async def telegram_taps(settings: Settings) -> Taps:
    out = Taps()
    async with telegram_stack(settings) as st:
        await with_vacancies(st)
        user = st.user
        await user.say("/start")
        for _ in range(30):
            msg = st.fake.sent(user.user_id)[-1]
            if msg.get("_reply_keyboard"):  # the place question: type the postcode
                await user.say(POSTCODE)
            else:
                rows = user.last_keyboard_message()["reply_markup"]["inline_keyboard"]
                data = [b["callback_data"] for row in rows for b in row]
                pick = next(
                    (
                        d
                        for d in data
                        if d.startswith("/a/") or d in ("/consent/yes", "/nearby/yes")
                    ),
                    None,
                )
                assert pick is not None, data
                await user.tap(pick)
            out.count()
            texts = [m.get("text") or "" for m in st.fake.sent(user.user_id)]
            if out.to_profile is None and any(t.startswith("Jij bent ") for t in texts):
                out.to_profile = out.taps
            if any(t.startswith(("Dit vrijwilligerswerk past", "Ik heb nu geen")) for t in texts):
                out.to_recommendations = out.taps
                return out
    raise AssertionError("no recommendations")


# ---------------------------------------------------------------------- WhatsApp


def _wa_body(m: dict[str, Any]) -> str:
    if m["type"] == "text":
        return str(m["text"]["body"])
    if m["type"] == "interactive":
        return str(m["interactive"]["body"]["text"])
    return ""


async def whatsapp_taps(settings: Settings) -> Taps:
    out = Taps()
    async with whatsapp_stack(settings) as st:
        await with_vacancies(st)
        user = st.user
        await user.say("Hoi")
        for _ in range(30):
            msg = st.fake.sent(user.key)[-1]
            inter = msg.get("interactive") or {}
            if inter.get("type") == "location_request_message":
                await user.say(POSTCODE)
                out.count()
            else:
                interactive = user.last_interactive()["interactive"]
                ids = [c["id"] for c in user.choices()]
                pick = next(
                    (i for i in ids if i.startswith("/a/") or i in ("/consent/yes", "/nearby/yes")),
                    None,
                )
                assert pick is not None, ids
                await user.tap(pick)
                out.count(2 if interactive["type"] == "list" else 1)
            bodies = [_wa_body(m) for m in st.fake.sent(user.key)]
            if out.to_profile is None and any(b.startswith("*Jij bent ") for b in bodies):
                out.to_profile = out.taps
            if any(
                b.lstrip("*").startswith(("Dit vrijwilligerswerk past", "Ik heb nu geen"))
                for b in bodies
            ):
                out.to_recommendations = out.taps
                assert st.fake.rejected == []
                return out
    raise AssertionError("no recommendations")


# ---------------------------------------------------------------------- the figures


async def test_taps_per_channel_stay_within_bounds_and_match_the_readme(
    settings: Settings,
) -> None:
    measured = {
        "REST / widget": await rest_taps(settings),
        "Telegram": await telegram_taps(settings),
        "WhatsApp": await whatsapp_taps(settings),
    }
    rest, telegram, whatsapp = measured.values()
    assert rest.to_profile is not None and rest.to_profile <= MAX_TO_PROFILE
    assert telegram.to_profile is not None and telegram.to_profile <= MAX_TO_PROFILE
    assert whatsapp.to_profile is not None
    assert whatsapp.to_profile <= 1.5 * max(rest.to_profile, telegram.to_profile)
    assert rest.to_recommendations is not None
    assert rest.to_recommendations <= MAX_TO_RECOMMENDATIONS_REST
    figures = {k: (v.to_profile, v.to_recommendations) for k, v in measured.items()}
    assert readme_figures() == figures, f"update the README's tap table: {figures}"

"""Erasing your data in the widget also erases what the browser kept: the transcript in
localStorage and the sender id; the bot's confirmation is still shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, func, select

from bot.store.db import get_sync_engine
from tests.e2e.conftest import E2E
from tests.e2e.widget import answer_by_mouse, open_bubble, settle

pytestmark = pytest.mark.e2e

KEY = "vk:demo"  # the demo page's widget (org "demo")
ALL_STORAGE_JS = "() => JSON.stringify(Object.entries(localStorage))"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.js_errors = errors
    yield p
    ctx.close()


def stored(page: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(page.evaluate(f"() => localStorage.getItem('{KEY}')"))
    return data


def conversations(url: str) -> int:
    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            table = Table("conversations", MetaData(), autoload_with=conn)
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def senders_of(page: Any) -> list[str]:
    """The sender of every message the widget posts from now on."""
    seen: list[str] = []

    def on_request(request: Any) -> None:
        if request.url.endswith("/webhooks/rest/webhook") and request.method == "POST":
            seen.append(json.loads(request.post_data)["sender"])

    page.on("request", on_request)
    return seen


@pytest.mark.parametrize("how", ["typed", "payload"])
def test_erasing_clears_the_local_transcript_and_the_sender_id(
    e2e: E2E, page: Any, how: str
) -> None:
    page.goto(e2e.base + "/")
    s = open_bubble(page)
    for step in range(3):  # consent, the age and one question
        answer_by_mouse(page, s, step)
        s = settle(page)
    assert s["progress"] == "Vraag 3 van 12"
    before = stored(page)
    old_sender = before["sender"]
    assert len(before["log"]) > 3 and old_sender.startswith("web-")
    mine = [e["u"] for e in before["log"] if "u" in e]
    count = conversations(e2e.db_url)
    senders = senders_of(page)

    # Typed words, or the payload a client may send as text.
    page.locator("#vk-in").fill("wis mijn gegevens" if how == "typed" else "/delete_data")
    page.locator(".send").click()
    s = settle(page)
    assert senders == [old_sender]

    # The confirmation is shown (with its "start again" button); the old transcript is gone.
    assert len(s["bot"]) == 1 and "gewist" in s["bot"][0].lower(), s["bot"]
    assert s["mine"] == [] and s["progress"] == ""
    assert s["options"] and s["enabled"]

    # Nothing personal stays in the browser: no transcript, no old sender id, no answers.
    after = stored(page)
    assert after["log"] == [] and not after.get("pend")
    assert after["sender"].startswith("web-") and after["sender"] != old_sender
    everything = page.evaluate(ALL_STORAGE_JS)
    assert old_sender not in everything
    assert all(text not in everything for text in mine), (mine, everything)
    # ... and the server forgot the conversation.
    assert conversations(e2e.db_url) == count - 1

    # The next conversation is a fresh one under the new id.
    page.locator(".choices .opt").first.click()
    s = settle(page)
    assert senders[1:] == [after["sender"]]
    assert conversations(e2e.db_url) == count
    assert s["bot"] and s["options"]

    # A reload restores nothing of the erased conversation.
    page.reload()
    s = open_bubble(page)
    assert all("gewist" not in b.lower() for b in s["bot"])
    assert stored(page)["sender"] == after["sender"]
    assert old_sender not in page.evaluate(ALL_STORAGE_JS)
    assert page.js_errors == []

"""The Bot API's error answers (as its documentation shows them) become the outbox's outcomes:
wait and retry, give up, or done."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.outbox import RetryLater, Undeliverable
from bot.channels.telegram.send import TelegramDelivery, build_bot, raise_for
from bot.config import Settings


def error(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        answer["parameters"] = parameters
    return answer


def test_too_many_requests_waits_exactly_retry_after() -> None:
    with pytest.raises(RetryLater) as caught:
        raise_for(429, error(429, "Too Many Requests: retry after 7", retry_after=7))
    assert caught.value.after == 7.0


@pytest.mark.parametrize(
    ("status", "answer", "reason"),
    [
        (403, error(403, "Forbidden: bot was blocked by the user"), "forbidden: "),
        (400, error(400, "Bad Request: chat not found"), "bad request: "),
        (
            400,
            error(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-100123),
            "migrated",
        ),
    ],
)
def test_given_up(status: int, answer: dict[str, Any], reason: str) -> None:
    with pytest.raises(Undeliverable) as caught:
        raise_for(status, answer)
    assert reason in caught.value.reason


def test_harmless_edits_are_done() -> None:
    raise_for(
        400, error(400, "Bad Request: message is not modified: specified new message content")
    )
    raise_for(400, error(400, "Bad Request: message to edit not found"))


@pytest.mark.parametrize(
    ("status", "answer", "after"),
    [
        (401, error(401, "Unauthorized"), 60.0),
        (404, error(404, "Not Found"), 60.0),
        (502, None, None),  # a proxy's HTML page
        (500, error(500, "Internal Server Error"), None),
    ],
)
def test_retried(status: int, answer: Any, after: float | None) -> None:
    with pytest.raises(RetryLater) as caught:
        raise_for(status, answer)
    assert caught.value.after == after


async def test_an_unreachable_api_is_retried(settings: Settings) -> None:
    from tests.fakes.server import free_port

    s = settings.model_copy(
        update={"telegram_token": "1:x", "telegram_api_url": f"http://127.0.0.1:{free_port()}"}
    )
    bot = build_bot(s)
    delivery = TelegramDelivery(bot)
    try:
        with pytest.raises(RetryLater) as caught:
            await delivery.deliver(
                "1", {"method": "send_message", "kwargs": {"chat_id": 1, "text": "hoi"}}
            )
        assert caught.value.reason.startswith("network: ")
    finally:
        await bot.request.shutdown()

"""Outbound Telegram: the python-telegram-bot client and the outbox delivery of stored calls.

The bot talks to `VK_TELEGRAM_API_URL` (the public Bot API, a self-hosted Bot API server, or
a local fake in tests) through PTB's request layer on aiohttp (`request.AiohttpRequest`).
The outbox delivery posts each stored call through that same request object: PTB builds the
parameters and turns error answers into its typed errors, while the Bot's object model (a
`Message` built from every answer, markups converted back and forth) is skipped: it cost more
CPU than the whole turn. Pacing follows Telegram's limits: 30 messages/s for the bot, and in
each private chat about one per second with a short burst allowed (one turn can be 5 calls).
A `RetryAfter` from Telegram reschedules the call in the outbox after exactly that many
seconds; timeouts and 5xx retry with backoff; a blocked bot or a bad request is given up.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.channels.outbox import RetryLater, Undeliverable

if TYPE_CHECKING:
    from telegram.ext import ExtBot

    from bot.config import Settings

# Edits that found nothing to change are done, not failed.
_HARMLESS = (
    "message is not modified",
    "message to edit not found",
    "message can't be edited",
    "query is too old",
)
# Stored operations name PTB's Bot methods; the Bot API names them in camelCase.
ENDPOINTS = {
    "send_message": "sendMessage",
    "send_photo": "sendPhoto",
    "edit_message_text": "editMessageText",
    "edit_message_reply_markup": "editMessageReplyMarkup",
}


def build_bot(settings: Settings) -> ExtBot[None]:
    """The bot client for `VK_TELEGRAM_TOKEN` at `VK_TELEGRAM_API_URL`."""
    from telegram.ext import ExtBot
    from telegram.request import HTTPXRequest

    from bot.channels.telegram.request import AiohttpRequest

    if not settings.telegram_token:
        raise ValueError("VK_TELEGRAM_TOKEN is not set")
    root = settings.telegram_api_url.rstrip("/")
    return ExtBot(
        token=settings.telegram_token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=AiohttpRequest(connection_pool_size=32, read_timeout=15.0),
        get_updates_request=HTTPXRequest(read_timeout=40.0),
    )


class Schedule:
    """A rate limit as virtual scheduling (GCRA): each call reserves the next free slot and
    sleeps until it, once. No waiter polls: under load a polling limiter (aiolimiter) spent
    more CPU re-checking its queue than the calls themselves cost."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.interval = 1.0 / rate
        self.tolerance = self.interval * max(burst - 1, 0)
        self._next = 0.0

    def reserve(self, now: float) -> float:
        """Seconds to wait before the reserved call may go."""
        at = max(self._next, now - self.tolerance)
        self._next = at + self.interval
        return max(at - now, 0.0)

    async def wait(self) -> None:
        delay = self.reserve(asyncio.get_running_loop().time())
        if delay > 0:
            await asyncio.sleep(delay)


class Pacing:
    """Telegram's limits: `overall` calls per second for the bot, and per private chat bursts
    of `per_chat_burst` calls, then one per `per_chat_period / per_chat_burst` seconds."""

    def __init__(
        self, overall: float = 30.0, per_chat_burst: int = 5, per_chat_period: float = 5.0
    ) -> None:
        self.overall = Schedule(overall)
        self.per_chat_burst = per_chat_burst
        self.per_chat_period = per_chat_period
        self._chats: OrderedDict[str, Schedule] = OrderedDict()

    def chat(self, chat_id: str) -> Schedule:
        schedule = self._chats.pop(chat_id, None) or Schedule(
            self.per_chat_burst / self.per_chat_period, self.per_chat_burst
        )
        self._chats[chat_id] = schedule
        while len(self._chats) > 10_000:
            self._chats.popitem(last=False)
        return schedule

    async def wait(self, chat_id: str) -> None:
        await self.chat(chat_id).wait()
        await self.overall.wait()


def retry_after_seconds(exc: Exception) -> float:
    value = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value or 1)


class TelegramDelivery:
    """Performs stored Bot API calls (see `render`) through the bot's request object."""

    channel = "telegram"

    def __init__(self, bot: ExtBot[None], pacing: Pacing | None = None) -> None:
        self.bot = bot
        self.pacing = pacing or Pacing()

    async def deliver(self, chat_id: str, op: dict[str, Any]) -> None:
        from telegram.error import (
            BadRequest,
            ChatMigrated,
            Forbidden,
            InvalidToken,
            NetworkError,
            RetryAfter,
            TelegramError,
        )
        from telegram.request import RequestData
        from telegram.request._requestparameter import RequestParameter

        endpoint = ENDPOINTS.get(op["method"])
        if endpoint is None:
            raise Undeliverable(f"unknown Telegram call {op['method']!r}")
        data = RequestData(
            [RequestParameter.from_input(k, v) for k, v in op["kwargs"].items() if v is not None]
        )
        await self.pacing.wait(chat_id)
        try:
            await self.bot.request.post(f"{self.bot.base_url}/{endpoint}", request_data=data)
        except RetryAfter as exc:
            raise RetryLater("429 retry after", retry_after_seconds(exc)) from exc
        except BadRequest as exc:
            if any(h in exc.message.lower() for h in _HARMLESS):
                return
            raise Undeliverable(f"bad request: {exc.message}") from exc
        except Forbidden as exc:
            raise Undeliverable(f"forbidden: {exc.message}") from exc
        except ChatMigrated as exc:
            raise Undeliverable(f"chat migrated to {exc.new_chat_id}") from exc
        except InvalidToken as exc:
            # A configuration problem: keep the messages until the token is fixed.
            raise RetryLater(f"token rejected: {exc.message}", 60.0) from exc
        except NetworkError as exc:  # timeouts, 5xx, connection refused
            raise RetryLater(f"network: {exc.message}") from exc
        except TelegramError as exc:
            raise RetryLater(f"telegram: {exc.message}") from exc

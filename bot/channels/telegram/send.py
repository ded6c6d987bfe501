"""Outbound Telegram: the python-telegram-bot client and the outbox delivery of stored calls.

The bot talks to `VK_TELEGRAM_API_URL` (the public Bot API, a self-hosted Bot API server, or
a local fake in tests) through PTB's request layer on aiohttp (`request.AiohttpRequest`).
The outbox delivery posts each stored call (JSON already) on that same aiohttp session and
reads the Bot API's error answers itself (`raise_for`): PTB's object model and its parameter
and error layers cost more CPU per call than the call.

Pacing follows Telegram's limits, which are counted per second: 30 messages a second for the
bot, and in each private chat about one a second with a short burst allowed (one turn can be
5 calls). A call that has to wait goes out at the start of the next second that has room for
it (`PACING_TICK`), together with the others due then: a saturated bot wakes once a second to
send up to 30 calls instead of once every 33 ms for one, and on a lightly loaded machine each
wake-up costs about as much CPU as the call (`tests/bench/bench_channel_load.py`: 5.7 -> 2.2 ms
per inbound message in one sitting). Calls that find room go at once.

A 429 with `retry_after` reschedules the call in the outbox after exactly that many seconds;
timeouts and 5xx retry with backoff; a blocked bot or a bad request is given up.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp

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
# Paced calls go out on multiples of this many seconds (Telegram counts per second).
PACING_TICK = 1.0
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


def on_tick(at: float, tick: float) -> float:
    """The first multiple of `tick` at or after loop time `at` (`at` itself when tick is 0):
    calls woken on the same tick go out in one pass of the event loop, one wake-up of the
    process instead of one each."""
    return math.ceil(at / tick) * tick if tick > 0 else at


class Schedule:
    """A rate limit as virtual scheduling (GCRA): each call reserves the next free slot and
    sleeps until it, once. No waiter polls: under load a polling limiter (aiolimiter) spent
    more CPU re-checking its queue than the calls themselves cost."""

    def __init__(self, rate: float, burst: int = 1, tick: float = 0.0) -> None:
        self.interval = 1.0 / rate
        self.tolerance = self.interval * max(burst - 1, 0)
        self.tick = tick
        self._next = 0.0

    def reserve(self, now: float) -> float:
        """Seconds to wait before the reserved call may go."""
        at = max(self._next, now - self.tolerance)
        self._next = at + self.interval
        return max(at - now, 0.0)

    def due(self, now: float) -> float:
        """When a call asked for at `now` goes: at once when it has room, else at its reserved
        slot rounded up to the next tick (never early, so the rate holds; calls reserved
        within one tick go together)."""
        delay = self.reserve(now)
        return on_tick(now + delay, self.tick) if delay > 0 else now

    async def wait(self) -> None:
        now = asyncio.get_running_loop().time()
        at = self.due(now)
        if at > now:
            await asyncio.sleep(at - now)


class Pacing:
    """Telegram's limits: `overall` calls per second for the bot, and per private chat bursts
    of `per_chat_burst` calls, then one per `per_chat_period / per_chat_burst` seconds. The
    bot-wide limit allows one `tick`'s worth of calls at once (30/s: 30 calls per second)."""

    def __init__(
        self,
        overall: float = 30.0,
        per_chat_burst: int = 5,
        per_chat_period: float = 5.0,
        tick: float = PACING_TICK,
    ) -> None:
        self.overall = Schedule(overall, max(1, round(overall * tick)), tick)
        self.per_chat_burst = per_chat_burst
        self.per_chat_period = per_chat_period
        self.tick = tick
        self._chats: OrderedDict[str, Schedule] = OrderedDict()

    def chat(self, chat_id: str) -> Schedule:
        schedule = self._chats.pop(chat_id, None) or Schedule(
            self.per_chat_burst / self.per_chat_period, self.per_chat_burst, self.tick
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
    """Performs stored Bot API calls (see `render`) as JSON posts on the bot's aiohttp
    session (bot.channels.telegram.request)."""

    channel = "telegram"

    def __init__(self, bot: ExtBot[None], pacing: Pacing | None = None) -> None:
        from bot.channels.telegram.request import AiohttpRequest

        if not isinstance(bot.request, AiohttpRequest):
            raise TypeError("the outbox delivers through AiohttpRequest (build_bot)")
        self.bot = bot
        self.request: AiohttpRequest = bot.request
        self.pacing = pacing or Pacing()

    async def deliver(self, chat_id: str, op: dict[str, Any]) -> None:
        endpoint = ENDPOINTS.get(op["method"])
        if endpoint is None:
            raise Undeliverable(f"unknown Telegram call {op['method']!r}")
        payload = {k: v for k, v in op["kwargs"].items() if v is not None}
        await self.pacing.wait(chat_id)
        try:
            url = f"{self.bot.base_url}/{endpoint}"
            status, answer = await self.request.post_json(url, payload)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RetryLater(f"network: {exc!r}") from exc
        if isinstance(answer, dict) and answer.get("ok") is True:
            return
        raise_for(status, answer)


def raise_for(status: int, answer: Any) -> None:
    """The Bot API's error answer as the outbox's outcome (what PTB's typed errors said)."""
    answer = answer if isinstance(answer, dict) else {}
    code = answer.get("error_code") if isinstance(answer.get("error_code"), int) else status
    description = str(answer.get("description") or f"HTTP {status}")
    parameters = answer.get("parameters") if isinstance(answer.get("parameters"), dict) else {}
    retry_after = parameters.get("retry_after")
    if code == 429 or isinstance(retry_after, int | float):
        seconds = float(retry_after) if isinstance(retry_after, int | float) else 1.0
        raise RetryLater("429 retry after", seconds)
    if parameters.get("migrate_to_chat_id") is not None:
        raise Undeliverable(f"chat migrated to {parameters['migrate_to_chat_id']}")
    if code == 400:
        if any(h in description.lower() for h in _HARMLESS):
            return
        raise Undeliverable(f"bad request: {description}")
    if code == 403:
        raise Undeliverable(f"forbidden: {description}")
    if code in (401, 404):  # a configuration problem: keep the messages until the token is fixed
        raise RetryLater(f"token rejected: {description}", 60.0)
    raise RetryLater(f"telegram: {description}")  # 5xx, or an answer we cannot read

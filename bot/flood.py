"""Flood control: a token bucket per sender and a global limit on new conversations.

Per sender (the channel-scoped user hash): `VK_FLOOD_RATE` messages per second on average,
bursts of `VK_FLOOD_BURST`. Beyond that a message does no work at all (no transaction, no
event row); the first refused message of a flood gets one friendly reply ("Rustig aan …",
bot/flood_texts.yaml), the rest get nothing until the bucket lets a message through again.
With `VK_REDIS_URL` the buckets live in Redis (one Lua script per message), so every worker
and replica shares them; without it, or while Redis cannot be reached, they live in this
process (an LRU of `MAX_SENDERS`).

New conversations: at most `VK_NEW_CONVERSATIONS_PER_SECOND` (bursts of one second's worth),
for the whole installation when `VK_REDIS_URL` is set (one schedule in Redis that every worker
and replica reserves from), per process otherwise or while Redis cannot be reached. A new
conversation over the limit waits in a short queue (up to `VK_NEW_CONVERSATION_QUEUE_SECONDS`);
beyond that REST and the widget answer 503 with `Retry-After`, while a Telegram or WhatsApp
message is acknowledged at once and handled when its reserved slot comes (the platforms would
otherwise re-send it).

A rate of 0 turns a limit off. `Pipeline._handle` calls `admit` before any other work.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.store.turns import Sql

if TYPE_CHECKING:
    from bot.channels.base import Outbound
    from bot.config import Settings
    from bot.pipeline import HandleResult, Inbound, Pipeline
    from bot.store.turns import TurnDatabase

log = logging.getLogger(__name__)

TEXTS_FILE = Path(__file__).resolve().parent / "flood_texts.yaml"
MAX_SENDERS = 100_000
MAX_KNOWN = 20_000
# Channels whose client waits for the answer: over the queue they get 503 + Retry-After.
ANSWERING_CHANNELS = frozenset({"rest", "widget"})

# KEYS[1] bucket; ARGV rate, burst. Returns {allowed, notify}. Redis's own clock, so every
# worker and replica agrees on time.
_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local v = redis.call('HMGET', KEYS[1], 't', 'ts', 'n')
local tokens = tonumber(v[1])
local ts = tonumber(v[2])
local notified = v[3]
if tokens == nil then tokens = burst; ts = now; notified = '0' end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local notify = 0
if tokens >= 1 then
  tokens = tokens - 1; allowed = 1; notified = '0'
elseif notified ~= '1' then
  notify = 1; notified = '1'
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now), 'n', notified)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return {allowed, notify}
"""


# KEYS[1] the new-conversation schedule; ARGV interval, burst, +1 reserve / -1 give back.
# Returns the seconds to wait for the reserved slot (as text: Lua numbers become integers).
_SLOTS_LUA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[3]) < 0 then
  redis.call('SET', KEYS[1], tostring(tat - interval), 'EX', 3600)
  return '0'
end
tat = math.max(tat, now) + interval
redis.call('SET', KEYS[1], tostring(tat), 'EX', 3600)
return tostring(math.max(0, tat - burst * interval - now))
"""
SLOTS_KEY = "vk:flood:new-conversations"


@dataclass(frozen=True)
class Decision:
    """What flood control says about one message.

    reason: "ok", "flood" (this sender is over its bucket), "busy" (no room for a new
    conversation: 503 + Retry-After) or "later" (handled in the background after
    `retry_after` seconds). notify: send the friendly reply (once per flood)."""

    allowed: bool
    reason: str = "ok"
    notify: bool = False
    retry_after: float = 0.0


ALLOW = Decision(True)


class Busy(Exception):
    """No capacity for a new conversation now; the client may try again after `retry_after`."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"busy, retry after {retry_after:.0f} s")
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


@lru_cache(maxsize=1)
def _texts() -> dict[str, str]:
    import yaml

    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return {str(lang): str(table["slow_down"]) for lang, table in data.items()}


def slow_down_text(lang: str | None) -> str:
    """The friendly reply in `lang` (Dutch when unknown)."""
    texts = _texts()
    return texts.get(lang or "nl") or texts["nl"]


class _Buckets:
    """In-process token buckets per key, the least recently used dropped past `size`."""

    def __init__(self, rate: float, burst: int, size: int, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.size, self.clock = rate, burst, size, clock
        self._state: OrderedDict[str, tuple[float, float, bool]] = OrderedDict()

    def take(self, key: str) -> tuple[bool, bool]:
        now = self.clock()
        tokens, at, notified = self._state.pop(key, (float(self.burst), now, False))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
        notify = False
        if tokens >= 1:
            tokens, allowed, notified = tokens - 1, True, False
        else:
            allowed, notify, notified = False, not notified, True
        self._state[key] = (tokens, now, notified)
        # A bucket untouched for burst/rate seconds is full again: the same as no bucket.
        # Dropping a couple of those per call keeps the table at the senders of the moment.
        idle = now - self.burst / self.rate if self.rate > 0 else now
        for _ in range(2):
            oldest = next(iter(self._state.values()))
            if oldest[1] > idle and len(self._state) <= self.size:
                break
            self._state.popitem(last=False)
        return allowed, notify

    def __len__(self) -> int:
        return len(self._state)


class _Slots:
    """A global rate with reservations (GCRA): how long until the next free slot."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        self.interval = 1.0 / rate
        self.burst = max(1.0, rate)
        self.clock = clock
        self._tat = 0.0

    def reserve(self) -> float:
        now = self.clock()
        tat = max(self._tat, now) + self.interval
        self._tat = tat
        return max(0.0, tat - self.burst * self.interval - now)

    def cancel(self) -> None:
        self._tat -= self.interval


_KNOWN_SENDER = Sql.same("SELECT 1 FROM conversations WHERE channel = ? AND user_hash = ? LIMIT 1")


class FloodControl:
    """Per-sender buckets and the new-conversation limit of one process (see module doc)."""

    def __init__(
        self,
        rate: float = 1.0,
        burst: int = 10,
        new_per_second: float = 50.0,
        queue_seconds: float = 2.0,
        redis_url: str | None = None,
        database: TurnDatabase | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.queue_seconds = queue_seconds
        self.redis_url = redis_url
        self.database = database
        self._buckets = _Buckets(rate, self.burst, MAX_SENDERS, clock)
        self._slots = _Slots(new_per_second, clock) if new_per_second > 0 else None
        self._known: OrderedDict[str, None] = OrderedDict()
        self._preadmitted: set[str] = set()
        self._later: set[asyncio.Task[Any]] = set()
        self._redis: Any = None
        self._script: Any = None
        self._slots_lua: Any = None
        self._redis_down_until = 0.0

    @classmethod
    def from_settings(
        cls, settings: Settings, database: TurnDatabase | None = None
    ) -> FloodControl:
        return cls(
            rate=settings.flood_rate,
            burst=settings.flood_burst,
            new_per_second=settings.new_conversations_per_second,
            queue_seconds=settings.new_conversation_queue_seconds,
            redis_url=settings.redis_url,
            database=database,
        )

    # ------------------------------------------------------------------ deciding

    async def admit(self, channel: str, user_hash: str, is_new: bool) -> Decision:
        """May this message be handled now? Cheap: no database work on the way."""
        if user_hash in self._preadmitted:  # its slot was reserved when it first came
            self._preadmitted.discard(user_hash)
            return ALLOW
        if self.rate > 0:
            allowed, notify = await self._take(f"vk:flood:{channel}:{user_hash}")
            if not allowed:
                from bot import metrics

                metrics.flood(channel, "sender")
                return Decision(False, "flood", notify=notify)
        if not is_new or self._slots is None:
            return ALLOW
        wait = await self._reserve()
        if wait > self.queue_seconds:
            from bot import metrics

            if channel in ANSWERING_CHANNELS:
                await self._give_back()
                metrics.flood(channel, "busy")
                return Decision(False, "busy", retry_after=wait)
            metrics.flood(channel, "later")
            return Decision(False, "later", retry_after=wait)
        if wait > 0:
            await asyncio.sleep(wait)  # the short queue
        self._remember(user_hash)
        return ALLOW

    async def is_new(self, channel: str, user_hash: str) -> bool:
        """Whether this sender has no conversation yet (one indexed read per unknown sender,
        none when the new-conversation limit is off)."""
        if self._slots is None or self.database is None or user_hash in self._known:
            return False
        async with self.database.transaction() as tx:  # the lean driver path, like the turn
            found = await tx.one(_KNOWN_SENDER, (channel, user_hash))
        if found is None:
            return True
        self._remember(user_hash)
        return False

    def _remember(self, user_hash: str) -> None:
        self._known[user_hash] = None
        self._known.move_to_end(user_hash)
        if len(self._known) > MAX_KNOWN:
            self._known.popitem(last=False)

    async def _take(self, key: str) -> tuple[bool, bool]:
        client = self._client()
        if client is not None:
            try:
                allowed, notify = await self._script(keys=[key], args=[self.rate, self.burst])
                return bool(allowed), bool(notify)
            except Exception as exc:  # Redis away: this process's buckets until it is back
                log.warning("flood control: Redis unavailable (%s); using local buckets", exc)
                self._redis_down_until = time.monotonic() + 10.0
        return self._buckets.take(key)

    async def _reserve(self) -> float:
        """Seconds until this new conversation's slot (shared through Redis when set)."""
        assert self._slots is not None
        found = await self._slots_script(+1)
        return self._slots.reserve() if found is None else found

    async def _give_back(self) -> None:
        assert self._slots is not None
        if await self._slots_script(-1) is None:
            self._slots.cancel()

    async def _slots_script(self, step: int) -> float | None:
        client = self._client()
        if client is None or self._slots is None:
            return None
        args = [self._slots.interval, self._slots.burst, step]
        try:
            return float(await self._slots_lua(keys=[SLOTS_KEY], args=args))
        except Exception as exc:  # Redis away: this process's schedule until it is back
            log.warning("flood control: Redis unavailable (%s); using local limits", exc)
            self._redis_down_until = time.monotonic() + 10.0
            return None

    def _client(self) -> Any:
        if not self.redis_url or time.monotonic() < self._redis_down_until:
            return None
        if self._redis is None:
            from redis import asyncio as aioredis

            self._redis = aioredis.from_url(
                self.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5
            )
            self._script = self._redis.register_script(_LUA)
            self._slots_lua = self._redis.register_script(_SLOTS_LUA)
        return self._redis

    async def close(self) -> None:
        for task in list(self._later):
            task.cancel()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    # ------------------------------------------------------------------ refusing

    async def refuse(
        self,
        pipeline: Pipeline,
        inbound: Inbound,
        user_hash: str,
        decision: Decision,
        outbound: Outbound | None,
    ) -> HandleResult:
        """What a refused message gets: the friendly reply once, a 503 (raises Busy) or a
        later turn. Nothing is written except that one reply's outbox row."""
        from bot.pipeline import HandleResult
        from quiz.messages import Text

        if decision.reason == "busy":
            raise Busy(decision.retry_after)
        if decision.reason == "later":
            self._defer(pipeline, inbound, user_hash, decision.retry_after, outbound)
            return HandleResult(replies=[], conversation_id="")
        replies: list[Any] = []
        if decision.notify:
            lang = inbound.meta.get("lang") or pipeline.settings.default_language
            replies = [Text(slow_down_text(lang))]
            if outbound is not None:
                await self._enqueue(pipeline, inbound, replies, outbound)
        return HandleResult(replies=replies, conversation_id="")

    async def _enqueue(
        self, pipeline: Pipeline, inbound: Inbound, replies: list[Any], outbound: Outbound
    ) -> None:
        """The friendly reply into the channel's outbox (the only write a refusal makes)."""
        from bot.channels.base import RenderContext
        from bot.store import turns as store

        lang = inbound.meta.get("lang") or pipeline.settings.default_language
        ops = outbound.render(replies, RenderContext(lang=lang, conversation_id=""))
        rows = [
            store.OutboxInsert(
                outbound.channel, outbound.chat_id, dict(op), outbound.window_ends_at
            )
            for op in ops
        ]
        async with pipeline.database().transaction() as tx:
            await store.enqueue(tx, rows, None, store.utcnow())

    def _defer(
        self,
        pipeline: Pipeline,
        inbound: Inbound,
        user_hash: str,
        delay: float,
        outbound: Outbound | None,
    ) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            self._preadmitted.add(user_hash)
            try:
                await pipeline.handle(inbound, outbound)
            except Exception:
                log.exception("deferred %s message failed", inbound.channel)
            finally:
                self._preadmitted.discard(user_hash)

        task = asyncio.create_task(later(), name=f"flood-later-{inbound.channel}")
        self._later.add(task)
        task.add_done_callback(self._later.discard)

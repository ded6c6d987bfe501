"""The Telegram channel: Bot API updates -> Inbound -> pipeline -> outbox -> Bot API calls.

Webhook mode lives in our ASGI app (`POST /telegram/webhook`, checked against the secret
token Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`); `serve --telegram-polling` runs
the same handling on getUpdates for machines without a public URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from bot import edge
from bot.channels.base import Outbound, RenderContext
from bot.channels.outbox import OutboxSender
from bot.channels.telegram import render as telegram_render
from bot.channels.telegram.inbound import (
    ALLOWED_UPDATES,
    CHANNEL,
    MAX_UPDATE_BYTES,
    SECRET_HEADER,
    from_update,
    to_inbound,
    webhook_secret,
)
from bot.channels.telegram.send import Pacing, TelegramDelivery, build_bot

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import ExtBot

    from bot.channels.telegram.render import Tap
    from bot.config import Settings
    from bot.pipeline import Inbound, Pipeline

log = logging.getLogger(__name__)


class TelegramChannel:
    """Everything Telegram needs in one process: the bot, the outbox sender, the handlers."""

    name = CHANNEL

    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline,
        *,
        bot: ExtBot[None] | None = None,
        polling: bool = False,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.bot = bot or build_bot(settings)
        self.polling = polling
        pacing = Pacing(
            settings.telegram_rate, settings.telegram_chat_burst, settings.telegram_chat_period
        )
        self.delivery = TelegramDelivery(self.bot, pacing)
        self.sender = OutboxSender(pipeline.database(), self.delivery)
        self._poller: asyncio.Task[None] | None = None
        self._answering: set[asyncio.Task[None]] = set()

    async def handle_update(self, data: dict[str, Any], cleaned: bool = False) -> dict[str, Any]:
        """Handle a webhook update; returns the webhook's answer: a Bot API call Telegram
        performs for us (answerCallbackQuery stops the tapped button's spinner), or {}.
        `cleaned`: the update came through `edge.loads_clean` already."""
        try:  # a signed update we cannot use is acknowledged and counted (bot/edge.py)
            if not cleaned:
                data = edge.clean(data)
            parsed = from_update(data)
            if parsed is not None:
                edge.clean_inbound(parsed[0])
            query = data.get("callback_query")
            query_id = query.get("id") if isinstance(query, dict) else None
        except Exception as exc:
            edge.ignored(CHANNEL, "malformed", exc)
            return {}
        if parsed is None:
            edge.ignored(CHANNEL, "unsupported")
            return {}
        await self.handle_parsed(parsed)
        if isinstance(query_id, str | int):
            return {"method": "answerCallbackQuery", "callback_query_id": str(query_id)}
        return {}

    async def handle(self, update: Update) -> None:
        """One update from getUpdates (polling): the tap is answered here."""
        parsed = to_inbound(update)
        if parsed is None:
            return
        if update.callback_query is not None:
            task = asyncio.create_task(self._answer(update.callback_query.id))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        await self.handle_parsed(parsed)

    async def handle_parsed(self, parsed: tuple[Inbound, int, Tap | None]) -> None:
        """The turn; the reply follows through the outbox."""
        inbound, chat_id, tap = parsed
        public_url = self.settings.public_url

        def render(replies: list[Any], context: RenderContext) -> list[dict[str, Any]]:
            # Telegram keeps the place question's "Deel locatie" reply keyboard until a
            # message removes it: remove it when the conversation leaves that question.
            before = context.question_before
            return telegram_render.render(
                replies,
                chat_id,
                context.lang,
                tap,
                public_url,
                keyboard_shown=before is not None and before.kind == "place",
            )

        claim = self.sender.hand_over_seconds
        outbound = Outbound(CHANNEL, str(chat_id), render, claim_seconds=claim)
        result = await self.pipeline.handle(inbound, outbound)
        if result.claimed:
            self.sender.take(result.claimed)
        else:
            self.sender.wake(str(chat_id))

    async def _answer(self, query_id: str) -> None:
        from telegram.error import TelegramError

        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # too old, already answered, API down: the reply still comes
            log.info("answerCallbackQuery failed: %s", exc)

    # ------------------------------------------------------------------ lifecycle

    def router(self) -> APIRouter:
        return build_router(self)

    async def start(self) -> None:
        self.sender.start()
        if self.polling:
            self._poller = asyncio.create_task(self._poll(), name="telegram-polling")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._answering:
            await asyncio.wait(set(self._answering), timeout=5)
        await self.sender.stop()
        with contextlib.suppress(Exception):
            await self.bot.shutdown()
        # The bot is never initialised (that would call getMe), so its shutdown skips the
        # request objects: close the delivery's HTTP session here.
        await self.bot.request.shutdown()

    async def _poll(self) -> None:
        """getUpdates long polling, for local use without a public webhook URL."""
        from telegram.error import NetworkError, RetryAfter, TelegramError

        from bot.channels.telegram.send import retry_after_seconds

        offset: int | None = None
        webhook_removed = False
        pause = 1.0
        while True:
            try:
                if not webhook_removed:
                    await self.bot.delete_webhook()
                    webhook_removed = True
                updates = await self.bot.get_updates(
                    offset=offset, timeout=20, allowed_updates=ALLOWED_UPDATES
                )
                pause = 1.0
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except (NetworkError, TelegramError) as exc:
                log.warning("Telegram polling: %s; trying again in %.0f s", exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            for update in updates:
                offset = update.update_id + 1
                try:
                    await self.handle(update)
                except Exception:
                    log.exception("Telegram update %s failed", update.update_id)


def build_router(tg: TelegramChannel) -> APIRouter:
    """`POST /telegram/webhook`, as a plain Starlette endpoint (like REST: no per-request
    dependency solving on the hot path)."""
    secret = webhook_secret(tg.settings).encode()

    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret):
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        try:
            body = await edge.read_limited(request, MAX_UPDATE_BYTES)
        except edge.TooLarge:
            return JSONResponse({"detail": "update too large"}, status_code=413)
        try:  # signed but unusable: acknowledged, or Telegram re-sends it forever
            data = edge.loads_clean(body)
        except edge.EdgeError as exc:
            edge.ignored(CHANNEL, exc.error)
            return JSONResponse({})
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            edge.ignored(CHANNEL, "not_an_update")
            return JSONResponse({})
        # An exception gives a 500, and Telegram delivers the update again later.
        return JSONResponse(await tg.handle_update(data, cleaned=True))

    router = APIRouter(tags=["telegram"])
    router.add_route("/telegram/webhook", webhook, methods=["POST"], include_in_schema=False)
    return router

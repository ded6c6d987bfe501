"""The Telegram channel: Bot API updates -> Inbound -> pipeline -> outbox -> Bot API calls.

Webhook mode lives in our ASGI app (`POST /telegram/webhook`, checked against the secret
token Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`); `serve --telegram-polling` runs
the same handling on getUpdates for machines without a public URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from bot.channels.base import Outbound, RenderContext
from bot.channels.outbox import OutboxSender
from bot.channels.telegram import render as telegram_render
from bot.channels.telegram.inbound import (
    ALLOWED_UPDATES,
    CHANNEL,
    MAX_UPDATE_BYTES,
    SECRET_HEADER,
    to_inbound,
    webhook_secret,
)
from bot.channels.telegram.send import TelegramDelivery, build_bot

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import ExtBot

    from bot.config import Settings
    from bot.pipeline import Pipeline

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
        self.sender = OutboxSender(pipeline.database(), TelegramDelivery(self.bot))
        self._poller: asyncio.Task[None] | None = None

    async def handle_update(self, data: dict[str, Any]) -> None:
        from telegram import Update

        update = Update.de_json(data, self.bot)
        await self.handle(update)

    async def handle(self, update: Update) -> None:
        parsed = to_inbound(update)
        if parsed is None:
            return
        inbound, chat_id, tap = parsed
        answer = None
        if update.callback_query is not None:
            # Stop the button's spinner right away; the reply follows through the outbox.
            answer = asyncio.ensure_future(self._answer(update.callback_query.id))
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

        try:
            await self.pipeline.handle(inbound, Outbound(CHANNEL, str(chat_id), render))
        finally:
            if answer is not None:
                await answer
        self.sender.wake()

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
        await self.sender.stop()
        with contextlib.suppress(Exception):
            await self.bot.shutdown()

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
    """`POST /telegram/webhook`."""
    secret = webhook_secret(tg.settings)
    router = APIRouter(tags=["telegram"])

    @router.post("/telegram/webhook")
    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return JSONResponse({"detail": "update too large"}, status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            return JSONResponse({"detail": "body is not JSON"}, status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return JSONResponse({"detail": "not a Telegram update"}, status_code=400)
        # An exception gives a 500, and Telegram delivers the update again later.
        await tg.handle_update(data)
        return JSONResponse({})

    return router

"""The Telegram channel: Bot API updates -> Inbound -> pipeline -> outbox -> Bot API calls.

Webhook mode lives in our ASGI app (`POST /telegram/webhook`, checked against the secret
token Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`); `serve --telegram-polling` runs
the same handling on getUpdates for machines without a public URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import JSONResponse, Response

from bot.channels import telegram_render
from bot.channels.outbox import OutboxSender, enqueue_in_turn
from bot.channels.telegram_render import Tap
from bot.channels.telegram_send import TelegramDelivery, build_bot
from bot.pipeline import Inbound

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import ExtBot

    from bot.config import Settings
    from bot.pipeline import Pipeline

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 256 * 1024
ALLOWED_UPDATES = ["message", "callback_query"]
CAMPAIGN_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)

# Slash commands (Dutch first, English too) -> the engine's payloads.
COMMANDS: dict[str, str] = {
    "help": "/help",
    "hulp": "/help",
    "opnieuw": "/restart",
    "restart": "/restart",
    "stop": "/stop",
    "verder": "/resume",
    "mijngegevens": "/my_data",
    "mydata": "/my_data",
    "verwijder": "/delete_data",
    "delete": "/delete_data",
    "waarom": "/why",
    "terug": "/back",
    "overslaan": "/skip",
    "nederlands": "/lang/nl",
    "english": "/lang/en",
}

# The command menu registered with `telegram set-webhook` (setMyCommands).
MENU: dict[str, list[tuple[str, str]]] = {
    "nl": [
        ("start", "Begin de test"),
        ("help", "Hoe werkt het?"),
        ("opnieuw", "Opnieuw beginnen"),
        ("stop", "Even stoppen"),
        ("mijngegevens", "Wat weet je van mij?"),
        ("verwijder", "Wis mijn gegevens"),
    ],
    "en": [
        ("start", "Start the test"),
        ("help", "How does it work?"),
        ("opnieuw", "Start again"),
        ("stop", "Take a break"),
        ("mijngegevens", "What do you know about me?"),
        ("verwijder", "Delete my data"),
    ],
}


def webhook_secret(settings: Settings) -> str:
    """VK_TELEGRAM_WEBHOOK_SECRET, or one derived from the secret key (never unprotected)."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    digest = hmac.new(settings.secret_key.encode(), b"telegram-webhook", hashlib.sha256)
    return digest.hexdigest()[:48]


def language(code: str | None) -> str | None:
    """Telegram's IETF language tag -> nl or en (None when Telegram did not say)."""
    if not code:
        return None
    return "nl" if code.lower().split("-")[0] in ("nl", "fy", "li") else "en"


def _tap(query: Any) -> Tap | None:
    message = query.message
    if message is None or not getattr(message, "date", None) or message.date.timestamp() == 0:
        return None  # an old message Telegram no longer shows us
    markup = getattr(message, "reply_markup", None)
    keyboard = markup.to_dict().get("inline_keyboard", []) if markup is not None else []
    text_html = message.text_html if getattr(message, "text", None) else ""
    return Tap(
        message_id=message.message_id, data=query.data or "", text_html=text_html, keyboard=keyboard
    )


def to_inbound(update: Update) -> tuple[Inbound, int, Tap | None] | None:
    """(inbound, chat id, tapped button) for updates we answer; None for everything else."""
    external_id = str(update.update_id)
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return None
        user = query.from_user
        meta: dict[str, Any] = {}
        if language(user.language_code):
            meta["lang"] = language(user.language_code)
        inbound = Inbound(
            CHANNEL, str(user.id), payload=query.data or "", external_id=external_id, meta=meta
        )
        return inbound, chat.id if chat is not None else user.id, _tap(query)
    message = update.message
    if message is None or message.from_user is None or message.chat.type != "private":
        return None
    user = message.from_user
    meta = {}
    if language(user.language_code):
        meta["lang"] = language(user.language_code)
    sender, chat_id = str(user.id), message.chat.id
    if message.location is not None:
        loc = (message.location.latitude, message.location.longitude)
        return (
            Inbound(CHANNEL, sender, location=loc, external_id=external_id, meta=meta),
            chat_id,
            None,
        )
    text = message.text or ""
    command = _COMMAND.match(text.strip())
    if command:
        name, arg = command.group(1).lower(), (command.group(2) or "").strip()
        if name == "start":
            meta["start"] = True
            if arg and CAMPAIGN_CODE.match(arg):
                meta["campaign"] = arg
            inbound = Inbound(CHANNEL, sender, payload="/start", external_id=external_id, meta=meta)
            return inbound, chat_id, None
        if name in COMMANDS:
            inbound = Inbound(
                CHANNEL, sender, payload=COMMANDS[name], external_id=external_id, meta=meta
            )
            return inbound, chat_id, None
    # Stickers, photos and the like arrive as empty text: the engine says it did not understand.
    return Inbound(CHANNEL, sender, text=text, external_id=external_id, meta=meta), chat_id, None


class TelegramChannel:
    """Everything Telegram needs in one process: the bot, the outbox sender, the handlers."""

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
        self.sender = OutboxSender(
            settings.database_url,
            TelegramDelivery(self.bot),
        )
        self._poller: asyncio.Task[None] | None = None

    async def handle_update(self, data: dict[str, Any]) -> None:
        from telegram import Update

        from bot import edge

        try:  # a signed update we cannot use is acknowledged and counted (bot/edge.py)
            update = Update.de_json(edge.clean(data), self.bot)
            parsed = to_inbound(update)
            if parsed is not None:
                edge.clean_inbound(parsed[0])
        except Exception as exc:
            return edge.ignored(CHANNEL, "malformed", exc)
        if parsed is None:
            return edge.ignored(CHANNEL, "unsupported")
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
        try:
            public_url = self.settings.public_url
            keyboard_shown = await self._at_place_question(inbound.sender)

            def render(replies: list[Any], lang: str) -> list[dict[str, Any]]:
                return telegram_render.render(
                    replies, chat_id, lang, tap, public_url, keyboard_shown=keyboard_shown
                )

            hint = inbound.meta.get("lang") or self.settings.default_language
            await self.pipeline.handle(
                inbound, in_transaction=enqueue_in_turn(CHANNEL, str(chat_id), render, hint)
            )
        finally:
            if answer is not None:
                await answer
        self.sender.wake()

    async def _at_place_question(self, sender: str) -> bool:
        """Whether the conversation stands at the place question before this update, so its
        'Deel locatie' reply keyboard is on screen (Telegram keeps a reply keyboard until a
        message removes it; it is only removed when the conversation leaves that question).

        Read before the turn, outside its transaction: two updates of one chat at the same
        moment could both see it, at worst removing an already removed keyboard once more.
        """
        from sqlalchemy import select

        from bot.store.conversations import conversations
        from bot.store.db import session_scope
        from quiz.engine import State

        c = conversations.c
        user_hash = self.pipeline.hash_id(CHANNEL, sender)
        async with session_scope(self.settings.database_url) as session:
            row = (
                await session.execute(
                    select(c.state).where(c.channel == CHANNEL, c.user_hash == user_hash)
                )
            ).first()
        if row is None or not isinstance(row[0], dict):
            return False
        question = self.pipeline.engine.current_question(State.from_dict(row[0]))
        return question is not None and question.kind == "place"

    async def _answer(self, query_id: str) -> None:
        from telegram.error import TelegramError

        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # too old, already answered, API down: the reply still comes
            log.info("answerCallbackQuery failed: %s", exc)

    # ------------------------------------------------------------------ lifecycle

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

        from bot.channels.telegram_send import retry_after_seconds

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


def build_router(
    pipeline: Pipeline, settings: Settings, channel: TelegramChannel | None = None
) -> APIRouter:
    """`POST /telegram/webhook`, with the channel's sender running for the app's lifetime."""
    from bot import edge
    from bot.channels.lifespan import running

    tg = channel or TelegramChannel(settings, pipeline, polling=settings.telegram_polling)
    secret = webhook_secret(settings)

    router = APIRouter(lifespan=running(tg), tags=["telegram"])

    @router.post("/telegram/webhook")
    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return JSONResponse({"detail": "update too large"}, status_code=413)
        try:  # signed but unusable: acknowledged, or Telegram re-sends it forever
            data = edge.loads(body)
        except edge.EdgeError as exc:
            edge.ignored(CHANNEL, exc.error)
            return JSONResponse({})
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            edge.ignored(CHANNEL, "not_an_update")
            return JSONResponse({})
        # An exception gives a 500, and Telegram delivers the update again later.
        await tg.handle_update(data)
        return JSONResponse({})

    router.telegram_channel = tg  # type: ignore[attr-defined]
    return router


def mount(app: FastAPI, pipeline: Pipeline, settings: Settings) -> TelegramChannel:
    router = build_router(pipeline, settings)
    app.include_router(router)
    channel: TelegramChannel = router.telegram_channel  # type: ignore[attr-defined]
    app.state.telegram = channel
    return channel

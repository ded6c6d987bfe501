"""Telegram updates -> `Inbound`: commands, taps, shared locations, plain text.

Only private chats are answered; everything else is left alone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import TYPE_CHECKING, Any

from bot.channels.telegram.render import Tap
from bot.pipeline import Inbound

if TYPE_CHECKING:
    from telegram import Update

    from bot.config import Settings

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

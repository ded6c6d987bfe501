"""Telegram updates -> `Inbound`: commands, taps, shared locations, plain text.

Only private chats are answered; everything else is left alone.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import math
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


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not an object")
    return value


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} is not an integer")
    return value


def _coordinate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("location is not two finite numbers")
    return float(value)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _text_html(message: dict[str, Any]) -> str:
    """The message's text as Telegram HTML (what an edit must send to keep its formatting).
    Without entities that is the escaped text; with them PTB converts (UTF-16 offsets,
    nesting), from a message of just the text and its entities."""
    text = _str(message.get("text"))
    entities = message.get("entities")
    if not text or not entities:
        return html.escape(text, quote=False)
    from telegram import Message

    minimal = {"message_id": 0, "date": 1, "chat": {"id": 0, "type": "private"}}
    parsed = Message.de_json({**minimal, "text": text, "entities": entities}, None)
    return parsed.text_html if parsed is not None else html.escape(text, quote=False)


def _tap(query: dict[str, Any]) -> Tap | None:
    message = query.get("message")
    if not isinstance(message, dict) or not message.get("date"):
        return None  # an old message Telegram no longer shows us (date 0)
    markup = message.get("reply_markup")
    keyboard = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise ValueError("inline_keyboard is not a list of rows")
    return Tap(
        message_id=_int(message.get("message_id"), "message_id"),
        data=_str(query.get("data")),
        text_html=_text_html(message),
        keyboard=keyboard,
    )


def _meta(user: dict[str, Any]) -> dict[str, Any]:
    lang = language(_str(user.get("language_code")) or None)
    return {"lang": lang} if lang else {}


def to_inbound(update: Update) -> tuple[Inbound, int, Tap | None] | None:
    """`from_update` for PTB's objects (polling mode)."""
    return from_update(update.to_dict())


def from_update(data: dict[str, Any]) -> tuple[Inbound, int, Tap | None] | None:
    """(inbound, chat id, tapped button) for updates we answer; None for everything else.

    Reads the update's JSON as it comes: building PTB's object tree for every update cost
    more CPU than the turn. A malformed update raises ValueError."""
    external_id = str(_int(data.get("update_id"), "update_id"))
    if "callback_query" in data:
        query = _object(data["callback_query"], "callback_query")
        message = query.get("message")
        shown_in = message.get("chat") if isinstance(message, dict) else None
        if isinstance(shown_in, dict) and shown_in.get("type") != "private":
            return None
        user = _object(query.get("from"), "from")
        user_id = _int(user.get("id"), "from.id")
        inbound = Inbound(
            CHANNEL,
            str(user_id),
            payload=_str(query.get("data")),
            external_id=external_id,
            meta=_meta(user),
        )
        chat_id = _int(shown_in.get("id"), "chat.id") if isinstance(shown_in, dict) else user_id
        return inbound, chat_id, _tap(query)
    message = data.get("message")
    if not isinstance(message, dict):
        return None
    chat = _object(message.get("chat"), "chat")
    author = message.get("from")
    if not isinstance(author, dict) or chat.get("type") != "private":
        return None
    meta = _meta(author)
    sender, chat_id = str(_int(author.get("id"), "from.id")), _int(chat.get("id"), "chat.id")
    location = message.get("location")
    if location is not None:
        point = _object(location, "location")
        lat, lon = _coordinate(point.get("latitude")), _coordinate(point.get("longitude"))
        return (
            Inbound(CHANNEL, sender, location=(lat, lon), external_id=external_id, meta=meta),
            chat_id,
            None,
        )
    text = _str(message.get("text"))
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

"""Cloud API webhook bodies -> `Inbound` messages: text, reply buttons, list rows, template
quick replies, shared locations, the first "welcome" of a new chat; media get a friendly
"sorry"; reactions, edits, system notices and statuses are left alone.

Reads the JSON as Meta documents it ("Webhooks: messages"), one message at a time. pywa still
verifies each body's signature (bot.channels.whatsapp.channel); parsing with it as well meant
re-encoding every message as a body of its own and building its object model, which cost more
CPU per message than the turn.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bot import edge
from bot.pipeline import Inbound

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
MEDIA = frozenset({"image", "video", "audio", "document", "sticker", "contacts"})


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{what} is not a list")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a string")
    return value


def _coordinate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("location is not two numbers")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("location is not finite")
    return number


def contact_for(message: dict[str, Any], contacts: list[Any]) -> dict[str, Any]:
    """The contact entry of one message's sender (synthesised when Meta left it out)."""
    entries = [c for c in contacts if isinstance(c, dict)]
    for contact in entries:
        if message.get("from_user_id") and contact.get("user_id") == message["from_user_id"]:
            return contact
        if message.get("from") and contact.get("wa_id") == message["from"]:
            return contact
    if len(entries) == 1:
        return entries[0]
    synthetic = {"wa_id": message.get("from"), "user_id": message.get("from_user_id")}
    return {k: v for k, v in synthetic.items() if v}


def sender_key(contact: dict[str, Any]) -> str:
    """The business-scoped user id (BSUID), or the phone-number wa_id when there is none."""
    key = contact.get("user_id") or contact.get("wa_id")
    if not isinstance(key, str) or not key:
        raise ValueError("message without a sender")
    return key


def _inbound(message: dict[str, Any], key: str) -> Inbound | None:
    """One message as the pipeline's input; None for what needs no answer."""
    kind = message.get("type")
    wamid = _text(message.get("id"), "message id")
    if kind == "text":
        body = _text(_object(message.get("text"), "text").get("body", ""), "text.body")
        # A radio keyword ("KRACHT") in a first message is attributed by the pipeline.
        return Inbound(CHANNEL, key, text=body, external_id=wamid)
    if kind == "interactive":
        interactive = message.get("interactive")
        if not isinstance(interactive, dict):  # Meta sends `errors` when it could not deliver it
            return None
        chosen = (
            interactive.get(interactive.get("type"))
            if interactive.get("type")
            in (
                "button_reply",
                "list_reply",
            )
            else None
        )
        if not isinstance(chosen, dict):
            return None  # flows, call permissions: not ours
        payload = _text(chosen.get("id"), "reply id")
        return Inbound(CHANNEL, key, payload=payload, external_id=wamid)
    if kind == "button":  # a template's quick-reply button
        payload = _text(_object(message.get("button"), "button").get("payload"), "payload")
        return Inbound(CHANNEL, key, payload=payload, external_id=wamid)
    if kind == "location":
        point = _object(message.get("location"), "location")
        where = (_coordinate(point.get("latitude")), _coordinate(point.get("longitude")))
        return Inbound(CHANNEL, key, location=where, external_id=wamid)
    if kind == "request_welcome":  # the person opened the chat for the first time: greet them
        return Inbound(CHANNEL, key, payload="/start", external_id=wamid)
    if kind in MEDIA:  # a photo or voice note: "sorry, I did not understand" beats silence
        return Inbound(CHANNEL, key, text="", external_id=wamid)
    return None  # reactions, edits, orders, system notices


def _sent_at(message: dict[str, Any]) -> datetime:
    stamp = message.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, str | int):
        raise ValueError("message without a timestamp")
    return datetime.fromtimestamp(int(stamp), tz=UTC)


def read_messages(data: Any, phone_id: str = "") -> Iterator[tuple[Inbound, str, datetime]]:
    """(inbound, recipient, message time) for every message in a webhook body addressed to
    `phone_id` (others are skipped, as pywa's `filter_updates` did). A malformed body raises
    ValueError; a malformed message in it is counted (bot.edge.ignored) and skipped."""
    body = _object(data, "body")
    for entry in _list(body.get("entry"), "entry"):
        for change in _list(_object(entry, "entry").get("changes"), "changes"):
            change = _object(change, "change")
            if change.get("field") != "messages":
                continue
            value = _object(change.get("value"), "value")
            for status in _list(value.get("statuses"), "statuses"):
                if isinstance(status, dict) and status.get("status") == "failed":
                    log.warning("WhatsApp could not deliver a message: %s", status.get("errors"))
            metadata = value.get("metadata")
            to = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            if phone_id and to and to != phone_id:
                continue
            contacts = _list(value.get("contacts"), "contacts")
            for message in _list(value.get("messages"), "messages"):
                try:  # one unreadable message does not cost the others their answer
                    message = _object(message, "message")
                    key = sender_key(contact_for(message, contacts))
                    inbound = _inbound(message, key)
                    found = None if inbound is None else (inbound, key, _sent_at(message))
                except (ValueError, TypeError, OverflowError) as exc:
                    edge.ignored(CHANNEL, "malformed", exc)
                    continue
                if found is not None:
                    yield found

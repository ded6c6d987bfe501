"""The WhatsApp channel (Cloud API via pywa): webhook -> Inbound -> pipeline -> outbox.

`GET /whatsapp/webhook` answers Meta's verification challenge; `POST /whatsapp/webhook` checks
`X-Hub-Signature-256` with pywa's own validator (403 when it does not match), lets pywa parse
each message (text, reply button, list row, shared location) and hands it to the pipeline.
Replies may only be free-form inside the 24-hour service window that the person's message
opens; every outbox row carries the end of that window.
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bot.channels.base import Outbound, RenderContext
from bot.channels.outbox import OutboxSender
from bot.channels.whatsapp import render as whatsapp_render
from bot.channels.whatsapp.send import WhatsAppDelivery, build_client, graph_session
from bot.pipeline import Inbound

if TYPE_CHECKING:
    from pywa_async import WhatsApp

    from bot.config import Settings
    from bot.pipeline import Pipeline

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
SERVICE_WINDOW = timedelta(hours=24)
MAX_BODY_BYTES = 512 * 1024
_MEDIA = frozenset({"image", "video", "audio", "document", "sticker", "contacts"})

# What a malformed (but signed) body raises while parsed; database errors are not among them.
_UNUSABLE = (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError)

_collected: contextvars.ContextVar[list[tuple[Inbound, str, datetime]]] = contextvars.ContextVar(
    "whatsapp_collected"
)


def _contact_for(message: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """The contact entry of one message's sender (synthesised when Meta left it out)."""
    for contact in contacts:
        if message.get("from_user_id") and contact.get("user_id") == message["from_user_id"]:
            return contact
        if message.get("from") and contact.get("wa_id") == message["from"]:
            return contact
    if len(contacts) == 1:
        return contacts[0]
    synthetic = {"wa_id": message.get("from"), "user_id": message.get("from_user_id")}
    return {k: v for k, v in synthetic.items() if v}


def split_updates(data: dict[str, Any]) -> list[bytes]:
    """One webhook body per message: pywa reads only the first message of an update."""
    bodies: list[bytes] = []
    for entry in data.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if change.get("field") != "messages":
                continue
            for status in value.get("statuses") or []:
                if status.get("status") == "failed":
                    log.warning("WhatsApp could not deliver a message: %s", status.get("errors"))
            contacts = list(value.get("contacts") or [])
            for message in value.get("messages") or []:
                single = {
                    **value,
                    "messages": [message],
                    "contacts": [_contact_for(message, contacts)],
                }
                body = {
                    "object": data.get("object", "whatsapp_business_account"),
                    "entry": [
                        {"id": entry.get("id"), "changes": [{"field": "messages", "value": single}]}
                    ],
                }
                bodies.append(json.dumps(body).encode())
    return bodies


def sender_key(user: Any) -> str:
    """The business-scoped user id (BSUID), or the phone-number wa_id when there is none."""
    return str(user.bsuid or user.wa_id)


class WhatsAppChannel:
    """The pywa client, the outbox sender and the webhook handling of one process."""

    name = CHANNEL

    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline,
        *,
        client: WhatsApp | None = None,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self._session = graph_session(settings) if client is None else None
        self.client = client or build_client(settings, self._session)
        self.delivery = WhatsAppDelivery(settings)
        self.sender = OutboxSender(pipeline.database(), self.delivery)
        self._register_handlers()

    # ------------------------------------------------------------------ parsing (pywa)

    def _register_handlers(self) -> None:
        from pywa_async.handlers import (
            CallbackButtonHandler,
            CallbackSelectionHandler,
            MessageHandler,
        )

        self.client.add_handlers(
            MessageHandler(self._on_message),
            CallbackButtonHandler(self._on_reply),
            CallbackSelectionHandler(self._on_reply),
        )

    @staticmethod
    def _collect(inbound: Inbound, update: Any) -> None:
        sent_at = update.timestamp
        _collected.get().append((inbound, inbound.sender, sent_at))

    async def _on_message(self, _client: Any, message: Any) -> None:
        from pywa.types import MessageType

        key = sender_key(message.from_user)
        kind = message.type
        if kind == MessageType.LOCATION and message.location is not None:
            loc = (float(message.location.latitude), float(message.location.longitude))
            inbound = Inbound(CHANNEL, key, location=loc, external_id=message.id)
        elif kind == MessageType.REQUEST_WELCOME:
            # The person opened the chat for the first time: greet them.
            inbound = Inbound(CHANNEL, key, payload="/start", external_id=message.id)
        elif kind == MessageType.TEXT:
            # A radio keyword ("KRACHT") in a first message is attributed by the pipeline.
            inbound = Inbound(CHANNEL, key, text=message.text or "", external_id=message.id)
        elif kind in _MEDIA:
            # A photo or voice note: "sorry, I did not understand" beats silence.
            inbound = Inbound(CHANNEL, key, text="", external_id=message.id)
        else:
            return  # reactions, orders, system notices: nothing to answer
        self._collect(inbound, message)

    async def _on_reply(self, _client: Any, reply: Any) -> None:
        payload = str(reply.data)
        inbound = Inbound(
            CHANNEL, sender_key(reply.from_user), payload=payload, external_id=reply.id
        )
        self._collect(inbound, reply)

    async def parse(self, body: bytes) -> list[tuple[Inbound, str, datetime]]:
        """(inbound, recipient, message time) for every message in a verified webhook body."""
        from bot import edge

        data = edge.loads_clean(body)  # depth-bounded; EdgeError is a ValueError
        if not isinstance(data, dict):
            raise ValueError("body is not a webhook update")
        found: list[tuple[Inbound, str, datetime]] = []
        for single in split_updates(data):
            token = _collected.set([])
            try:
                await self.client.webhook_update_handler(single)
                found += _collected.get()
            finally:
                _collected.reset(token)
        return found

    # ------------------------------------------------------------------ handling

    async def handle_body(self, body: bytes) -> int:
        """Process every message of a verified webhook body; returns how many."""
        from bot import edge

        try:  # a signed body we cannot use is acknowledged and counted (bot/edge.py)
            found = [(edge.clean_inbound(i), r, t) for i, r, t in await self.parse(body)]
        except _UNUSABLE as exc:
            edge.ignored(CHANNEL, "malformed", exc)
            return 0
        public_url = self.settings.public_url

        def render(replies: list[Any], context: RenderContext) -> list[dict[str, Any]]:
            return whatsapp_render.render(replies, context.lang, public_url)

        claim = self.sender.claim_seconds
        for inbound, recipient, sent_at in found:
            outbound = Outbound(CHANNEL, recipient, render, sent_at + SERVICE_WINDOW, claim)
            result = await self.pipeline.handle(inbound, outbound)
            # Handed over before the next message's turn: its rows then wait behind these.
            if result.claimed:
                self.sender.take(result.claimed)
            else:
                self.sender.wake(recipient)
        return len(found)

    def router(self) -> APIRouter:
        return build_router(self)

    async def start(self) -> None:
        self.sender.start()

    async def stop(self) -> None:
        await self.sender.stop()
        await self.delivery.close()
        if self._session is not None:
            await self._session.aclose()


def build_router(wa: WhatsAppChannel) -> APIRouter:
    """`GET|POST /whatsapp/webhook`, as plain Starlette endpoints (no per-request dependency
    solving on the hot path)."""
    from bot import edge

    settings = wa.settings

    async def verify(request: Request) -> Response:
        params = request.query_params
        if params.get("hub.mode") != "subscribe" or not settings.whatsapp_verify_token:
            return PlainTextResponse("Forbidden", status_code=403)
        body, status = await wa.client.webhook_challenge_handler(
            vt=params.get("hub.verify_token"), ch=params.get("hub.challenge")
        )
        return PlainTextResponse(body or "", status_code=status)

    async def receive(request: Request) -> Response:
        try:  # before the signature check: reading an unlimited body is work for anyone
            body = await edge.read_limited(request, MAX_BODY_BYTES)
        except edge.TooLarge:
            return JSONResponse({"detail": "update too large"}, status_code=413)
        if not settings.whatsapp_app_secret:
            log.error("VK_WHATSAPP_APP_SECRET is not set: WhatsApp webhooks cannot be verified")
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        problem = await wa.client.webhook_update_validator(
            body, request.headers.get(SIGNATURE_HEADER)
        )
        if problem is not None:
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        # Signed but unusable bodies are acknowledged and counted inside handle_body; an
        # exception (the database is down) gives a 500, and Meta delivers it again later.
        await wa.handle_body(body)
        return PlainTextResponse("ok")

    router = APIRouter(tags=["whatsapp"])
    router.add_route("/whatsapp/webhook", verify, methods=["GET"], include_in_schema=False)
    router.add_route("/whatsapp/webhook", receive, methods=["POST"], include_in_schema=False)
    return router

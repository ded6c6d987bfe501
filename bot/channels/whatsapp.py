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
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bot.channels import whatsapp_render
from bot.channels.outbox import OutboxSender, enqueue_in_turn
from bot.channels.whatsapp_send import WhatsAppDelivery, build_client, graph_session
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
_CAMPAIGN_CACHE_SECONDS = 60.0
_MEDIA = frozenset({"image", "video", "audio", "document", "sticker", "contacts"})

# What a malformed (but signed) body raises while parsed; database errors are not among them.
_UNUSABLE = (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError)

_collected: contextvars.ContextVar[list[tuple[Inbound, str, datetime]]] = contextvars.ContextVar(
    "whatsapp_collected"
)


def configured(settings: Settings) -> bool:
    return bool(settings.whatsapp_token and settings.whatsapp_phone_id)


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
        self.sender = OutboxSender(
            settings.database_url,
            WhatsAppDelivery(self.client),
        )
        self._campaigns: tuple[float, list[Any]] = (0.0, [])
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
            text = message.text or ""
            meta: dict[str, Any] = {}
            campaign = await self._campaign(text)
            if campaign:
                meta["campaign"] = campaign
            inbound = Inbound(CHANNEL, key, text=text, external_id=message.id, meta=meta)
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

        data = edge.clean(edge.loads(body))  # depth-bounded; EdgeError is a ValueError
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

    async def _campaign(self, text: str) -> str | None:
        """The campaign whose spoken keyword ("KRACHT") this message carries, if any."""
        if not text.strip():
            return None
        try:
            from bot.campaigns import match_campaign_keyword
            from bot.store.campaigns import campaigns_with_keyword
            from bot.store.db import session_scope
        except ImportError:
            return None
        fetched, campaigns = self._campaigns
        if time.monotonic() - fetched > _CAMPAIGN_CACHE_SECONDS:
            async with session_scope(self.settings.database_url) as session:
                campaigns = list(await campaigns_with_keyword(session))
            self._campaigns = (time.monotonic(), campaigns)
        return match_campaign_keyword(text, campaigns) if campaigns else None

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

        def render(replies: list[Any], lang: str) -> list[dict[str, Any]]:
            return whatsapp_render.render(replies, lang, public_url)

        for inbound, recipient, sent_at in found:
            hint = inbound.meta.get("lang") or self.settings.default_language
            window = sent_at + SERVICE_WINDOW
            await self.pipeline.handle(
                inbound, in_transaction=enqueue_in_turn(CHANNEL, recipient, render, hint, window)
            )
        if found:
            self.sender.wake()
        return len(found)

    async def start(self) -> None:
        self.sender.start()

    async def stop(self) -> None:
        await self.sender.stop()
        if self._session is not None:
            await self._session.aclose()


def build_router(
    pipeline: Pipeline, settings: Settings, channel: WhatsAppChannel | None = None
) -> APIRouter:
    """`GET|POST /whatsapp/webhook`, with the outbox sender running for the app's lifetime."""
    from bot.channels.lifespan import running

    wa = channel or WhatsAppChannel(settings, pipeline)

    router = APIRouter(lifespan=running(wa), tags=["whatsapp"])

    @router.get("/whatsapp/webhook")
    async def verify(request: Request) -> Response:
        params = request.query_params
        if params.get("hub.mode") != "subscribe" or not settings.whatsapp_verify_token:
            return PlainTextResponse("Forbidden", status_code=403)
        body, status = await wa.client.webhook_challenge_handler(
            vt=params.get("hub.verify_token"), ch=params.get("hub.challenge")
        )
        return PlainTextResponse(body or "", status_code=status)

    @router.post("/whatsapp/webhook")
    async def receive(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
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

    router.whatsapp_channel = wa  # type: ignore[attr-defined]
    return router


def mount(app: FastAPI, pipeline: Pipeline, settings: Settings) -> WhatsAppChannel:
    router = build_router(pipeline, settings)
    app.include_router(router)
    channel: WhatsAppChannel = router.whatsapp_channel  # type: ignore[attr-defined]
    app.state.whatsapp = channel
    return channel

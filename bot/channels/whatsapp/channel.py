"""The WhatsApp channel (Cloud API via pywa): webhook -> Inbound -> pipeline -> outbox.

`GET /whatsapp/webhook` answers Meta's verification challenge; `POST /whatsapp/webhook` checks
`X-Hub-Signature-256` with pywa's own validator (403 when it does not match), reads each message
(text, reply button, list row, shared location: bot.channels.whatsapp.inbound) and hands it to
the pipeline.
Replies may only be free-form inside the 24-hour service window that the person's message
opens; every outbox row carries the end of that window.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bot.channels.base import Outbound, RenderContext
from bot.channels.outbox import OutboxSender
from bot.channels.whatsapp import render as whatsapp_render
from bot.channels.whatsapp.inbound import read_messages
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

# What a malformed (but signed) body raises while parsed; database errors are not among them.
_UNUSABLE = (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError)


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

    # ------------------------------------------------------------------ parsing

    async def parse(self, body: bytes) -> list[tuple[Inbound, str, datetime]]:
        """(inbound, recipient, message time) for every message in a verified webhook body."""
        from bot import edge

        data = edge.loads_clean(body)  # depth-bounded; EdgeError is a ValueError
        return list(read_messages(data, self.settings.whatsapp_phone_id or ""))

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

        claim = self.sender.hand_over_seconds
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

"""The Rasa REST channel: `POST /webhooks/rest/webhook`, exactly as Rasa answers it.

Request `{"sender", "message", "metadata"?}`; answer a JSON list of
`{"recipient_id", "text"?, "buttons"?: [{"title", "payload"}], "image"?, "custom"?}`.
Extensions live under `custom`: `quiz` (question_id, kind, step, total) on questions, `multi`,
`selected`, `done`, `nav`, `options`, `allow_location` on button messages, `card` (+ the card's
data, so `result` on the result and `recommendation` on a vacancy) on cards, and `erased`
(true) on the first message of the answer to a turn that erased the person's data (a client
then drops what it keeps locally: transcript, sender id).

Metadata understood: `message_id` (idempotency: a repeated id is answered with the first
answer and not processed again), `lang`, `campaign`, `org`, `region`, `quiz` (the id of the
quiz a new conversation gets, when the server has several), `start` (bool),
`location` ({"lat", "lon"}) and `channel` ("rest" or "widget", for analytics).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bot.channels.base import ChannelSpec
from quiz.messages import Button, Buttons, Card, Image, Reply, Text

if TYPE_CHECKING:
    from bot.channels.base import Channel
    from bot.config import Settings
    from bot.pipeline import Inbound, Pipeline
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

PATH = "/webhooks/rest/webhook"
CHANNELS = ("rest", "widget")
_MAX_SENDER = 256
_MAX_META_STR = 128


@dataclass(frozen=True)
class BadRequest(Exception):
    """A request we refuse, with the HTTP status and a reason a client developer can act on."""

    status: int
    error: str
    detail: str

    def body(self) -> bytes:
        return dumps({"error": self.error, "detail": self.detail})


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


# ---------------------------------------------------------------------- inbound


def parse_body(raw: bytes, settings: Settings) -> Inbound:
    """Validate a REST request body and turn it into an Inbound (or raise BadRequest)."""
    from bot.pipeline import Inbound

    if len(raw) > settings.max_body_bytes:
        raise _too_large(settings)
    from bot import edge

    try:  # nesting bound before parsing; no lone surrogate or NUL anywhere (bot/edge.py)
        body = edge.loads_checked(raw)
    except edge.EdgeError as exc:
        raise BadRequest(exc.status, exc.error, exc.detail) from None
    if not isinstance(body, dict):
        raise BadRequest(400, "invalid_body", "the body must be a JSON object")
    sender = body.get("sender")
    if sender is None:
        raise BadRequest(400, "missing_sender", "'sender' is required")
    if not isinstance(sender, str):
        raise BadRequest(422, "invalid_sender", "'sender' must be a string")
    if not sender.strip() or len(sender) > _MAX_SENDER:
        raise BadRequest(422, "invalid_sender", f"'sender' must be 1 to {_MAX_SENDER} characters")
    metadata = body.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise BadRequest(422, "invalid_metadata", "'metadata' must be a JSON object")
    location = _location(metadata.get("location"))
    message = body.get("message")
    if message is None and location is None:
        raise BadRequest(400, "missing_message", "'message' is required")
    if message is not None and not isinstance(message, str):
        raise BadRequest(422, "invalid_message", "'message' must be a string")
    if message is not None and len(message) > settings.max_message_chars:
        raise BadRequest(
            422,
            "message_too_long",
            f"'message' has {len(message)} characters; the limit is {settings.max_message_chars}",
        )
    if location is None and not (message or "").strip():
        raise BadRequest(422, "empty_message", "'message' is empty")
    meta: dict[str, Any] = {}
    for key in ("lang", "campaign", "org", "region", "quiz"):
        value = metadata.get(key)
        if value is None:
            continue
        try:  # lengths of the columns they end up in
            edge.check_meta(key, value)
        except edge.EdgeError as exc:
            raise BadRequest(exc.status, exc.error, exc.detail) from None
        if value:
            meta[key] = value
    start = metadata.get("start")
    if start is not None and not isinstance(start, bool):
        raise BadRequest(422, "invalid_metadata", "'metadata.start' must be true or false")
    if start:
        meta["start"] = True
    channel = metadata.get("channel", "rest")
    if channel not in CHANNELS:
        raise BadRequest(
            422, "invalid_metadata", f"'metadata.channel' must be one of {', '.join(CHANNELS)}"
        )
    message_id = metadata.get("message_id")
    if message_id is not None and (
        isinstance(message_id, bool)
        or not isinstance(message_id, str | int)
        or len(str(message_id)) > _MAX_META_STR
    ):
        raise BadRequest(
            422, "invalid_metadata", "'metadata.message_id' must be a short string or number"
        )
    text = message if message is not None and location is None else None
    payload = None
    if text is not None and text.lstrip().startswith("/"):
        payload, text = text.strip(), None
    return Inbound(
        channel=channel,
        sender=sender,
        text=text,
        payload=payload,
        location=location,
        external_id=f"{sender}\x00{message_id}" if message_id is not None else None,
        meta=meta,
    )


def _location(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        lat = value.get("lat", value.get("latitude"))
        lon = value.get("lon", value.get("longitude"))
        if (
            isinstance(lat, int | float)
            and isinstance(lon, int | float)
            and not isinstance(lat, bool)
            and not isinstance(lon, bool)
            and -90 <= lat <= 90
            and -180 <= lon <= 180
        ):
            return float(lat), float(lon)
    raise BadRequest(
        422, "invalid_location", '\'metadata.location\' must be {"lat": number, "lon": number}'
    )


def _too_large(settings: Settings) -> BadRequest:
    return BadRequest(
        413, "body_too_large", f"the body is larger than {settings.max_body_bytes} bytes"
    )


# ---------------------------------------------------------------------- outbound


def _button(b: Button) -> dict[str, str]:
    return {"title": b.title, "payload": b.payload}


def render(
    replies: list[Reply], recipient_id: str, *, erased: bool = False, forgotten: bool = False
) -> list[dict[str, Any]]:
    """Neutral replies as Rasa REST messages.

    `forgotten`: the erasure ended a test without consent (the profile and vacancies were
    shown in this and earlier turns), so a client keeps its screen but stores nothing.
    """
    out = [render_one(r, recipient_id) for r in replies]
    if erased:
        if not out:
            out.append({"recipient_id": recipient_id})
        out[0].setdefault("custom", {})["erased"] = True
        if forgotten:
            out[0]["custom"]["forgotten"] = True
    return out


def render_one(reply: Reply, recipient_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"recipient_id": recipient_id}
    if isinstance(reply, Text):
        out["text"] = reply.text
    elif isinstance(reply, Buttons):
        out["text"] = reply.text
        buttons = [
            {
                "title": f"✓ {b.title}" if reply.multi and b.selected else b.title,
                "payload": b.payload,
            }
            for b in reply.buttons
        ]
        if reply.done is not None:
            buttons.append(_button(reply.done))
        buttons.extend(_button(b) for b in reply.nav)
        out["buttons"] = buttons
        custom: dict[str, Any] = {}
        if reply.quiz is not None:
            custom["quiz"] = reply.quiz.to_dict()
        if reply.multi:
            custom["multi"] = True
            custom["selected"] = [b.payload for b in reply.buttons if b.selected]
        if reply.done is not None:
            custom["done"] = _button(reply.done)
        if reply.nav:
            custom["nav"] = [_button(b) for b in reply.nav]
        if reply.allow_location:
            custom["allow_location"] = True
        if any(b.description for b in reply.buttons):
            custom["options"] = [
                {"title": b.title, "payload": b.payload, "description": b.description}
                for b in reply.buttons
            ]
        if custom:
            out["custom"] = custom
    elif isinstance(reply, Card):
        out["text"] = "\n\n".join(
            part for part in (reply.title, reply.subtitle, reply.text) if part
        )
        if reply.buttons:
            out["buttons"] = [_button(b) for b in reply.buttons]
        if reply.image_url:
            out["image"] = reply.image_url
        card_custom: dict[str, Any] = {
            "card": {
                "title": reply.title,
                "subtitle": reply.subtitle,
                "text": reply.text,
                "image_url": reply.image_url,
            }
        }
        card_custom.update(reply.data)
        out["custom"] = card_custom
    elif isinstance(reply, Image):
        out["image"] = reply.url
        out["custom"] = {"alt": reply.alt}
    return out


# ---------------------------------------------------------------------- HTTP


async def read_body(request: Request, settings: Settings) -> bytes:
    """The request body, refusing (413) anything over the limit without reading it all."""
    from bot.edge import TooLarge, read_limited

    try:
        return await read_limited(request, settings.max_body_bytes)
    except TooLarge:
        raise _too_large(settings) from None


def endpoint(pipeline: Pipeline, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """The webhook as a plain Starlette endpoint (no FastAPI dependency solving per request:
    this is the hot path, and the body is validated by hand to give precise 4xx reasons)."""
    from bot import metrics
    from bot.flood import Busy
    from bot.http_errors import is_database_unavailable

    async def rest_webhook(request: Request) -> Response:
        try:
            inbound = parse_body(await read_body(request, settings), settings)
        except BadRequest as exc:
            metrics.rejected("rest", exc.error)
            return Response(exc.body(), status_code=exc.status, media_type="application/json")
        try:
            result = await pipeline.handle(inbound)
        except Busy as exc:  # no room for a new conversation now (bot/flood.py)
            return Response(
                dumps({"error": "busy", "detail": "too many new conversations; try again soon"}),
                status_code=503,
                media_type="application/json",
                headers={"Retry-After": exc.retry_after_header},
            )
        except Exception as exc:
            if is_database_unavailable(exc):
                raise  # bot.http_errors answers 503 with Retry-After
            log.exception("REST message failed")
            return Response(
                dumps({"error": "internal", "detail": "the message could not be handled"}),
                status_code=500,
                media_type="application/json",
            )
        return Response(
            dumps(
                render(
                    result.replies,
                    inbound.sender,
                    erased=result.erased,
                    forgotten=result.forgotten,
                )
            ),
            media_type="application/json",
        )

    return rest_webhook


class RestChannel:
    """`POST /webhooks/rest/webhook`: answers in the HTTP response, so no outbox sender."""

    name = "rest"
    sender = None

    def __init__(self, pipeline: Pipeline, settings: Settings) -> None:
        self.pipeline = pipeline
        self.settings = settings

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_route(
            PATH, endpoint(self.pipeline, self.settings), methods=["POST"], include_in_schema=False
        )
        return router

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def _build(runtime: Runtime) -> Channel:
    return RestChannel(runtime.pipeline, runtime.settings)


SPEC = ChannelSpec("rest", lambda _settings: True, _build, label="REST")

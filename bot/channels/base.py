"""The channel contract: what every channel adapter gives the pipeline and gets back.

A channel turns its platform's payloads into `Inbound` messages (bot.pipeline), and, when it
delivers later instead of answering in the HTTP response, hands the pipeline an `Outbound`:
where its replies go and how to render them. The pipeline renders inside the turn's own
transaction with a `RenderContext` (so no channel reads the database) and stores the result
as outbox rows; the channel's `Delivery` sends them afterwards (bot.channels.outbox).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from fastapi import APIRouter

    from bot.channels.outbox import OutboxSender
    from bot.config import Settings
    from bot.runtime import Runtime
    from quiz.messages import Reply
    from quiz.model import Question


@dataclass(frozen=True)
class RenderContext:
    """What a renderer may know about the turn besides its replies."""

    lang: str
    conversation_id: str
    # The question on screen before this message, and the one asked now (None: none).
    question_before: Question | None = None
    question_after: Question | None = None
    erased: bool = False


Render = Callable[[list["Reply"], RenderContext], Sequence[dict[str, Any]]]


@dataclass(frozen=True)
class Outbound:
    """Where a delivering channel wants this turn's replies: rendered into outbox rows."""

    channel: str
    chat_id: str
    render: Render
    # WhatsApp: free-form replies only until the person's 24-hour service window closes.
    window_ends_at: datetime | None = None
    # A sender in this process takes the turn's rows as they are written: claimed for this
    # many seconds (bot.channels.outbox.OutboxSender.take); None leaves them to its claim.
    claim_seconds: float | None = None


class Channel(Protocol):
    """A running channel: its routes, and a sender when it delivers through the outbox."""

    name: str

    def router(self) -> APIRouter | None: ...

    @property
    def sender(self) -> OutboxSender | None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class ChannelSpec:
    """One registry line: a channel's name, whether its settings are present, how to build it."""

    name: str
    configured: Callable[[Settings], bool]
    build: Callable[[Runtime], Channel]
    # Shown by `serve` and in reports; also the campaign link kinds (telegram, whatsapp, web).
    label: str = ""

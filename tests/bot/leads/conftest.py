"""A real SMTP sink (aiosmtpd) on 127.0.0.1 and settings that send to it."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest

from bot.config import Settings
from tests.fakes.server import free_port


class Sink:
    """Keeps every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp_sink: tuple[Sink, int]) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink[1],
            "smtp_starttls": False,
            "public_url": "http://testserver",
            "jobs_runner": False,
        }
    )


def text_of(message: Message) -> str:
    part = message.get_payload()[0] if message.is_multipart() else message  # type: ignore[index]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")

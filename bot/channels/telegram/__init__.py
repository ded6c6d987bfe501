"""Telegram: inbound (updates -> Inbound), render (replies -> Bot API calls), send (delivery),
channel (webhook, polling, the outbox sender)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.base import ChannelSpec

if TYPE_CHECKING:
    from bot.channels.base import Channel
    from bot.config import Settings
    from bot.runtime import Runtime


def configured(settings: Settings) -> bool:
    return bool(settings.telegram_token)


def build(runtime: Runtime) -> Channel:
    from bot.channels.telegram.channel import TelegramChannel

    settings = runtime.settings
    return TelegramChannel(settings, runtime.pipeline, polling=settings.telegram_polling)


SPEC = ChannelSpec("telegram", configured, build, label="Telegram")

"""WhatsApp (Cloud API via pywa): inbound (webhook bodies -> Inbound), render (replies ->
messages within WhatsApp's limits), send (delivery), channel (webhook, the outbox sender)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.base import ChannelSpec

if TYPE_CHECKING:
    from bot.channels.base import Channel
    from bot.config import Settings
    from bot.runtime import Runtime


def configured(settings: Settings) -> bool:
    return bool(settings.whatsapp_token and settings.whatsapp_phone_id)


def build(runtime: Runtime) -> Channel:
    from bot.channels.whatsapp.channel import WhatsAppChannel

    return WhatsAppChannel(runtime.settings, runtime.pipeline)


SPEC = ChannelSpec("whatsapp", configured, build, label="WhatsApp")

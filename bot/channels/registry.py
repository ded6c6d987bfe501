"""Every channel this product has: one line each. App, `serve`, campaigns, reports and admin
read this list; adding a channel is one folder plus one line here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels import rest, telegram, whatsapp, widget

if TYPE_CHECKING:
    from bot.channels.base import ChannelSpec
    from bot.config import Settings

CHANNELS: tuple[ChannelSpec, ...] = (
    rest.SPEC,
    widget.SPEC,
    telegram.SPEC,
    whatsapp.SPEC,
)


def configured(settings: Settings) -> list[ChannelSpec]:
    """The channels whose settings are present (the others are simply not mounted)."""
    return [spec for spec in CHANNELS if spec.configured(settings)]


def names() -> tuple[str, ...]:
    return tuple(spec.name for spec in CHANNELS)

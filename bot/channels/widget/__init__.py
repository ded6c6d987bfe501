"""The embeddable web widget: its built script (`dist/widget.js`, source in `src/`), the demo
and embed pages, and the origin allowlist that guards the REST endpoint for browsers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.base import ChannelSpec

if TYPE_CHECKING:
    from fastapi import APIRouter

    from bot.channels.base import Channel
    from bot.runtime import Runtime


class WidgetChannel:
    """The widget's pages and script; its messages travel over the REST endpoint."""

    name = "widget"
    sender = None

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def router(self) -> APIRouter:
        from bot.channels.widget.routes import build_router

        return build_router(self.runtime.settings)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def _build(runtime: Runtime) -> Channel:
    return WidgetChannel(runtime)


SPEC = ChannelSpec("widget", lambda _settings: True, _build, label="Web")

"""The real app, with every turn held open 30 ms inside its transaction.

Race tests run servers from this factory so that concurrent requests are certain to overlap
in the critical section: without per-conversation locking they would lose updates.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI

from bot.app import create_app
from bot.config import get_settings

HOLD_SECONDS = 0.03


def factory() -> FastAPI:
    app = create_app(get_settings())
    pipeline = app.state.pipeline
    turn = pipeline._turn

    async def slow_turn(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(HOLD_SECONDS)
        return await turn(*args, **kwargs)

    pipeline._turn = slow_turn
    return app

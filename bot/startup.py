"""What `serve` and `chat` do before the first message: migrate, seed demo data, train NLU.

Each step is optional in the sense that a feature not installed is skipped, never fatal.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)


def _optional(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


async def prepare(settings: Settings, quiet: bool = False) -> list[str]:
    """Bring the installation to a state that can answer; returns what was done."""
    from bot.store.migrate import upgrade

    done: list[str] = []
    await asyncio.to_thread(upgrade, settings.database_url)
    done.append("database up to date")
    ensure_demo = _optional("bot.orgs.demo", "ensure_demo")
    if ensure_demo is not None:
        result = ensure_demo(settings)
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            done.append(f"demo organisations loaded ({result})")
    ensure_model = _optional("bot.nlu.training", "ensure_model")
    if ensure_model is not None and not settings.rasa_url:
        result = ensure_model(settings)
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            done.append("language model trained")
    if not quiet:
        for line in done:
            log.info(line)
    return done

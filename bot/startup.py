"""What `serve` and `chat` do before the first message: migrate, seed demo data, train NLU."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)


async def prepare(settings: Settings, quiet: bool = False) -> list[str]:
    """Bring the installation to a state that can answer; returns what was done."""
    from bot.nlu.training import ensure_model
    from bot.orgs.demo import ensure_demo
    from bot.store.migrate import upgrade

    done: list[str] = []
    await asyncio.to_thread(upgrade, settings.database_url)
    done.append("database up to date")
    loaded = await asyncio.to_thread(ensure_demo, settings)
    if loaded:
        done.append(f"demo organisations loaded ({loaded})")
    if not settings.rasa_url and await asyncio.to_thread(ensure_model, settings):
        done.append("language model trained")
    if not quiet:
        for line in done:
            log.info(line)
    return done

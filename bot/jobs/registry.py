"""Job kinds: one dict from kind to async handler.

A handler gets a `Context` (settings, the clock's now, the job) and returns a short note for
`jobs run` (or None). Raising means "try again later" (with backoff); raising `GiveUp` means
the job can never succeed. Periodic kinds (`every`) are kept scheduled by the runner itself.
Feature modules register their kinds at import; `MODULES` names them.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.jobs.store import Job

# Modules whose import registers job kinds.
MODULES: tuple[str, ...] = (
    "bot.leads.handlers",
    "bot.leads.followups",
    "bot.retention",
    "bot.orgs.still_open",
)


@dataclass(frozen=True)
class Context:
    settings: Settings
    now: datetime
    job: Job

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload


Handler = Callable[[Context], Awaitable[str | None]]


class GiveUp(Exception):
    """The job cannot succeed however often it is tried (it is marked dead)."""


@dataclass(frozen=True)
class Kind:
    handler: Handler
    every: timedelta | None = None  # periodic
    max_attempts: int = 8


HANDLERS: dict[str, Kind] = {}


def register(
    kind: str, *, every: timedelta | None = None, max_attempts: int = 8
) -> Callable[[Handler], Handler]:
    def add(handler: Handler) -> Handler:
        HANDLERS[kind] = Kind(handler, every, max_attempts)
        return handler

    return add


def kinds() -> dict[str, Kind]:
    """Every registered kind (importing the feature modules first)."""
    for module in MODULES:
        importlib.import_module(module)
    return HANDLERS

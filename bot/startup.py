"""What `serve` and `chat` do before the first message: migrate, seed demo data, train NLU.

With several workers (`serve --workers N`) preparation happens once, in the serving process,
beside the workers rather than before them: the workers start at once (answering with the
engine's own matching), wait for the prepared-file that `prepare_beside_workers` writes and
then load the language model in the background. /readyz says "ready" from then on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.config import Settings

log = logging.getLogger(__name__)
# Set by `serve` for its workers: the file that appears once preparation is done.
PREPARED_ENV = "VRIJWILLIGERSKRACHT_PREPARED_FILE"
WAIT_LIMIT_S = 1800.0


async def prepare(settings: Settings, quiet: bool = False) -> list[str]:
    """Bring the installation to a state that can answer; returns what was done.

    In a worker of `serve --workers N` the serving process prepares: this only waits."""
    flag = os.environ.get(PREPARED_ENV)
    if flag:
        await _wait_for(Path(flag))
        return ["database up to date"]
    return await _prepare(settings, quiet)


async def _prepare(settings: Settings, quiet: bool, migrate: bool = True) -> list[str]:
    from bot.nlu.training import ensure_model
    from bot.orgs.demo import ensure_demo

    done: list[str] = []
    if migrate:
        await asyncio.to_thread(upgrade_if_needed, settings.database_url)
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


async def _wait_for(flag: Path) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not flag.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


def upgrade_if_needed(url: str) -> bool:
    """Run the migrations unless the database is at every head already (a restart then
    skips Alembic's environment entirely); True when it migrated."""
    from bot.store.migrate import upgrade

    try:
        if _current_heads(url) >= script_heads():
            return False
    except Exception:  # no database yet, no version table: let Alembic create it
        log.debug("schema check failed; migrating", exc_info=True)
    upgrade(url)
    return True


def script_heads() -> frozenset[str]:
    """The head of every migration branch, read from the revision files' own header lines
    (importing Alembic and every revision module costs a restart most of a second)."""
    from bot.store.migrate import MIGRATIONS

    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = re.search(r'^revision\s*=\s*["\']([^"\']+)', text, re.M)
        if found:
            revisions.add(found[1])
        # A revision another one names in `down_revision` or `depends_on` is not a head: Alembic
        # keeps only the dependent one in alembic_version.
        for line in re.findall(r"^(?:down_revision|depends_on)\s*=\s*(.+)$", text, re.M):
            parents.update(re.findall(r'["\']([^"\']+)["\']', line))
    return frozenset(revisions - parents)


def _current_heads(url: str) -> set[str]:
    from sqlalchemy import text

    from bot.store.db import get_sync_engine

    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    finally:
        engine.dispose()


def prepared_flag(folder: Path) -> Path:
    """Where the workers look for "preparation done" (set before they start)."""
    flag = folder / "prepared"
    flag.unlink(missing_ok=True)
    os.environ[PREPARED_ENV] = str(flag)
    return flag


def prepare_beside_workers(settings: Settings, flag: Path) -> threading.Thread:
    """Demo data and the language model in a thread of the serving process, once; workers
    find `flag` when it is done (also when it failed: they then serve without)."""

    def run() -> None:
        try:
            done = asyncio.run(_prepare(settings, quiet=True, migrate=False))
            for line in done[1:]:
                log.warning("  %s", line)
        except Exception:
            log.exception("preparation failed; serving without demo data or language model")
        finally:
            flag.parent.mkdir(parents=True, exist_ok=True)
            flag.write_text(str(os.getpid()), encoding="utf-8")

    thread = threading.Thread(target=run, name="prepare", daemon=True)
    thread.start()
    return thread


def start_report_refresher(settings: Settings, every: float = 60.0) -> threading.Thread:
    """Fold new events into the report counters every minute, in a thread with its own event
    loop and engine, so a report never has much to catch up on."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.analytics.aggregates import refresh_forever
    from bot.store.db import async_url, is_sqlite

    async def run() -> None:
        url = async_url(settings.database_url)
        args = {"connect_args": {"timeout": 30}} if is_sqlite(url) else {}
        engine = create_async_engine(url, **args)
        try:
            await refresh_forever(engine, every)
        finally:
            await engine.dispose()

    thread = threading.Thread(target=asyncio.run, args=(run(),), name="reports", daemon=True)
    thread.start()
    return thread


def worker_app() -> FastAPI:
    """Entry point of each `serve --workers N` worker: answer at once, load the model when
    the serving process has prepared it."""
    from bot.app import create_app
    from bot.config import get_settings

    return create_app(get_settings(), prepare_in_background=bool(os.environ.get(PREPARED_ENV)))

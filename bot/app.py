"""The ASGI application: channels, health and metrics around the one pipeline.

`create_app(settings)` builds everything from the settings object; nothing happens at import
time (migrations run in `serve`, not here). Channels whose settings are absent are not mounted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.config import Settings
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# Seconds a freshly started worker serves before it loads the language model (see _prepare).
WORKER_MODEL_DELAY_S = 3.0


def create_app(settings: Settings, *, prepare_in_background: bool = False) -> FastAPI:
    """The app. `prepare_in_background` (used by `serve` with one worker): answer at once and
    load demo data and the language model while already serving."""
    from fastapi import FastAPI

    from bot.jobs.runner import start as start_jobs
    from bot.runtime import build_runtime

    runtime = build_runtime(settings, defer_interpreter=prepare_in_background)
    pipeline = runtime.pipeline

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from bot.store.db import dispose_all

        task = None
        if prepare_in_background:
            app.state.preparing = True
            task = asyncio.create_task(_prepare(runtime))
            task.add_done_callback(lambda _t: setattr(app.state, "preparing", False))
        await runtime.start()
        stop_jobs = start_jobs(settings)  # durable jobs: lead delivery, reminders (bot.jobs)
        try:
            yield
        finally:
            if task is not None and not task.done():
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await stop_jobs()
            await runtime.stop()
            await dispose_all()

    app = FastAPI(
        # OpenTelemetry off: its per-request check costs more CPU than our whole REST turn
        # budget allows, and nothing here exports traces.
        telemetry={"tracing": False, "metrics": False},
        title="Vrijwilligerskracht",
        summary="Ontdek je vrijwilligerskracht — quiz chatbot service",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.pipeline = pipeline
    app.state.preparing = False
    for name, channel in runtime.channels.items():
        setattr(app.state, name, channel)

    # Browsers may call the REST endpoint only from allowed origins (per organisation, plus
    # settings.cors_origins and our own pages); elsewhere it adds CORS for cors_origins.
    from bot.channels.widget import cors as widget_cors
    from bot.store.organisations import allowed_origins_lookup

    app.add_middleware(
        widget_cors.OriginAllowlist,
        settings=settings,
        org_origins=allowed_origins_lookup(settings.database_url),
    )
    # Outermost: NUL / control characters in any path or query string get one 400 (bot/edge.py).
    from bot.edge import QueryGuard

    app.add_middleware(QueryGuard)

    for channel in runtime.channels.values():
        router = channel.router()
        if router is not None:
            app.include_router(router)

    from bot.admin.routes import build_landing_router
    from bot.admin.routes import build_router as build_admin_router
    from bot.admin.vacancies import build_router as build_vacancy_router
    from bot.leads.routes import build_router as build_lead_router
    from bot.orgs.still_open import build_router as build_still_open_router
    from bot.privacy_page import build_router as build_privacy_router

    app.include_router(build_landing_router(settings))
    app.include_router(build_admin_router(settings))
    app.include_router(build_vacancy_router(settings))
    app.include_router(build_lead_router(settings))  # /l/{token}: the organisation's lead page
    app.include_router(build_still_open_router(settings))  # /v/{token}: "nog nodig?"
    app.include_router(build_privacy_router(settings))  # /privacy: the privacy statement

    from bot import http_errors, ops

    ops.mount(app, settings)  # /healthz, /readyz, /metrics
    http_errors.install(app)  # a lost database answers 503 + Retry-After

    return app


async def _prepare(runtime: Runtime) -> None:
    """One-time preparation after start-up (demo organisations, NLU model), off the loop."""
    from bot.recommender import invalidate_catalogues
    from bot.runtime import attach_interpreter
    from bot.startup import PREPARED_ENV, prepare

    try:
        done = await asyncio.to_thread(asyncio.run, prepare(runtime.settings, quiet=True))
        for line in done[1:]:  # the first line is the migration, done before start-up
            sys.stderr.write(f"  {line}\n")
        invalidate_catalogues(runtime.settings.database_url)  # demo data may just have loaded
        if os.environ.get(PREPARED_ENV):
            # A `serve --workers N` worker: loading the model holds the GIL for seconds, so let
            # the worker answer its first messages (with the built-in matching) before it.
            await asyncio.sleep(WORKER_MODEL_DELAY_S)
        await asyncio.to_thread(attach_interpreter, runtime)
    except Exception:
        log.exception("background preparation failed; serving without it")


def factory() -> FastAPI:
    """Entry point for `uvicorn --factory bot.app:factory` (used by `serve --workers N`)."""
    from bot.config import get_settings

    return create_app(get_settings())

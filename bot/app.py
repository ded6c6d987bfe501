"""The ASGI application: channels, health and metrics around the one pipeline.

`create_app(settings)` builds everything from the settings object; nothing happens at import
time (migrations run in `serve`, not here). Channels whose settings are absent are not mounted.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.config import Settings
    from bot.pipeline import Pipeline

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, prepare_in_background: bool = False) -> FastAPI:
    """The app. `prepare_in_background` (used by `serve` with one worker): answer at once and
    load demo data and the language model while already serving."""
    from fastapi import FastAPI

    from bot.channels import rest
    from bot.services import build_pipeline

    pipeline = build_pipeline(settings, defer_interpreter=prepare_in_background)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from bot.store.db import dispose_all

        task = None
        if prepare_in_background:
            app.state.preparing = True
            task = asyncio.create_task(_prepare(settings, pipeline))
            task.add_done_callback(lambda _t: setattr(app.state, "preparing", False))
        yield
        if task is not None and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await pipeline.close()
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
    app.state.pipeline = pipeline
    app.state.preparing = False

    # Browsers may call the REST endpoint only from allowed origins (per organisation, plus
    # settings.cors_origins and our own pages); elsewhere it adds CORS for cors_origins.
    from bot.channels.widget import cors as widget_cors
    from bot.channels.widget import routes as widget_routes

    app.add_middleware(widget_cors.OriginAllowlist, settings=settings)

    rest.mount(app, pipeline, settings)
    if settings.telegram_token:
        from bot.channels import telegram

        telegram.mount(app, pipeline, settings)
    if settings.whatsapp_token and settings.whatsapp_phone_id:
        from bot.channels import whatsapp

        whatsapp.mount(app, pipeline, settings)
    app.include_router(widget_routes.build_router(settings))

    from bot.admin.routes import build_landing_router
    from bot.admin.routes import build_router as build_admin_router

    app.include_router(build_landing_router(settings))
    app.include_router(build_admin_router(settings))

    from bot import http_errors, ops

    ops.mount(app, settings)  # /healthz, /readyz, /metrics
    http_errors.install(app)  # a lost database answers 503 + Retry-After

    return app


async def _prepare(settings: Settings, pipeline: Pipeline) -> None:
    """One-time preparation after start-up (demo organisations, NLU model), off the loop."""
    from bot.services import attach_interpreter
    from bot.startup import prepare

    try:
        done = await asyncio.to_thread(asyncio.run, prepare(settings, quiet=True))
        for line in done[1:]:  # the first line is the migration, done before start-up
            sys.stderr.write(f"  {line}\n")
        _refresh_recommender(settings)
        await asyncio.to_thread(attach_interpreter, pipeline, settings)
    except Exception:
        log.exception("background preparation failed; serving without it")


def _refresh_recommender(settings: Settings) -> None:
    """Forget cached vacancy catalogues (demo data may just have been loaded)."""
    from bot.recommender import invalidate_catalogues

    invalidate_catalogues(settings.database_url)


def factory() -> FastAPI:
    """Entry point for `uvicorn --factory bot.app:factory` (used by `serve --workers N`)."""
    from bot.config import get_settings

    return create_app(get_settings())

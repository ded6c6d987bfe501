"""The ASGI application: channels, health and metrics around the one pipeline.

`create_app(settings)` builds everything from the settings object; nothing happens at import
time (migrations run in `serve`, not here). Channels whose settings are absent are not mounted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from bot.config import Settings
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# Seconds a freshly started worker serves before it loads the language model (see _prepare).
WORKER_MODEL_DELAY_S = 3.0


def create_app(settings: Settings, *, prepare_in_background: bool = False) -> FastAPI:
    """The app. `prepare_in_background` (used by `serve` with one worker): answer at once and
    load demo data and the language model while already serving."""
    from fastapi import FastAPI

    from bot.runtime import build_runtime
    from bot.startup import PREPARED_ENV

    worker = bool(os.environ.get(PREPARED_ENV))  # a `serve --workers N` worker

    runtime = build_runtime(settings, defer_interpreter=prepare_in_background)
    pipeline = runtime.pipeline

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = None
        if prepare_in_background:
            app.state.preparing = True
            task = asyncio.create_task(_prepare(runtime))
            task.add_done_callback(lambda _t: setattr(app.state, "preparing", False))
        await runtime.start()
        # Durable jobs: lead delivery, reminders (bot.jobs). A `serve --workers N` worker starts
        # them a moment later, with its pages: their imports would delay its first answer.
        later = asyncio.create_task(_after_start(runtime, mount_pages)) if worker else None
        jobs = asyncio.create_task(_start_jobs(runtime, WORKER_MODEL_DELAY_S if worker else 0))
        try:
            yield
        finally:
            for pending in (task, later, jobs):
                if pending is not None and not pending.done():
                    pending.cancel()
                    with suppress(asyncio.CancelledError):
                        await pending
            if not jobs.cancelled() and jobs.exception() is None:
                await jobs.result()()
            await runtime.stop()
            db = sys.modules.get("bot.store.db")  # only a process that used SQLAlchemy has engines
            if db is not None:
                await db.dispose_all()

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

    channel_routers = [r for r in (c.router() for c in runtime.channels.values()) if r]
    for router in channel_routers:
        app.include_router(router)
    # Innermost: the chat webhooks skip the router's walk (bot/channels/direct.py).
    from bot.channels.direct import DirectPosts, exact_posts

    app.add_middleware(DirectPosts, routes=exact_posts(channel_routers))

    # Browsers may call the REST endpoint only from allowed origins (per organisation, plus
    # settings.cors_origins and our own pages); elsewhere it adds CORS for cors_origins.
    from bot.channels.widget import cors as widget_cors
    from bot.store.origins import allowed_origins_lookup

    app.add_middleware(
        widget_cors.OriginAllowlist,
        settings=settings,
        org_origins=allowed_origins_lookup(settings.database_url),
    )
    # Outermost: NUL / control characters in any path or query string get one 400 (bot/edge.py).
    from bot.edge import QueryGuard

    app.add_middleware(QueryGuard)

    def mount_pages() -> None:
        """Admin, landing, lead, vacancy and privacy pages: none of them answers a chat."""
        for build in _page_routers():
            app.include_router(build(settings))
        app.openapi_schema = None  # built again with the pages' API in it
        app.state.pages_pending = False

    if worker:
        # Mounted a moment after the worker starts serving (_after_start): their imports
        # (SQLAlchemy, Jinja) would delay its first answer. Meanwhile they answer 503.
        app.state.pages_pending = True
        _answer_pending_pages(app)
    else:
        mount_pages()

    from bot import http_errors, ops

    ops.mount(app, settings)  # /healthz, /readyz, /metrics
    http_errors.install(app)  # a lost database answers 503 + Retry-After

    return app


def _page_routers() -> list[Callable[[Settings], APIRouter]]:
    from bot.admin.routes import build_landing_router
    from bot.admin.routes import build_router as build_admin_router
    from bot.admin.vacancies import build_router as build_vacancy_router
    from bot.leads.routes import build_router as build_lead_router
    from bot.orgs.still_open import build_router as build_still_open_router
    from bot.privacy_page import build_router as build_privacy_router

    return [
        build_landing_router,
        build_admin_router,
        build_vacancy_router,
        build_lead_router,  # /l/{token}: the organisation's lead page
        build_still_open_router,  # /v/{token}: "nog nodig?"
        build_privacy_router,  # /privacy: the privacy statement
    ]


def _answer_pending_pages(app: FastAPI) -> None:
    """Until the pages are mounted, a path no route knows answers 503 + Retry-After: 1."""
    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404 and request.app.state.pages_pending:
            return JSONResponse(
                {"error": "starting", "detail": "this page is available in a moment"},
                status_code=503,
                headers={"Retry-After": "1", "Cache-Control": "no-store"},
            )
        return await http_exception_handler(request, exc)

    app.add_exception_handler(HTTPException, not_found)


# Seconds a freshly started worker serves before it mounts its pages and builds the rest.
WORKER_PAGES_DELAY_S = 0.5


async def _after_start(runtime: Runtime, mount_pages: Callable[[], None]) -> None:
    """A worker, once serving: import and mount the pages, then build the gazetteer and the
    recommender (bot.later), in threads so the loop keeps answering."""
    try:
        await asyncio.sleep(WORKER_PAGES_DELAY_S)
        await asyncio.to_thread(_page_routers)  # the imports: the slow part
        mount_pages()
        await asyncio.to_thread(runtime.warm)
    except Exception:
        log.exception("mounting the pages failed")


async def _start_jobs(runtime: Runtime, delay: float) -> Callable[[], Awaitable[None]]:
    """Start the jobs runner after `delay` seconds; the result stops it. A turn that wrote a
    lead (or a volunteer's answer on one) pokes it, so the organisation hears of it at once
    rather than at the next periodic scan."""
    if delay:
        await asyncio.sleep(delay)
    from bot.jobs.runner import Wake, start
    from bot.leads.handlers import SCAN_KIND

    wake = Wake()
    runtime.pipeline.on_leads = lambda: wake.poke(SCAN_KIND)
    return start(runtime.settings, wake)


async def _prepare(runtime: Runtime) -> None:
    """One-time preparation after start-up (demo organisations, the gazetteer and the
    recommender, the NLU model), off the loop."""
    from bot.runtime import attach_interpreter
    from bot.startup import PREPARED_ENV, prepare

    try:
        done = await asyncio.to_thread(asyncio.run, prepare(runtime.settings, quiet=True))
        for line in done[1:]:  # the first line is the migration, done before start-up
            sys.stderr.write(f"  {line}\n")
        await asyncio.to_thread(runtime.warm)  # built here rather than in someone's turn
        from bot.recommender import invalidate_catalogues

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

"""Operations endpoints: /healthz (alive), /readyz (ready to answer), /metrics (Prometheus).

- /healthz never touches the database, so a database outage does not get healthy processes
  restarted (liveness); it reports the last known database state.
- /readyz: migrated to the newest schema, the language model (and demo data) loaded, the
  database answering (readiness: no traffic until then).
- /metrics: behind VK_METRICS_TOKEN when set (`Authorization: Bearer …` or `?token=…`).
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.config import Settings


@lru_cache(maxsize=1)
def schema_heads() -> frozenset[str]:
    """The newest revision of every migration branch (read once from the scripts)."""
    from bot.startup import script_heads

    return script_heads()


def metrics_allowed(settings: Settings, request: Request) -> bool:
    token = settings.metrics_token
    if not token:
        return True
    auth = request.headers.get("authorization", "")
    given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    given = given or request.query_params.get("token", "")
    return hmac.compare_digest(given.encode(), token.encode())


def mount(app: FastAPI, settings: Settings) -> None:
    """Add the three endpoints to the app (as plain app routes, listed in `app.routes`)."""
    from bot import metrics
    from bot.http_errors import health

    router = app
    migrated: list[bool] = []  # once seen at the newest schema, it stays there

    @router.get("/healthz", tags=["ops"])
    async def healthz(request: Request) -> Response:
        body = {"status": "ok", "database": "ok" if health.is_ok else "unavailable"}
        if request.app.state.preparing:
            body["preparing"] = "demo data and language model are still loading"
        return JSONResponse(body)

    @router.get("/readyz", tags=["ops"])
    async def readyz(request: Request) -> Response:
        from sqlalchemy import text

        from bot.store.db import get_engine

        checks = {"database": "ok", "migrations": "ok", "model": "ok"}
        try:
            async with get_engine(settings.database_url).connect() as conn:
                rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
                current = {r[0] for r in rows}
            health.ok()
            if not migrated:
                if current >= schema_heads():
                    migrated.append(True)
                else:
                    checks["migrations"] = "pending"
        except Exception as exc:
            health.failed()
            checks["database"] = type(exc).__name__
            checks["migrations"] = "unknown"
        if request.app.state.preparing:
            checks["model"] = "loading"
        ready = all(v == "ok" for v in checks.values())
        body = {"status": "ready" if ready else "not_ready", **checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics", tags=["ops"])
    async def prometheus(request: Request) -> Response:
        if not metrics_allowed(settings, request):
            return JSONResponse(
                {"error": "unauthorized", "detail": "metrics need VK_METRICS_TOKEN"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

"""/admin/leads: an organisation's leads with status and age (HTML, CSV, JSON).

A dashboard token sees the leads of its own organisation (the token's owner is the
organisation id); the administrator sees all, or one organisation with `?org=`.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from bot import clock
from bot.admin.auth import Unauthorized, presented_token, principal_for
from bot.leads import overview, page
from bot.leads import store as leads

if TYPE_CHECKING:
    from fastapi import APIRouter

    from bot.config import Settings


def build_router(settings: Settings) -> APIRouter:
    from fastapi import APIRouter

    from bot.store.db import get_engine

    router = APIRouter(include_in_schema=False)

    @router.get("/leads{suffix:path}")
    async def list_leads(request: Request, suffix: str) -> Response:
        fmt = {"": "html", ".csv": "csv", ".json": "json"}.get(suffix)
        if fmt is None:
            return JSONResponse({"error": "not_found"}, 404)
        try:
            principal = await principal_for(settings, presented_token(request))
        except Unauthorized as exc:
            return JSONResponse(
                {"error": "unauthorized", "detail": exc.reason},
                401,
                headers={"WWW-Authenticate": 'Bearer realm="admin"'},
            )
        org = principal.owner if not principal.is_admin else request.query_params.get("org")
        async with get_engine(settings.database_url).connect() as conn:
            views = await leads.for_organisation(conn, org)
        now = clock.now()
        rows = [overview.row(settings, v, now) for v in views]
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        if fmt == "json":
            body = {"organisation": org, "summary": overview.summary(rows), "leads": rows}
            return Response(
                json.dumps(body, ensure_ascii=False),
                media_type="application/json",
                headers=headers,
            )
        if fmt == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=overview.COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
            return Response(
                out.getvalue(),
                media_type="text/csv; charset=utf-8",
                headers={**headers, "Content-Disposition": 'attachment; filename="leads.csv"'},
            )
        lang = page.lang_of(request.query_params.get("lang"))
        query = f"?org={org}" if principal.is_admin and org else ""
        body_html = page.render(
            "leads.html",
            lang=lang,
            t=page.texts(lang),
            org=org,
            rows=rows,
            summary=overview.summary(rows),
            csv=f"/admin/leads.csv{query}",
            json=f"/admin/leads.json{query}",
        )
        return HTMLResponse(body_html, headers={**headers, **page.HEADERS})

    return router

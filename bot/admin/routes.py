"""/admin: the campaign dashboard (HTML, charts, CSV/JSON downloads) and GET /c/{code}.

Route functions stay thin: scope (which campaigns this token may see) -> `bot.analytics`
report (already k ≥ 5 suppressed) -> template, chart or CSV. Nothing here reads event rows.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import Response

from bot.admin.auth import COOKIE, Principal, Unauthorized, presented_token, principal_for

if TYPE_CHECKING:
    from fastapi import APIRouter
    from jinja2 import Environment
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.analytics import Report
    from bot.config import Settings
    from bot.store.campaigns import Campaign

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_TTL = 30.0
WEEK_RE = re.compile(r"^\d{4}-W\d{2}$")
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
LANDING_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@lru_cache(maxsize=1)
def templates() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def texts(section: str, lang: str) -> dict[str, str]:
    from bot.campaigns import texts as all_texts

    table: dict[str, dict[str, str]] = all_texts()[section]
    return table.get(lang) or table["nl"]


def _lang(value: str | None) -> str:
    return value if value in ("nl", "en") else "nl"


@dataclass
class Scope:
    """What one request covers, after checking the token may see it."""

    codes: tuple[str, ...] | None
    heading: str
    weeks: list[tuple[date, date]]
    campaign: Campaign | None = None
    owner: str | None = None


class NotFound(Exception):
    pass


class BadInput(Exception):
    pass


async def resolve_scope(
    session: AsyncSession,
    principal: Principal,
    t: dict[str, str],
    campaign: str | None = None,
    owner: str | None = None,
) -> Scope:
    """The campaigns a request may report on. Out of reach = not found (nothing leaks)."""
    from bot.store.campaigns import get_campaign, list_campaigns

    if campaign:
        found = await get_campaign(session, campaign)
        if found is None or not principal.may_see_owner(found.owner):
            raise NotFound(campaign)
        weeks = [(found.starts_on, found.ends_on)] if found.starts_on and found.ends_on else []
        return Scope(
            codes=(found.code,),
            heading=f"{t['campaign']}: {found.name}",
            weeks=weeks,
            campaign=found,
        )
    if owner is None and principal.is_admin:
        return Scope(codes=None, heading=t["all"], weeks=[])
    owner = owner if owner is not None else principal.owner
    assert owner is not None
    if not principal.may_see_owner(owner):
        raise NotFound(owner)
    owned = await list_campaigns(session, owner)
    return Scope(
        codes=tuple(c.code for c in owned),
        heading=f"{t['organisation']}: {owner}",
        weeks=[(c.starts_on, c.ends_on) for c in owned if c.starts_on and c.ends_on],
        owner=owner,
    )


def _filters(scope: Scope, params: dict[str, str | None]) -> Any:
    from bot.analytics import Filters

    week = params.get("week") or None
    base: dict[str, Any] = {
        "campaigns": scope.codes,
        "channel": (params.get("channel") or "").strip() or None,
        "region": (params.get("region") or "").strip() or None,
    }
    for name in ("channel", "region"):  # the columns' sizes; NUL never reaches a query
        value = base[name]
        if value is not None and (len(value) > 64 or "\x00" in value):
            raise BadInput(f"{name} must be at most 64 characters, without control characters")
    if week:
        if not WEEK_RE.match(week):
            raise BadInput("week must look like 2026-W48")
        try:
            return Filters.for_week(week, **base)
        except ValueError:
            raise BadInput("week must look like 2026-W48") from None
    return Filters(**base)


def build_router(settings: Settings) -> APIRouter:
    from fastapi import APIRouter
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse

    from bot.admin.leads import build_router as build_leads_router
    from bot.store.db import session_scope

    router = APIRouter(prefix="/admin", include_in_schema=False)
    # A page and its three charts ask for the same report within a second: compute it once.
    # Keyed by the (already authorised) filters, never by the token.
    reports: dict[tuple[Any, ...], tuple[float, Report]] = {}
    secure_cookie = settings.public_url.startswith("https://")

    def params_of(request: Request) -> dict[str, str | None]:
        q = request.query_params
        return {k: q.get(k) for k in ("campaign", "owner", "channel", "region", "week", "lang")}

    def query_string(params: dict[str, str | None], drop: tuple[str, ...] = ()) -> str:
        return urlencode({k: v for k, v in params.items() if v and k not in drop})

    def html(name: str, status: int = 200, **context: Any) -> Response:
        body = templates().get_template(name).render(**context)
        return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)

    def login_page(lang: str, error: bool, status: int = 401) -> Response:
        t = texts("dashboard", lang)
        response = html("login.html", status=status, t=t, lang=lang, error=error)
        response.headers["WWW-Authenticate"] = 'Bearer realm="admin"'
        return response

    def api_error(status: int, error: str, detail: str) -> Response:
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="admin"'
        return JSONResponse({"error": error, "detail": detail}, status, headers=headers)

    async def authenticate(request: Request) -> Principal:
        return await principal_for(settings, presented_token(request))

    async def report_for(
        request: Request, principal: Principal, **fixed: str | None
    ) -> tuple[Scope, Report, dict[str, str | None]]:
        from bot.analytics import funnel_report

        params = {**params_of(request), **fixed}
        lang = _lang(params.get("lang"))
        t = texts("dashboard", lang)
        async with session_scope(settings.database_url) as session:
            scope = await resolve_scope(
                session, principal, t, params.get("campaign"), params.get("owner")
            )
            filters = _filters(scope, params)
            key = (filters, lang, tuple(scope.weeks))
            cached = reports.get(key)
            if cached is not None and time.monotonic() - cached[0] < REPORT_TTL:
                return scope, cached[1], params
            report = await funnel_report(session, filters, lang=lang, campaign_weeks=scope.weeks)
        if len(reports) >= 64:
            reports.clear()
        reports[key] = (time.monotonic(), report)
        return scope, report, params

    # ------------------------------------------------------------------ login

    @router.get("/login")
    async def login_form(request: Request) -> Response:
        return login_page(_lang(request.query_params.get("lang")), error=False, status=200)

    @router.post("/login")
    async def login(request: Request) -> Response:
        raw = (await request.body())[:1024].decode("utf-8", "replace")
        token = (parse_qs(raw).get("token") or [""])[0].strip()
        try:
            await principal_for(settings, token)
        except Unauthorized:
            return login_page("nl", error=True)
        response = RedirectResponse("/admin", status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=secure_cookie,
            path="/admin",
            max_age=8 * 3600,
        )
        return response

    @router.post("/logout")
    async def logout() -> Response:
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(COOKIE, path="/admin")
        return response

    # ------------------------------------------------------------------ pages

    async def dashboard(request: Request, **fixed: str | None) -> Response:
        from bot.analytics import DIMENSIONS, STAGE_LABELS, K
        from bot.campaigns import campaign_links
        from bot.store.campaigns import list_campaigns

        lang = _lang(request.query_params.get("lang"))
        t = texts("dashboard", lang)
        try:
            principal = await authenticate(request)
        except Unauthorized as exc:
            return login_page(lang, error=exc.presented)
        try:
            scope, report, params = await report_for(request, principal, **fixed)
        except NotFound:
            return html("base.html", status=404, t=t, lang=lang)
        except BadInput as exc:
            return api_error(400, "bad_request", str(exc))
        async with session_scope(settings.database_url) as session:
            visible = await list_campaigns(session, principal.owner)
        links = None
        if scope.campaign is not None:
            c = scope.campaign
            links = campaign_links(settings, c.code, c.keyword, lang).to_dict()
        scope_params = {
            "campaign": scope.campaign.code if scope.campaign else None,
            "owner": scope.owner if scope.owner and principal.is_admin else None,
        }
        query = query_string({**params, **scope_params})
        dim_labels = {"campaign": t["campaign"].lower(), **{d: t[d] for d in DIMENSIONS[1:]}}
        return html(
            "dashboard.html",
            t=t,
            lang=lang,
            k=K,
            principal=principal,
            heading=scope.heading,
            campaign=scope.campaign,
            scope_campaign=scope_params["campaign"] if not fixed else None,
            scope_owner=scope_params["owner"] if not fixed else None,
            filters=report.filters,
            week=params.get("week"),
            report=report,
            stages=report.stage_names,
            stage_labels=STAGE_LABELS[lang],
            dimensions=[d for d in DIMENSIONS if not (d == "campaign" and scope.campaign)],
            dim_labels=dim_labels,
            query=query,
            links=links,
            campaigns=visible,
            visible_codes={c.code for c in visible},
            owners=sorted({c.owner for c in visible}),
        )

    @router.get("")
    @router.get("/")
    async def index(request: Request) -> Response:
        return await dashboard(request)

    @router.get("/campaigns/{code}")
    async def campaign_page(request: Request, code: str) -> Response:
        return await dashboard(request, campaign=code, owner=None)

    @router.get("/orgs/{owner}")
    async def owner_page(request: Request, owner: str) -> Response:
        return await dashboard(request, owner=owner, campaign=None)

    # ------------------------------------------------------------------ data

    async def data_or_error(request: Request, **fixed: str | None) -> Any:
        try:
            principal = await authenticate(request)
        except Unauthorized as exc:
            return api_error(401, "unauthorized", exc.reason)
        try:
            return await report_for(request, principal, **fixed)
        except NotFound:
            return api_error(404, "not_found", "no such campaign or organisation")
        except BadInput as exc:
            return api_error(400, "bad_request", str(exc))

    @router.get("/charts/{kind}.png")
    async def chart(request: Request, kind: str) -> Response:
        from bot.admin.charts import CHARTS, chart_png

        if kind not in CHARTS:
            return api_error(404, "not_found", f"charts: {', '.join(CHARTS)}")
        found = await data_or_error(request)
        if isinstance(found, Response):
            return found
        _, report, params = found
        png = await run_in_threadpool(chart_png, report, kind, _lang(params.get("lang")))
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    @router.get("/report.csv")
    async def report_csv(request: Request) -> Response:
        from bot.analytics import DIMENSIONS

        by = request.query_params.get("by")
        if by and by not in DIMENSIONS:
            return api_error(400, "bad_request", f"by: one of {', '.join(DIMENSIONS)}")
        found = await data_or_error(request)
        if isinstance(found, Response):
            return found
        scope, report, _ = found
        body = report.breakdown_csv(by) if by else report.funnel_csv()
        name = (scope.campaign.code if scope.campaign else scope.owner or "all") + (
            f"-{by}" if by else "-funnel"
        )
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{safe}.csv"',
                "Cache-Control": "no-store",
            },
        )

    @router.get("/report.json")
    async def report_json(request: Request) -> Response:
        found = await data_or_error(request)
        if isinstance(found, Response):
            return found
        _, report, _ = found
        return JSONResponse(report.to_dict(), headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------------ campaign extras

    async def company_campaign(request: Request, code: str) -> Any:
        from bot.store.campaigns import get_campaign

        try:
            principal = await authenticate(request)
        except Unauthorized as exc:
            return api_error(401, "unauthorized", exc.reason)
        async with session_scope(settings.database_url) as session:
            found = await get_campaign(session, code)
        if found is None or not principal.may_see_owner(found.owner):
            return api_error(404, "not_found", "no such campaign")
        return found

    async def team(request: Request, code: str) -> Any:
        from bot.analytics import team_report

        found = await company_campaign(request, code)
        if isinstance(found, Response):
            return found
        if not found.company:
            return api_error(404, "not_found", "not a company campaign")
        lang = _lang(request.query_params.get("lang"))
        async with session_scope(settings.database_url) as session:
            return await team_report(session, found.code, found.name, lang=lang)

    @router.get("/campaigns/{code}/team")
    async def team_page(request: Request, code: str) -> Response:
        from bot.analytics import K

        lang = _lang(request.query_params.get("lang"))
        if not presented_token(request):
            return login_page(lang, error=False)
        report = await team(request, code)
        if isinstance(report, Response):
            return report
        return html("team.html", t=texts("dashboard", lang), lang=lang, k=K, report=report)

    @router.get("/campaigns/{code}/team.json")
    async def team_json(request: Request, code: str) -> Response:
        report = await team(request, code)
        if isinstance(report, Response):
            return report
        return JSONResponse(report.to_dict(), headers={"Cache-Control": "no-store"})

    @router.get("/campaigns/{code}/qr.{fmt}")
    async def qr(request: Request, code: str, fmt: str) -> Response:
        import tempfile

        from bot.campaigns import CHANNELS, QR_FORMATS, CampaignError, campaign_links, write_qr

        channel = request.query_params.get("channel", "web")
        if fmt not in QR_FORMATS or channel not in CHANNELS:
            return api_error(404, "not_found", "qr.svg|png|pdf?channel=web|telegram|whatsapp")
        found = await company_campaign(request, code)
        if isinstance(found, Response):
            return found
        try:
            link = campaign_links(settings, found.code, found.keyword).get(channel)
        except CampaignError as exc:
            return api_error(409, "not_configured", str(exc))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"qr.{fmt}"
            await run_in_threadpool(write_qr, link, path, fmt)
            body = path.read_bytes()
        media = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}[fmt]
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{found.code}-{channel}.{fmt}"'},
        )

    router.include_router(build_leads_router(settings))  # /admin/leads (bot.admin.leads)
    return router


@lru_cache(maxsize=1)
def _widget_installed() -> bool:
    """GET /widget.js exists once the widget feature is installed; until then the landing
    page points at the REST endpoint."""
    from importlib.util import find_spec

    return find_spec("bot.channels.widget.routes") is not None


def build_landing_router(settings: Settings) -> APIRouter:
    """GET /c/{code}: the campaign's landing page with the chat widget inline;
    GET /cards/{profile}.png: a profile's result card for sharing."""
    from fastapi import APIRouter
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import HTMLResponse

    from bot.campaigns import CODE_RE
    from bot.store.campaigns import NATIONAL, get_campaign
    from bot.store.db import session_scope

    router = APIRouter(include_in_schema=False)

    @router.get("/c/{code}")
    async def landing(request: Request, code: str) -> Response:
        lang = _lang(request.query_params.get("lang"))
        t = texts("landing", lang)
        found = None
        if CODE_RE.fullmatch(code):
            async with session_scope(settings.database_url) as session:
                found = await get_campaign(session, code)
        notice = None
        if found is None:
            notice = t["not_found"]
        elif found.ends_on and found.ends_on < date.today():
            notice = t["ended"]
        widget = _widget_installed()
        base = settings.public_url.rstrip("/")
        example = {
            "sender": "<your-id>",
            "message": "hoi",
            "metadata": {"campaign": found.code} if found else {},
        }
        body = (
            templates()
            .get_template("landing.html")
            .render(
                t=t,
                lang=lang,
                campaign=found,
                code=found.code if found else None,
                org=found.owner if found and found.owner != NATIONAL else "",
                notice=notice,
                widget=widget,
                rest_hint=t["rest_hint"],
                rest_url=f"{base}/webhooks/rest/webhook",
                rest_example=json.dumps(example, ensure_ascii=False),
            )
        )
        headers = {
            "Content-Security-Policy": LANDING_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
        }
        return HTMLResponse(body, status_code=200 if found else 404, headers=headers)

    @router.get("/cards/{profile_id}.png")
    async def result_card(request: Request, profile_id: str) -> Response:
        """A profile's share image (no personal data: the archetype only)."""
        from urllib.parse import urlsplit

        from bot.cards import org_theme, profile_card_png
        from bot.content import default_quiz

        lang = _lang(request.query_params.get("lang"))
        host = urlsplit(settings.public_url).netloc
        size = request.query_params.get("size", "wide")  # wide 1200×630 | square 1080×1080
        theme = await org_theme(settings.database_url, request.query_params.get("org"))
        try:
            png = await run_in_threadpool(
                profile_card_png,
                default_quiz(settings.content_dir),
                profile_id,
                lang,
                host,
                size,
                theme,
            )
        except KeyError:
            return Response(status_code=404)
        headers = {"Cache-Control": "public, max-age=86400"}
        if request.query_params.get("download"):  # "Deel je kracht" on the web: save it
            headers["Content-Disposition"] = (
                f'attachment; filename="vrijwilligerskracht-{profile_id}-{size}.png"'
            )
        return Response(png, media_type="image/png", headers=headers)

    return router

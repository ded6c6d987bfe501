"""An organisation's own vacancies: /admin/vacancies (plain HTML forms, no JavaScript) and
/api/org/vacancies (JSON, in the OpenAPI page). Both authenticate with the organisation's
dashboard token (bearer or the /admin login cookie); the admin token works too, naming the
organisation with `?org=` (HTML) or `?organisation_id=` (API). Input goes through the
importer's row rules (bot/orgs/manage.py); problems come back as 422 with every message.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from bot.admin.auth import Unauthorized, presented_token, principal_for

if TYPE_CHECKING:
    from fastapi import APIRouter

    from bot.config import Settings

LISTS = ("causes", "activities", "offers", "days", "dayparts")
FLAGS = (("remote", "Op afstand"), ("one_off", "Eenmalig"), ("vog_required", "VOG nodig"))
MAX_FORM = 64 * 1024


class VacancyIn(BaseModel):
    """A vacancy as an organisation sends it (ids as in the import format)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    causes: list[str] = Field(default_factory=list, description="Cause ids, e.g. sport.")
    activities: list[str] = Field(default_factory=list, description="Activity ids.")
    offers: list[str] = Field(default_factory=list, description="e.g. learn, certificate.")
    postcode: str | None = None
    place: str | None = None
    lat: float | None = None
    lon: float | None = None
    hours_min: float | None = None
    hours_max: float | None = None
    days: list[str] = Field(default_factory=list, description="monday ... sunday")
    dayparts: list[str] = Field(default_factory=list, description="morning, afternoon, evening")
    one_off: bool = False
    remote: bool = False
    min_age: int | None = None
    vog_required: bool = False
    contact_email: str | None = None
    url: str | None = None
    publish_end: date | None = Field(default=None, description="Not shown after this date.")
    max_open_leads: int | None = None
    organisation_name: str | None = Field(
        default=None, description="Only needed for an organisation's very first vacancy."
    )


def _form_data(body: bytes) -> dict[str, Any]:
    raw = parse_qs(body[:MAX_FORM].decode("utf-8", "replace"), keep_blank_values=True)
    data: dict[str, Any] = {k: v[-1].strip() for k, v in raw.items()}
    for key in LISTS:
        data[key] = [x for x in raw.get(key, []) if x]
    for key, _ in FLAGS:
        data[key] = key in raw
    return data


def build_router(settings: Settings) -> APIRouter:
    from fastapi import APIRouter, Depends, HTTPException, Query
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse

    from bot.admin.routes import PAGE_HEADERS, templates, texts
    from bot.clock import now
    from bot.orgs import manage
    from bot.orgs.rows import OFFERS
    from quiz.model import ACTIVITIES, CAUSES, DAYPARTS, WEEKDAYS

    db = settings.database_url
    router = APIRouter()
    choices = (
        ("causes", "Doelen", CAUSES),
        ("activities", "Wat doe je", ACTIVITIES),
        ("offers", "Wat levert het op", OFFERS),
        ("days", "Dagen", WEEKDAYS),
        ("dayparts", "Dagdelen", DAYPARTS),
    )

    # ------------------------------------------------------------------ HTML

    async def organisation_of(request: Request) -> tuple[str | None, str]:
        """(organisation id or None when not allowed, query string to keep)."""
        principal = await principal_for(settings, presented_token(request))
        if principal.is_admin:
            org = request.query_params.get("org") or None
            return org, ("?" + urlencode({"org": org})) if org else ""
        return principal.owner, ""

    def page(status: int = 200, **context: Any) -> Response:
        if "v" in context:  # every field defined for the template (StrictUndefined)
            blank = dict.fromkeys((*manage.EDITABLE, "organisation_name"))
            context["v"] = {**blank, **context["v"]}
        body = (
            templates()
            .get_template("vacancies.html")
            .render(t=texts("dashboard", "nl"), lang="nl", choices=choices, flags=FLAGS, **context)
        )
        return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)

    async def guarded(request: Request) -> tuple[str, str] | Response:
        try:
            org, q = await organisation_of(request)
        except Unauthorized:
            return RedirectResponse("/admin/login", status_code=303)
        if org is None:
            return HTMLResponse(
                "Kies een organisatie met ?org=ID", status_code=400, headers=PAGE_HEADERS
            )
        return org, q

    @router.get("/admin/vacancies", include_in_schema=False)
    async def list_page(request: Request) -> Response:
        who = await guarded(request)
        if isinstance(who, Response):
            return who
        org, q = who
        rows = await run_in_threadpool(manage.own_vacancies, db, org)
        message = {"saved": "Opgeslagen.", "closed": "Gesloten.", "opened": "Weer open."}.get(
            request.query_params.get("done", "")
        )
        return page(mode="list", organisation=org, vacancies=rows, q=q, message=message)

    @router.get("/admin/vacancies/new", include_in_schema=False)
    async def new_form(request: Request) -> Response:
        who = await guarded(request)
        if isinstance(who, Response):
            return who
        return page(mode="form", vacancy_id=None, v={}, errors=[], q=who[1])

    @router.get("/admin/vacancies/{vacancy_id}", include_in_schema=False)
    async def edit_form(request: Request, vacancy_id: str) -> Response:
        who = await guarded(request)
        if isinstance(who, Response):
            return who
        try:
            v = await run_in_threadpool(manage.own_vacancy, db, who[0], vacancy_id)
        except manage.NotFound:
            return HTMLResponse("Niet gevonden", status_code=404, headers=PAGE_HEADERS)
        return page(mode="form", vacancy_id=vacancy_id, v=v, errors=[], q=who[1])

    async def save_form(request: Request, vacancy_id: str | None) -> Response:
        who = await guarded(request)
        if isinstance(who, Response):
            return who
        org, q = who
        data = _form_data(await request.body())
        try:
            await run_in_threadpool(manage.save_vacancy, db, org, data, now(), vacancy_id)
        except manage.NotFound:
            return HTMLResponse("Niet gevonden", status_code=404, headers=PAGE_HEADERS)
        except manage.Invalid as exc:
            return page(422, mode="form", vacancy_id=vacancy_id, v=data, errors=exc.errors, q=q)
        sep = "&" if q else "?"
        return RedirectResponse(f"/admin/vacancies{q}{sep}done=saved", status_code=303)

    @router.post("/admin/vacancies/new", include_in_schema=False)
    async def create_from_form(request: Request) -> Response:
        return await save_form(request, None)

    @router.post("/admin/vacancies/{vacancy_id}", include_in_schema=False)
    async def update_from_form(request: Request, vacancy_id: str) -> Response:
        return await save_form(request, vacancy_id)

    async def close_or_open(request: Request, vacancy_id: str, closed: bool) -> Response:
        who = await guarded(request)
        if isinstance(who, Response):
            return who
        org, q = who
        try:
            await run_in_threadpool(manage.set_closed, db, org, vacancy_id, now(), closed)
        except manage.NotFound:
            return HTMLResponse("Niet gevonden", status_code=404, headers=PAGE_HEADERS)
        sep = "&" if q else "?"
        done = "closed" if closed else "opened"
        return RedirectResponse(f"/admin/vacancies{q}{sep}done={done}", status_code=303)

    @router.post("/admin/vacancies/{vacancy_id}/close", include_in_schema=False)
    async def close_from_form(request: Request, vacancy_id: str) -> Response:
        return await close_or_open(request, vacancy_id, True)

    @router.post("/admin/vacancies/{vacancy_id}/open", include_in_schema=False)
    async def open_from_form(request: Request, vacancy_id: str) -> Response:
        return await close_or_open(request, vacancy_id, False)

    # ------------------------------------------------------------------ JSON API

    bearer = HTTPBearer(
        auto_error=False,
        description="The organisation's dashboard token (`campaign token create`).",
    )

    async def api_organisation(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
        organisation_id: str | None = Query(
            None, description="Only with the admin token: whose vacancies."
        ),
    ) -> str:
        token = credentials.credentials if credentials else None
        try:
            principal = await principal_for(settings, token)
        except Unauthorized as exc:
            raise HTTPException(
                401, exc.reason, headers={"WWW-Authenticate": 'Bearer realm="org"'}
            ) from None
        if principal.is_admin:
            if not organisation_id:
                raise HTTPException(400, "the admin token needs ?organisation_id=")
            return organisation_id
        assert principal.owner is not None
        return principal.owner

    def invalid(exc: manage.Invalid) -> Response:
        return JSONResponse({"error": "invalid", "detail": exc.errors}, status_code=422)

    def not_found(vacancy_id: str) -> HTTPException:
        return HTTPException(404, f"no vacancy {vacancy_id!r} of this organisation")

    tags: list[str | Any] = ["organisation vacancies"]

    @router.get("/api/org/vacancies", tags=tags, summary="List your vacancies")
    async def api_list(org: str = Depends(api_organisation)) -> list[dict[str, Any]]:
        return await run_in_threadpool(manage.own_vacancies, db, org)

    @router.post(
        "/api/org/vacancies",
        tags=tags,
        status_code=201,
        summary="Add a vacancy",
        responses={422: {"description": "Invalid: every problem, as the importer words it"}},
    )
    async def api_create(
        body: VacancyIn,
        org: str = Depends(api_organisation),
    ) -> Any:
        try:
            return await run_in_threadpool(
                manage.save_vacancy, db, org, body.model_dump(), now(), None
            )
        except manage.Invalid as exc:
            return invalid(exc)

    @router.get("/api/org/vacancies/{vacancy_id}", tags=tags, summary="One of your vacancies")
    async def api_get(vacancy_id: str, org: str = Depends(api_organisation)) -> Any:
        try:
            return await run_in_threadpool(manage.own_vacancy, db, org, vacancy_id)
        except manage.NotFound:
            raise not_found(vacancy_id) from None

    @router.put(
        "/api/org/vacancies/{vacancy_id}",
        tags=tags,
        summary="Replace a vacancy",
        responses={422: {"description": "Invalid: every problem, as the importer words it"}},
    )
    async def api_update(
        vacancy_id: str,
        body: VacancyIn,
        org: str = Depends(api_organisation),
    ) -> Any:
        try:
            return await run_in_threadpool(
                manage.save_vacancy, db, org, body.model_dump(), now(), vacancy_id
            )
        except manage.NotFound:
            raise not_found(vacancy_id) from None
        except manage.Invalid as exc:
            return invalid(exc)

    @router.post(
        "/api/org/vacancies/{vacancy_id}/close", tags=tags, summary="Close (hide) a vacancy"
    )
    async def api_close(vacancy_id: str, org: str = Depends(api_organisation)) -> Any:
        try:
            return await run_in_threadpool(manage.set_closed, db, org, vacancy_id, now(), True)
        except manage.NotFound:
            raise not_found(vacancy_id) from None

    @router.post("/api/org/vacancies/{vacancy_id}/open", tags=tags, summary="Reopen a vacancy")
    async def api_open(vacancy_id: str, org: str = Depends(api_organisation)) -> Any:
        try:
            return await run_in_threadpool(manage.set_closed, db, org, vacancy_id, now(), False)
        except manage.NotFound:
            raise not_found(vacancy_id) from None

    return router

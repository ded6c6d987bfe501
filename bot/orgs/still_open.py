""" "Nog nodig?": vacancies kept fresh by their own contacts, and feeds synced on schedule.

A daily job e-mails the contact of every vacancy not confirmed for `VK_VACANCY_CONFIRM_WEEKS`
weeks a signed, login-free link (`/v/{token}`) to a page with one tap each: "still open" (it
stays, confirmed now) or "close it". Silence hides the vacancy after the grace period
(`bot.orgs.freshness`). An hourly job syncs the feeds of `VK_FEEDS` (`bot.orgs.feeds`).
Both are durable jobs (bot.jobs): `vrijwilligerskracht jobs run --now ...` runs them as of a
moment.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import yaml
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from bot import clock
from bot.jobs.registry import Context, register

if TYPE_CHECKING:
    from fastapi import APIRouter

    from bot.config import Settings

HERE = Path(__file__).resolve().parent
SALT = "vk-vacancy-still-open"
LINK_DAYS = 60
MAX_FORM_BYTES = 256


@lru_cache(maxsize=1)
def _texts() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = yaml.safe_load(
        (HERE / "still_open_texts.yaml").read_text(encoding="utf-8")
    )
    return data


def t(lang: str) -> dict[str, str]:
    return _texts()["en" if lang == "en" else "nl"]


# ---------------------------------------------------------------------- signed links


@dataclass(frozen=True)
class Link:
    vacancy_id: str
    organisation_id: str


class _Signer(TimestampSigner):
    def get_timestamp(self) -> int:  # the project's one clock (tests and `jobs run --now`)
        return int(clock.now().timestamp())


class _Serializer(URLSafeTimedSerializer):
    default_signer = _Signer


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return _Serializer(settings.secret_key, salt=SALT)


def link(settings: Settings, vacancy_id: str, organisation_id: str) -> str:
    token = _serializer(settings).dumps([vacancy_id, organisation_id])
    return f"{settings.public_url.rstrip('/')}/v/{token}"


def read(settings: Settings, token: str) -> Link | None:
    """The vacancy a token names; None when it is not ours. Raises SignatureExpired."""
    try:
        value = _serializer(settings).loads(token, max_age=LINK_DAYS * 86400)
    except SignatureExpired:
        raise
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        return None
    return Link(value[0], value[1])


# ---------------------------------------------------------------------- jobs


@register("vacancies.still_open", every=timedelta(days=1))
async def ask_and_hide(ctx: Context) -> str | None:
    """Ask the contacts of stale vacancies; hide those whose contacts stayed silent."""
    from bot.channels.email.send import compose, send
    from bot.orgs.freshness import hide_unconfirmed, mark_asked, stale_vacancies

    settings, now, db = ctx.settings, ctx.now, ctx.settings.database_url
    stale = await asyncio.to_thread(stale_vacancies, db, now, settings.vacancy_confirm_weeks)
    asked = 0
    for vacancy in stale:
        if not vacancy["contact_email"]:
            continue
        texts = t("nl")
        url = link(settings, vacancy["vacancy_id"], vacancy["organisation_id"])
        grace = texts["grace"].format(days=settings.vacancy_confirm_grace_days)
        intro = texts["intro"].format(vacancy=vacancy["title"])
        body = "\n\n".join([intro, texts["action"], url, grace, texts["footer"]])
        msg = compose(
            settings,
            vacancy["contact_email"],
            texts["subject"].format(vacancy=vacancy["title"]),
            body,
            message_id=f"still-open-{vacancy['vacancy_id']}-{now:%Y%m%d}",
        )
        await send(settings, msg)
        await asyncio.to_thread(mark_asked, db, vacancy["vacancy_id"], now)
        asked += 1
    hidden = await asyncio.to_thread(hide_unconfirmed, db, now, settings.vacancy_confirm_grace_days)
    if hidden:
        from bot.recommender import invalidate_catalogues

        invalidate_catalogues(db)
    if not asked and not hidden:
        return None
    return f"{asked} asked, {len(hidden)} hidden for silence"


@register("feeds.sync", every=timedelta(hours=1))
async def sync_feeds(ctx: Context) -> str | None:
    """Conditional fetches of every feed in VK_FEEDS (a 304 does no work)."""
    from bot.orgs.feeds import configured_feeds, sync_configured

    if not configured_feeds(ctx.settings):
        return None
    reports = await asyncio.to_thread(
        sync_configured, ctx.settings.database_url, ctx.settings, ctx.now
    )
    return f"{len(reports)} feed(s) synced"


# ---------------------------------------------------------------------- the page


def build_router(settings: Settings) -> APIRouter:
    """`GET|POST /v/{token}`: no JavaScript, one POST form per answer, then a redirect."""
    from fastapi import APIRouter
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from starlette.responses import HTMLResponse, RedirectResponse

    from bot.orgs.freshness import confirm_open
    from bot.orgs.manage import NotFound, own_vacancy, set_closed

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
    )
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    router = APIRouter(include_in_schema=False)

    def page(status: int = 200, **context: Any) -> Response:
        body = env.get_template("still_open.html").render(**context)
        return HTMLResponse(body, status_code=status, headers=headers)

    def lang_of(request: Request) -> str:
        return "en" if request.query_params.get("lang") == "en" else "nl"

    async def vacancy_of(token: str, lang: str) -> tuple[Link, dict[str, Any]] | Response:
        texts = t(lang)
        try:
            found = read(settings, token)
        except SignatureExpired:
            return page(410, lang=lang, t=texts, heading=texts["expired"])
        if found is None:
            return page(404, lang=lang, t=texts, heading=texts["invalid"])
        try:
            vacancy = await asyncio.to_thread(
                own_vacancy, settings.database_url, found.organisation_id, found.vacancy_id
            )
        except NotFound:
            return page(410, lang=lang, t=texts, heading=texts["gone"])
        return found, vacancy

    @router.get("/v/{token}")
    async def show(request: Request, token: str) -> Response:
        lang = lang_of(request)
        found = await vacancy_of(token, lang)
        if not isinstance(found, tuple):
            return found
        texts = t(lang)
        done = request.query_params.get("done")
        return page(
            lang=lang,
            t=texts,
            heading=texts["page_title"].format(vacancy=found[1]["title"]),
            message=texts.get(f"done_{done}") if done in ("open", "close") else None,
            action=f"/v/{token}?lang={lang}",
        )

    @router.post("/v/{token}")
    async def answer(request: Request, token: str) -> Response:
        lang = lang_of(request)
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return Response(status_code=413)
        choice = (parse_qs(body.decode("utf-8", "replace")).get("answer") or [""])[0]
        if choice not in ("open", "close"):
            return Response("unknown answer", status_code=400, headers=headers)
        found = await vacancy_of(token, lang)
        if not isinstance(found, tuple):
            return found
        link_, now, db = found[0], clock.now(), settings.database_url
        if choice == "open":
            await asyncio.to_thread(confirm_open, db, link_.vacancy_id, now)
        else:
            await asyncio.to_thread(
                set_closed, db, link_.organisation_id, link_.vacancy_id, now, True
            )
        return RedirectResponse(
            f"/v/{token}?lang={lang}&done={choice}", status_code=303, headers=headers
        )

    return router

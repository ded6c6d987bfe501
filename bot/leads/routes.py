"""`GET|POST /l/{token}`: an organisation's login-free page for one lead.

No JavaScript: each answer is its own small POST form, answered with a redirect back to the
page (so a reload never posts twice). A lead whose conversation was erased no longer exists:
the page then says the person withdrew, and shows nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot import clock
from bot.channels.email import texts as mail_texts
from bot.leads import links, page
from bot.leads import store as leads
from bot.leads.tables import ANSWERS

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi import APIRouter

    from bot.config import Settings
    from bot.leads.store import LeadView

MAX_FORM_BYTES = 1024
MAX_MESSAGE_CHARS = 1000
MAX_MESSAGE_BYTES = 16 * 1024


def _fields(lang: str, lead: LeadView) -> list[tuple[str, str, str | None]]:
    """(label, value, link) for what the person agreed to share."""
    from bot.leads.mails import FIELD_KEYS

    out: list[tuple[str, str, str | None]] = []
    for key, value in lead.contact.items():
        href = None
        if key == "email":
            href = "mailto:" + quote(value, safe="@.+-_")
        elif key == "phone":
            href = "tel:" + quote(value.replace(" ", ""), safe="+")
        out.append((mail_texts.t(lang, FIELD_KEYS[key]), value, href))
    return out


def build_router(settings: Settings) -> APIRouter:
    from fastapi import APIRouter

    router = APIRouter(include_in_schema=False)

    def html(status: int = 200, **context: Any) -> Response:
        body = page.render("lead.html", **context)
        return HTMLResponse(body, status_code=status, headers=page.HEADERS)

    def plain(lang: str, key: str, status: int) -> Response:
        t = page.texts(lang)
        return html(
            status,
            lang=lang,
            t=t,
            heading=t[f"{key}_title"],
            message=t[key],
            lead=None,
            other_lang_code="en" if lang == "nl" else "nl",
        )

    async def read_link(
        token: str, lang: str, read: Callable[[Settings, str], Any], gone: str
    ) -> tuple[Any, LeadView] | Response:
        """The signed link's content and its lead, or the page saying why not (expired,
        invalid, or the lead is gone: withdrawn or erased)."""
        from bot.store.db import get_engine

        try:
            opened = read(settings, token)
        except links.Expired:
            return plain(lang, "expired", 410)
        except links.Invalid:
            return plain(lang, "invalid", 404)
        async with get_engine(settings.database_url).connect() as conn:
            lead = await leads.get_view(conn, opened.lead_id)
        if lead is None or links.tag(lead.conversation_id) != opened.tag:
            return plain(lang, gone, 410)
        return opened, lead

    async def open_lead(token: str, lang: str) -> LeadView | Response:
        found = await read_link(token, lang, links.read_token, "withdrawn")
        return found if isinstance(found, Response) else found[1]

    @router.get("/l/{token}")
    async def show(request: Request, token: str) -> Response:
        lang = page.lang_of(request.query_params.get("lang"))
        found = await open_lead(token, lang)
        if isinstance(found, Response):
            return found
        lead = found
        t = page.texts(lang)
        t["why"] = t["why"].format(days=settings.lead_escalate_days)
        done = request.query_params.get("done")
        return html(
            lang=lang,
            t=t,
            heading=t["title"].format(vacancy=lead.vacancy_title),
            message=None,
            lead=lead,
            intro=t["intro"].format(
                organisation=lead.organisation_name,
                date=page.long_date(lead.created_at, lang),
            ),
            status_label=t.get(lead.status, lead.status),
            fields=_fields(lang, lead),
            answers=[(a, t[a], "" if a == "contacted" else "secondary") for a in ANSWERS],
            action=f"/l/{token}?lang={lang}",
            done=(
                t["message_sent"]
                if done == "sent"
                else t["thanks"].format(status=t[done])
                if done in ANSWERS
                else None
            ),
            chat=(
                t["message_hint"].format(
                    name=lead.contact.get("name") or "-", chat=lead.contact["chat"]
                )
                if lead.contact.get("chat")
                else None
            ),
            message_action=f"/l/{token}/message?lang={lang}",
            other_lang_code="en" if lang == "nl" else "nl",
        )

    @router.post("/l/{token}")
    async def answer(request: Request, token: str) -> Response:
        from bot.store.db import get_engine

        lang = page.lang_of(request.query_params.get("lang"))
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return Response(status_code=413)
        status = (parse_qs(body.decode("utf-8", "replace")).get("status") or [""])[0]
        found = await open_lead(token, lang)
        if isinstance(found, Response):
            return found
        if status not in ANSWERS:
            return Response("unknown status", status_code=400, headers=page.HEADERS)
        async with get_engine(settings.database_url).begin() as conn:
            await leads.answer(conn, found, status, clock.now())
        return RedirectResponse(
            f"/l/{token}?lang={lang}&done={status}", status_code=303, headers=page.HEADERS
        )

    @router.post("/l/{token}/message")
    async def message(request: Request, token: str) -> Response:
        """A message to a person who chose "through this chat": it arrives in their chat,
        and counts as the organisation's answer ("Contact opgenomen")."""
        from bot.leads.followups import relay
        from bot.store.db import get_engine

        lang = page.lang_of(request.query_params.get("lang"))
        body = await request.body()
        if len(body) > MAX_MESSAGE_BYTES:
            return Response(status_code=413)
        text = (parse_qs(body.decode("utf-8", "replace")).get("message") or [""])[0].strip()
        found = await open_lead(token, lang)
        if isinstance(found, Response):
            return found
        if not text or len(text) > MAX_MESSAGE_CHARS or not found.contact.get("chat"):
            return Response("no message", status_code=400, headers=page.HEADERS)
        await relay(settings, found, text, clock.now())
        if found.first_response_at is None:
            async with get_engine(settings.database_url).begin() as conn:
                await leads.answer(conn, found, "contacted", clock.now())
        return RedirectResponse(
            f"/l/{token}?lang={lang}&done=sent", status_code=303, headers=page.HEADERS
        )

    @router.get("/l/a/{token}")
    async def show_answer(request: Request, token: str) -> Response:
        """A follow-up's answer from the volunteer's e-mail: a GET only shows it (mail
        scanners open links), the button posts it."""
        return await answer_page(request, token, post=False)

    @router.post("/l/a/{token}")
    async def give_answer(request: Request, token: str) -> Response:
        return await answer_page(request, token, post=True)

    async def answer_page(request: Request, token: str, post: bool) -> Response:
        from bot.leads.followups import tell
        from quiz.protocol import FollowUpAnswer

        lang = page.lang_of(request.query_params.get("lang"))
        found = await read_link(token, lang, links.read_answer_token, "answer_gone")
        if isinstance(found, Response):
            return found
        opened, lead = found
        lang = page.lang_of(lead.lang)
        t = page.texts(lang)
        label = t.get(f"answer_{opened.question}_{opened.answer}", opened.answer)
        done = None
        if post:
            event = FollowUpAnswer(lead.id, opened.question, opened.answer)
            await tell(settings, lead, event, clock.now())
            done = t["answer_done"]
        body = page.render(
            "answer.html",
            lang=lang,
            t=t,
            heading=t["answer_title"].format(organisation=lead.organisation_name),
            label=label,
            done=done,
            action=f"/l/a/{token}",
        )
        return HTMLResponse(body, headers=page.HEADERS)

    return router

"""The volunteer's side after the hand-off: timed follow-ups and the way back into the chat.

lead.deliver --+N working days--> lead.followup (c: "Heb je al contact gehad met ...?")
             --+M days---------> lead.followup (s: "Ben je begonnen bij ...?")

A follow-up is a step of the person's own conversation: under the conversation's lock the
engine gets a `FollowUp` event, its replies go where this person can be reached:
- Telegram: the outbox, to the chat the lead was given in (stored with the person's consent);
- WhatsApp: free-form inside the 24-hour service window (from the person's last message),
  outside it the approved template of settings `whatsapp_template_*` with quick-reply
  buttons that carry the same answers;
- REST and the widget: kept in the conversation (`State.inbox`) for the person's next
  message; and by e-mail when the person gave an address.
The answers come back as ordinary messages (`/f/<lead>/<question>/<answer>`) and become the
lead's `volunteer_status` and journey events in the turn's own write (bot.pipeline).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import clock
from bot.jobs import store as jobs
from bot.jobs.registry import Context, register
from bot.leads import links
from bot.leads import store as leads

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from bot.config import Settings
    from bot.leads.store import LeadView
    from quiz.model import Quiz
    from quiz.protocol import Event

WHATSAPP_WINDOW = timedelta(hours=24)
# Follow-ups that make no sense any more, by the person's earlier answer.
_DONE_WITH = {
    "c": frozenset(
        {"contacted", "no_contact", "looking_else", "started", "not_started", "not_yet_started"}
    ),
    "s": frozenset({"looking_else", "started", "not_started"}),
}
_quizzes: dict[Path | None, dict[str, Quiz]] = {}


def _engine(settings: Settings) -> Any:
    from bot.store.db import get_engine

    return get_engine(settings.database_url)


async def schedule(conn: AsyncConnection, settings: Settings, lead: LeadView, now: datetime) -> int:
    """The two follow-ups of a shared lead, in the caller's transaction (idempotent)."""
    if lead.share_consent != "yes":
        return 0
    due = {
        "c": clock.add_working_days(now, settings.followup_contact_days),
        "s": now + timedelta(days=settings.followup_started_days),
    }
    added = 0
    for question, at in due.items():
        key = f"lead.followup.{question}:{lead.id}:{links.tag(lead.conversation_id)}"
        payload = {"lead_id": lead.id, "question": question}
        added += await jobs.enqueue(conn, "lead.followup", at, payload, key, now=now)
    return added


def _quiz(settings: Settings, quiz_id: str) -> Quiz:
    from bot.content import load_quizzes

    if settings.content_dir not in _quizzes:
        _quizzes[settings.content_dir] = load_quizzes(settings.content_dir)
    found = _quizzes[settings.content_dir]
    return found.get(quiz_id) or next(iter(found.values()))


@register("lead.followup")
async def follow_up(ctx: Context) -> str | None:
    from quiz.protocol import FollowUp

    settings = ctx.settings
    question = str(ctx.payload.get("question") or "c")
    async with _engine(settings).connect() as conn:
        lead = await leads.get_view(conn, int(ctx.payload["lead_id"]))
    if lead is None:
        return "withdrawn: nothing sent"
    if lead.share_consent != "yes":
        return f"lead {lead.id}: not shared, no follow-up"
    if lead.volunteer_status in _DONE_WITH.get(question, frozenset()):
        return f"lead {lead.id}: already answered ({lead.volunteer_status})"
    event = FollowUp(
        lead.id,
        question,
        lead.vacancy_id,
        lead.organisation_name,
        lead.vacancy_title,
        lead.contact.get("name", ""),
    )
    where = await tell(settings, lead, event, ctx.now)
    return f"lead {lead.id} follow-up {question} -> {where}"


async def tell(settings: Settings, lead: LeadView, event: Event, now: datetime) -> str:
    """One engine step of the person's conversation from outside (a follow-up), under the
    conversation's lock; its replies go out as this person can be reached. Returns where."""
    from bot.pipeline import LEAD_ANSWERS, installation_of
    from bot.store import outbox
    from bot.store.turns import (
        Sql,
        TurnDatabase,
        _loads,
        dumps,
        insert_events,
        record_lead_answers,
    )
    from quiz.effects import LeadAnswer, Track
    from quiz.engine import Engine, State
    from quiz.messages import reply_to_dict
    from quiz.protocol import FollowUp

    async with _engine(settings).connect() as conn:
        owner = (
            await conn.execute(
                leads.conversations.select().where(leads.conversations.c.id == lead.conversation_id)
            )
        ).first()
    if owner is None:
        return "conversation gone"
    db = TurnDatabase(settings.database_url)
    try:
        async with db.transaction(str(owner.user_hash)) as tx:
            row = await tx.one(
                Sql.same(
                    "SELECT state, channel, updated_at, campaign FROM conversations WHERE id = ?"
                ),
                (lead.conversation_id,),
            )
            if row is None:
                return "conversation gone"
            state = State.from_dict(_loads(row[0]))
            channel = str(row[1])
            engine = Engine(_quiz(settings, state.quiz_id), installation_of(settings))
            step = await _step(settings, engine, state, event)
            ops, window = _render(settings, lead, channel, step.replies, event, row[2], now)
            new_state = step.state
            if ops and lead.chat_id:
                await outbox.enqueue(
                    tx, channel, lead.chat_id, ops, lead.conversation_id, window_ends_at=window
                )
                where = channel if window or channel != "whatsapp" else "whatsapp template"
                if where == "whatsapp template":
                    # Kept for the next message too, should the template not be approved
                    # (an answer from the template removes it: quiz.handoff).
                    new_state.inbox.extend(reply_to_dict(r) for r in step.replies)
            else:
                new_state.inbox.extend(reply_to_dict(r) for r in step.replies)
                where = "next visit"
            await tx.run(
                Sql(
                    "UPDATE conversations SET state = ? WHERE id = ?",
                    "UPDATE conversations SET state = $1::json WHERE id = $2",
                ),
                (dumps(vars(new_state)), lead.conversation_id),
            )
            tracks = [(e.name, e.data) for e in step.effects if isinstance(e, Track)]
            if tracks:
                await insert_events(tx, lead.conversation_id, channel, row[3], tracks)
            answers = [
                (e.lead_id, LEAD_ANSWERS.get((e.question, e.answer), e.answer))
                for e in step.effects
                if isinstance(e, LeadAnswer)
            ]
            await record_lead_answers(tx, lead.conversation_id, answers, now)
    finally:
        await db.close()
    if where == "next visit" and lead.contact.get("email") and isinstance(event, FollowUp):
        where += ", " + await _mail(settings, lead, event)
    return where


async def _step(settings: Settings, engine: Any, state: Any, event: Event) -> Any:
    """engine.step, answering its requests for recommendations (after "Nog niet" from the
    e-mail's link, the next visit shows the next fitting vacancy too)."""
    from quiz.effects import NeedRecommendations
    from quiz.engine import Step
    from quiz.protocol import Recommendations

    step = engine.step(state, event)
    replies, effects = list(step.replies), list(step.effects)
    for effect in list(effects):
        if not isinstance(effect, NeedRecommendations):
            continue
        try:
            items, more = await _recommender(settings)(
                dict(effect.query), effect.offset, effect.limit
            )
        except Exception:  # the answer is recorded all the same
            items, more = [], False
        step = engine.step(step.state, Recommendations(tuple(items), effect.offset, more))
        replies += step.replies
        effects += step.effects
    return Step(step.state, tuple(replies), tuple(effects))


_recommenders: dict[str, Any] = {}


def _recommender(settings: Settings) -> Any:
    from bot.recommender import Recommender

    if settings.database_url not in _recommenders:
        _recommenders[settings.database_url] = Recommender(settings)
    return _recommenders[settings.database_url]


def _render(
    settings: Settings,
    lead: LeadView,
    channel: str,
    replies: Any,
    event: Event,
    last_seen: Any,
    now: datetime,
) -> tuple[list[dict[str, Any]], datetime | None]:
    """Outbox operations for a chat channel (none: keep it for the next visit), and the end
    of the WhatsApp service window they were rendered for."""
    from bot.jobs.store import as_utc
    from quiz.protocol import FollowUp, OrganisationMessage

    if not lead.chat_id or not replies:
        return [], None
    lang = lead.lang or settings.default_language
    if channel == "telegram":
        from bot.channels.telegram import render as telegram_render

        chat: int | str = int(lead.chat_id) if lead.chat_id.lstrip("-").isdigit() else lead.chat_id
        return telegram_render.render(replies, chat, lang, None, settings.public_url), None
    if channel == "whatsapp":
        from bot.channels.whatsapp import render as whatsapp_render

        if isinstance(last_seen, str):
            last_seen = datetime.fromisoformat(last_seen)
        seen = as_utc(last_seen)
        window = seen + WHATSAPP_WINDOW if seen is not None else None
        if window is not None and window > max(now, clock.wall()):
            return whatsapp_render.render(replies, lang, settings.public_url), window
        if isinstance(event, FollowUp):
            return [template_op(settings, event, lang)], None
        if isinstance(event, OrganisationMessage):
            return [message_template_op(settings, event, lang)], None
    return [], None


def template_op(settings: Settings, event: Any, lang: str) -> dict[str, Any]:
    """A follow-up as the approved WhatsApp template (README "WhatsApp templates"): body
    parameters {{1}} first name, {{2}} organisation, {{3}} vacancy; quick-reply buttons whose
    payloads are the answers' own."""
    from quiz.handoff import FOLLOW_UP_ANSWERS
    from quiz.protocol import FollowUpAnswer, encode

    name = (
        settings.whatsapp_template_contact
        if event.question == "c"
        else settings.whatsapp_template_started
    )
    languages = settings.whatsapp_template_languages
    code = languages.get(lang) or languages.get(settings.default_language) or lang
    return {
        "type": "template",
        "name": name,
        "language": code,
        "body": [event.name or "-", event.organisation or "-", event.title or "-"],
        "buttons": [
            encode(FollowUpAnswer(event.lead_id, event.question, answer))
            for answer in FOLLOW_UP_ANSWERS[event.question]
        ],
    }


def message_template_op(settings: Settings, event: Any, lang: str) -> dict[str, Any]:
    """The organisation's message as the approved template: {{1}} organisation, {{2}} vacancy,
    {{3}} the message (one line: template parameters take no line breaks)."""
    languages = settings.whatsapp_template_languages
    code = languages.get(lang) or languages.get(settings.default_language) or lang
    return {
        "type": "template",
        "name": settings.whatsapp_template_message,
        "language": code,
        "body": [event.organisation or "-", event.title or "-", " ".join(event.text.split())],
    }


async def relay(settings: Settings, lead: LeadView, text: str, now: datetime) -> str:
    """The organisation's message from its lead page, into the chat the person chose."""
    from quiz.protocol import OrganisationMessage

    if not lead.contact.get("chat") or not lead.chat_id:
        return "no chat"
    event = OrganisationMessage(lead.organisation_name, lead.vacancy_title, text.strip())
    return await tell(settings, lead, event, now)


async def _mail(settings: Settings, lead: LeadView, event: Event) -> str:
    """The follow-up by e-mail, for a person on the web who gave an address: the question in
    their language and the answers as links to a signed page (bot.leads.routes)."""
    from bot.channels.email.send import compose, send
    from bot.channels.email.texts import Block, render, t
    from quiz.handoff import FOLLOW_UP_ANSWERS, follow_up_replies
    from quiz.protocol import FollowUp

    assert isinstance(event, FollowUp) and lead.contact.get("email")
    lang = lead.lang or settings.default_language
    quiz = _quiz(settings, "")

    class _Host:
        def t(self, _st: Any, key: str, **values: Any) -> str:
            return quiz.t(lang, key, **values)

    question = follow_up_replies(_Host(), None, event)  # type: ignore[arg-type]
    blocks: list[Block] = [question.text]
    titles = {b.payload.rsplit("/", 1)[-1]: b.title for b in question.buttons}
    for answer in FOLLOW_UP_ANSWERS[event.question]:
        url = links.answer_url(settings, lead.id, lead.conversation_id, event.question, answer)
        blocks.append((titles[answer], url))
    text, html = render(blocks, t(lang, "footer_volunteer"))
    message_id = f"lead-{lead.id}-{links.tag(lead.conversation_id)}-followup-{event.question}"
    subject = t(lang, "followup_subject", organisation=event.organisation)
    mail = compose(settings, lead.contact["email"], subject, text, html, message_id)
    return await send(settings, mail)


async def schedule_escalations(conn: AsyncConnection, now: datetime) -> int:
    """ "Nog niet" from the volunteer: the local volunteer centre gets the lead now (run by the
    `leads.scan` job, in its transaction)."""
    added = 0
    for lead_id, conversation_id in await leads.volunteer_not_contacted(conn):
        key = f"lead.escalate.volunteer:{lead_id}:{links.tag(conversation_id)}"
        payload = {"lead_id": lead_id, "why": "volunteer"}
        added += await jobs.enqueue(conn, "lead.escalate", now, payload, key, now=now)
    return added

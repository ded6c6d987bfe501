"""The three e-mails of the hand-off: the lead, the reminder, the escalation."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

from bot.channels.email.send import compose
from bot.channels.email.texts import Block, render, t
from bot.clock import LOCAL
from bot.leads import links

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.leads.store import LeadView

FIELD_KEYS = {
    "name": "field_name",
    "email": "field_email",
    "phone": "field_phone",
    "chat": "field_chat",
    "message": "field_message",
}


def _fields(lang: str, lead: LeadView) -> list[tuple[str, str]]:
    return [(t(lang, FIELD_KEYS[k]), v) for k, v in lead.contact.items() if k in FIELD_KEYS]


def _shared(lang: str, lead: LeadView) -> list[Block]:
    fields = _fields(lang, lead)
    if not fields:
        return [t(lang, "lead_nothing_shared")]
    return [t(lang, "lead_shared"), fields]


def _names(lead: LeadView) -> dict[str, str]:
    return {"vacancy": lead.vacancy_title, "organisation": lead.organisation_name}


def _message_id(lead: LeadView, what: str) -> str:
    return f"lead-{lead.id}-{links.tag(lead.conversation_id)}-{what}"


def lead_mail(
    settings: Settings, lead: LeadView, deadline: datetime, lang: str = "nl"
) -> EmailMessage:
    assert lead.to_email
    link = links.url(settings, lead.id, lead.conversation_id)
    blocks: list[Block] = [
        t(lang, "lead_intro", **_names(lead)),
        *_shared(lang, lead),
        t(lang, "lead_action"),
        (t(lang, "link_label"), link),
        t(
            lang,
            "lead_deadline",
            days=settings.lead_remind_days,
            deadline=deadline.astimezone(LOCAL).strftime("%d-%m-%Y"),
        ),
        t(lang, "lead_ranking", escalate_days=settings.lead_escalate_days),
    ]
    text, html = render(blocks, t(lang, "footer"))
    subject = t(lang, "lead_subject", **_names(lead))
    return compose(settings, lead.to_email, subject, text, html, _message_id(lead, "lead"))


def reminder_mail(settings: Settings, lead: LeadView, lang: str = "nl") -> EmailMessage:
    assert lead.to_email
    link = links.url(settings, lead.id, lead.conversation_id)
    blocks: list[Block] = [
        t(lang, "remind_intro", days=settings.lead_remind_days, **_names(lead)),
        *_shared(lang, lead),
        t(lang, "lead_action"),
        (t(lang, "link_label"), link),
        t(lang, "lead_ranking", escalate_days=settings.lead_escalate_days),
    ]
    text, html = render(blocks, t(lang, "footer"))
    subject = t(lang, "remind_subject", **_names(lead))
    return compose(settings, lead.to_email, subject, text, html, _message_id(lead, "remind"))


def escalation_mail(
    settings: Settings, lead: LeadView, to: str, lang: str = "nl", by_volunteer: bool = False
) -> EmailMessage:
    """To the volunteer centre: the same shared details and the same one-tap page. Sooner
    when the volunteer said they have heard nothing yet (`by_volunteer`)."""
    link = links.url(settings, lead.id, lead.conversation_id)
    blocks: list[Block] = [
        t(
            lang,
            "escalate_intro_volunteer" if by_volunteer else "escalate_intro",
            days=settings.lead_escalate_days,
            municipality=lead.municipality or "-",
            **_names(lead),
        ),
        *_shared(lang, lead),
        t(lang, "escalate_org", org_email=lead.to_email or "-"),
        (t(lang, "link_label"), link),
    ]
    text, html = render(blocks, t(lang, "footer"))
    subject = t(lang, "escalate_subject", **_names(lead))
    return compose(settings, to, subject, text, html, _message_id(lead, "escalate"))

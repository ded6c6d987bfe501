"""The hand-off end to end on the chat channels, over real HTTP: Telegram and WhatsApp (fake
Bot API / Graph API on 127.0.0.1), an aiosmtpd sink for the organisation's and the volunteer
centre's mail, `jobs run --now` (run_due) at +2, +3 and +5 working days.

quiz -> "Ik wil helpen" -> how to be reached -> consent -> the organisation's e-mail with the
link -> the reminder (+2) -> the volunteer's follow-up (+3; WhatsApp: an approved template,
the 24-hour window being closed) -> "Nog niet": an apology, the next fitting vacancy and the
lead at the volunteer centre -> the link marks "Contact opgenomen" -> the funnel counts it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot import clock
from bot.analytics import Filters, funnel_report
from bot.config import Settings
from bot.jobs.runner import run_due
from bot.leads import store as leads
from bot.leads.store import LeadView
from bot.store.db import get_engine, session_scope
from tests.bot.channels.test_telegram_webhook import walk_by_taps as telegram_walk
from tests.bot.channels.test_whatsapp_webhook import walk_by_taps as whatsapp_walk
from tests.bot.leads import seed
from tests.bot.leads.conftest import Sink, text_of
from tests.fakes.harness import Stack, telegram_stack, whatsapp_stack, with_vacancies

LINK = re.compile(r"https://vk\.example\.org(/l/[A-Za-z0-9._-]+)")


@pytest.fixture
def count_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    """One person's journey in the funnel: reports normally hide groups under five."""
    from bot.analytics import suppression

    monkeypatch.setattr(suppression, "K", 1)


async def the_lead(url: str) -> LeadView:
    [row] = await seed.lead_rows(url)
    async with get_engine(url).connect() as conn:
        lead = await leads.get_view(conn, int(row.id))
    assert lead is not None and lead.to_email
    return lead


async def centre_email(url: str, lead: LeadView) -> str:
    async with get_engine(url).connect() as conn:
        centre = await leads.volunteer_centre(conn, lead.municipality)
    assert centre is not None and centre.email
    return centre.email


async def organisation_taps_contacted(stack: Stack, mail_body: str) -> None:
    link = LINK.search(mail_body)
    assert link is not None
    tapped = await stack.http.post(link.group(1), data={"status": "contacted"})
    assert tapped.status_code == 303


async def funnel(url: str, channel: str) -> dict[str, Any]:
    async with session_scope(url) as session:
        report = await funnel_report(session, Filters(channel=channel))
    return dict(report.stages)


def tg_texts(stack: Any) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in stack.fake.sent(stack.user.user_id)]


def tg_payloads(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


def wa_text(message: dict[str, Any]) -> str:
    if message.get("type") == "text":
        return str(message["text"]["body"])
    return str(message.get("interactive", {}).get("body", {}).get("text") or "")


async def test_telegram_hand_off_follow_up_and_escalation(
    mail_settings: Settings, smtp_sink: tuple[Sink, int], count_everyone: None
) -> None:
    sink = smtp_sink[0]
    async with telegram_stack(mail_settings) as st:
        url = st.settings.database_url
        await with_vacancies(st)
        await st.user.say("/start")
        await st.user.tap("/consent/yes")
        await telegram_walk(st)
        card = next(m for m in st.fake.sent(st.user.user_id) if "/help/" in str(m))
        await st.user.tap(next(p for p in tg_payloads(card) if p.startswith("/help/")))
        how = st.user.last_keyboard_message()
        assert tg_payloads(how)[0] == "/h/how/chat"  # Telegram can write first
        await st.user.tap("/h/how/chat")
        await st.user.say("Sanne")
        await st.user.say("Ik kan op dinsdagavond.")
        consent = tg_texts(st)[-1]
        assert "hier in deze chat" in consent and "Sanne" in consent
        await st.user.tap("/h/consent/yes")
        assert any("Je hoort binnen 3 werkdagen" in t for t in tg_texts(st)[-3:])

        lead = await the_lead(url)
        assert lead.contact == {
            "name": "Sanne",
            "chat": "Telegram",
            "message": "Ik kan op dinsdagavond.",
        }
        assert lead.chat_id == str(st.user.user_id)
        t0 = clock.now()
        await run_due(st.settings, t0)
        [mail] = sink.to(lead.to_email or "")
        body = text_of(mail)
        assert "Sanne" in body and "Via de chat: Telegram" in body
        assert str(st.user.user_id) not in body  # the chat id is ours, not the organisation's

        await run_due(st.settings, clock.add_working_days(t0, 2))
        assert "Herinnering" in str(sink.to(lead.to_email or "")[-1]["Subject"])

        sent_before = len(st.fake.sent(st.user.user_id))
        plus3 = clock.add_working_days(t0, 3)
        await run_due(st.settings, plus3)
        await st.settle()
        [question] = st.fake.sent(st.user.user_id)[sent_before:]
        assert "Heb je al contact gehad met" in question["text"]
        assert tg_payloads(question) == [f"/f/{lead.id}/c/{a}" for a in ("yes", "notyet", "other")]

        await st.user.tap(f"/f/{lead.id}/c/notyet")
        after = tg_texts(st)[sent_before + 1 :]
        assert any(t.startswith("Sorry dat") for t in after)
        assert "Misschien past dit werk bij je:" in after
        offered = st.fake.sent(st.user.user_id)[-1]
        assert any(p.startswith("/help/") for p in tg_payloads(offered))
        assert f"/help/{lead.vacancy_id}" not in tg_payloads(offered)

        await run_due(st.settings, plus3)
        [escalation] = sink.to(await centre_email(url, lead))
        assert "nog geen contact" in text_of(escalation)

        # "Through this chat": the organisation writes on its lead page, the message arrives
        # in the person's Telegram chat, and that is the organisation's answer.
        link = LINK.search(body)
        assert link is not None
        page = await st.http.get(link.group(1))
        assert "Stuur een bericht via de chat" in page.text and "<script" not in page.text
        sent = await st.http.post(
            f"{link.group(1)}/message", data={"message": "Hoi Sanne! Bel ons: 030 123 4567."}
        )
        assert sent.status_code == 303
        await st.settle()
        relayed = tg_texts(st)[-1]
        assert relayed.startswith("Bericht van ") and "Bel ons: 030 123 4567." in relayed
        assert "is verstuurd" in (await st.http.get(sent.headers["location"])).text
        stages = await funnel(url, "telegram")
        assert stages["want_to_help"] == 1
        assert stages["lead_delivered"] == 1
        assert stages["organisation_responded"] == 1


async def test_whatsapp_follow_up_outside_the_window_is_a_template(
    mail_settings: Settings, smtp_sink: tuple[Sink, int], count_everyone: None
) -> None:
    sink = smtp_sink[0]
    async with whatsapp_stack(mail_settings) as st:
        url = st.settings.database_url
        user = st.user
        await with_vacancies(st)
        await user.say("Hoi")
        await user.tap("/consent/yes")
        await whatsapp_walk(st)
        help_id = next(
            b["reply"]["id"]
            for m in reversed(st.fake.sent(user.key))
            for b in m.get("interactive", {}).get("action", {}).get("buttons", [])
            if b["reply"]["id"].startswith("/help/")
        )
        await user.tap(help_id)
        assert [c["id"] for c in user.choices()] == [
            "/h/how/chat",
            "/h/how/email",
            "/h/how/phone",
            "/h/how/self",
        ]
        await user.tap("/h/how/email")
        await user.say("sanne@gmail.com")
        await user.say("Sanne")
        await user.tap("/h/message/none")
        await user.tap("/h/consent/yes")
        assert st.fake.rejected == []

        lead = await the_lead(url)
        assert lead.contact == {"name": "Sanne", "email": "sanne@gmail.com"}
        t0 = clock.now()
        await run_due(st.settings, t0)
        [mail] = sink.to(lead.to_email or "")
        assert "sanne@gmail.com" in text_of(mail)

        plus3 = clock.add_working_days(t0, 3)
        await run_due(st.settings, plus3)
        await st.settle()
        [template] = user.templates()
        assert template["type"] == "template"
        body = template["template"]
        assert body["name"] == "vk_followup_contact" and body["language"] == {"code": "nl"}
        params = [p["text"] for p in body["components"][0]["parameters"]]
        assert params == ["Sanne", lead.organisation_name, lead.vacancy_title]
        buttons = [c["parameters"][0]["payload"] for c in body["components"][1:]]
        assert buttons == [f"/f/{lead.id}/c/{a}" for a in ("yes", "notyet", "other")]
        assert st.fake.rejected == []

        await user.tap_template(f"/f/{lead.id}/c/notyet")
        texts = [wa_text(m) for m in st.fake.sent(user.key)[-4:]]
        assert any(t.startswith("Sorry dat") for t in texts)
        assert any(t == "Misschien past dit werk bij je:" for t in texts)
        await run_due(st.settings, plus3)
        assert sink.to(await centre_email(url, lead))
        await organisation_taps_contacted(st, text_of(mail))
        stages = await funnel(url, "whatsapp")
        assert stages["lead_delivered"] == 1 and stages["organisation_responded"] == 1

        # "Deel je kracht": the result card as a WhatsApp image, and the invitation.
        offer = next(
            b["reply"]["id"]
            for m in st.fake.sent(user.key)
            for b in m.get("interactive", {}).get("action", {}).get("buttons", [])
            if b["reply"]["id"].startswith("/share/")
        )
        await user.tap(offer)
        image, invite = st.fake.sent(user.key)[-2:]
        assert image["type"] == "image" and "/cards/" in image["image"]["link"]
        assert "size=square" in image["image"]["link"]
        assert "https://vk.example.org/c/vriend" in wa_text(invite)
        assert st.fake.rejected == []


async def test_erasure_withdraws_the_lead_and_cancels_the_follow_ups(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    sink = smtp_sink[0]
    async with telegram_stack(mail_settings) as st:
        await with_vacancies(st)
        await st.user.say("/start")
        await st.user.tap("/consent/yes")
        await telegram_walk(st)
        card = next(m for m in st.fake.sent(st.user.user_id) if "/help/" in str(m))
        await st.user.tap(next(p for p in tg_payloads(card) if p.startswith("/help/")))
        await st.user.tap("/h/how/chat")
        await st.user.say("Sanne")
        await st.user.tap("/h/message/none")
        await st.user.tap("/h/consent/yes")
        t0 = clock.now()
        await run_due(st.settings, t0)
        assert len(sink.messages) == 1
        await st.user.say("wis mijn gegevens")
        assert await seed.lead_rows(st.settings.database_url) == []

        sent = len(st.fake.sent(st.user.user_id))
        for days in (2, 3, 5):
            await run_due(st.settings, clock.add_working_days(t0, days))
        await st.settle()
        assert len(st.fake.sent(st.user.user_id)) == sent
        assert len(sink.messages) == 1  # no reminder, no escalation, no follow-up

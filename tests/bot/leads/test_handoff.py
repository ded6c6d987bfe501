"""The hand-off end to end: a new lead reaches the organisation's mailbox (a real SMTP sink),
the signed link's page records the answer and the funnel event, reminders and the escalation
follow on Dutch working days, and nothing goes out for erased or unshared leads."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from bot.clock import add_working_days
from bot.config import Settings
from bot.jobs.runner import run_due
from tests.bot.leads import seed
from tests.bot.leads.conftest import Sink, text_of

T0 = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)  # a Friday
LINK = re.compile(r"http://testserver(/l/[A-Za-z0-9._-]+)")


def _app(settings: Settings) -> httpx.AsyncClient:
    from bot.app import create_app

    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_lead_reaches_the_organisation_and_contacted_is_recorded(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    sink = smtp_sink[0]
    url = mail_settings.database_url
    await seed.seed_orgs(url, T0)
    lead_id, _ = await seed.add_lead(url, T0)

    ran = await run_due(mail_settings, T0)

    assert [r.kind for r in ran if r.kind.startswith("lead.")] == ["lead.deliver"]
    [mail] = sink.to(seed.ORG_EMAIL)
    body = text_of(mail)
    assert "Koken voor de buurt" in str(mail["Subject"])
    assert "Sanne" in body and "sanne@example.org" in body
    assert "minder vaak" in body  # unanswered leads lower the ranking: said in the e-mail
    row = await seed.lead_row(url, lead_id)
    assert row.status == "delivered" and row.delivered_at is not None
    assert "lead_delivered" in await seed.event_names(url)

    match = LINK.search(body)
    assert match is not None
    async with _app(mail_settings) as client:
        page = await client.get(match.group(1))
        assert page.status_code == 200
        assert "<script" not in page.text
        assert "Contact opgenomen" in page.text and "Past niet" in page.text
        assert "Vacature is vol" in page.text
        tapped = await client.post(match.group(1), data={"status": "contacted"})
        assert tapped.status_code == 303
        after = await client.get(tapped.headers["location"])
        assert "Dank u" in after.text

    row = await seed.lead_row(url, lead_id)
    assert row.status == "contacted" and row.first_response_at is not None
    assert (await seed.event_names(url)).count("organisation_responded") == 1

    # Answered: the reminder and the escalation do nothing.
    await run_due(mail_settings, add_working_days(T0, 2))
    await run_due(mail_settings, add_working_days(T0, 5))
    assert len(sink.to(seed.ORG_EMAIL)) == 1 and not sink.to(seed.CENTRE_EMAIL)


async def test_reminder_after_two_and_escalation_after_five_working_days(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    sink = smtp_sink[0]
    url = mail_settings.database_url
    await seed.seed_orgs(url, T0)
    lead_id, _ = await seed.add_lead(url, T0)
    await run_due(mail_settings, T0)

    # One working day later (Monday): nothing yet.
    await run_due(mail_settings, add_working_days(T0, 1))
    assert len(sink.messages) == 1
    # +2 working days: Tuesday, the reminder to the organisation.
    await run_due(mail_settings, add_working_days(T0, 2))
    [_, reminder] = sink.to(seed.ORG_EMAIL)
    assert "Herinnering" in str(reminder["Subject"])
    # +5 working days: Friday, the volunteer centre of the municipality gets the lead.
    await run_due(mail_settings, add_working_days(T0, 5))
    [escalation] = sink.to(seed.CENTRE_EMAIL)
    body = text_of(escalation)
    assert "Buurthuis De Linde" in body and "Sanne" in body
    assert LINK.search(body) is not None
    row = await seed.lead_row(url, lead_id)
    assert row.escalated_to == seed.CENTRE and row.reminded_at is not None
    # Nothing is sent twice.
    await run_due(mail_settings, add_working_days(T0, 10))
    assert len(sink.to(seed.ORG_EMAIL)) == 2 and len(sink.to(seed.CENTRE_EMAIL)) == 1


async def test_erased_conversation_is_not_delivered_and_its_page_says_withdrawn(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    from bot.leads import links
    from bot.store.conversations import erase_conversation
    from bot.store.db import session_scope

    url = mail_settings.database_url
    await seed.seed_orgs(url, T0)
    lead_id, conversation_id = await seed.add_lead(url, T0)
    async with session_scope(url) as session:
        await erase_conversation(session, conversation_id)

    await run_due(mail_settings, T0)

    assert smtp_sink[0].messages == []
    token = links.make_token(mail_settings, lead_id, conversation_id)
    async with _app(mail_settings) as client:
        page = await client.get(f"/l/{token}")
    assert page.status_code == 410
    assert "ingetrokken" in page.text and "Sanne" not in page.text


async def test_erasure_after_delivery_withdraws_the_lead(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    from bot.store.conversations import erase_conversation
    from bot.store.db import session_scope

    url = mail_settings.database_url
    await seed.seed_orgs(url, T0)
    _, conversation_id = await seed.add_lead(url, T0)
    await run_due(mail_settings, T0)
    link = LINK.search(text_of(smtp_sink[0].messages[0]))
    assert link is not None
    async with session_scope(url) as session:
        await erase_conversation(session, conversation_id)

    await run_due(mail_settings, add_working_days(T0, 5))

    assert len(smtp_sink[0].messages) == 1  # no reminder, no escalation
    async with _app(mail_settings) as client:
        page = await client.get(link.group(1))
        posted = await client.post(link.group(1), data={"status": "contacted"})
    assert "ingetrokken" in page.text and "Sanne" not in page.text
    assert posted.status_code == 410


async def test_nothing_is_sent_when_the_person_declined_sharing(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    url = mail_settings.database_url
    await seed.seed_orgs(url, T0)
    lead_id, _ = await seed.add_lead(url, T0, share="no")

    await run_due(mail_settings, add_working_days(T0, 6))

    assert smtp_sink[0].messages == []
    assert (await seed.lead_row(url, lead_id)).status == "private"


async def test_tampered_and_expired_links_are_refused(mail_settings: Settings) -> None:
    from bot import clock
    from bot.leads import links

    url = mail_settings.database_url
    await seed.seed_orgs(url, T0)
    lead_id, conversation_id = await seed.add_lead(url, T0)
    with clock.frozen(T0):
        token = links.make_token(mail_settings, lead_id, conversation_id)
    async with _app(mail_settings) as client:
        bad = await client.get(f"/l/{token[:-2]}xx")
        with clock.frozen(T0.replace(year=2027)):
            old = await client.get(f"/l/{token}")
            wrong = await client.post(
                f"/l/{links.make_token(mail_settings, lead_id, conversation_id)}",
                data={"status": "nonsense"},
            )
    assert bad.status_code == 404
    assert old.status_code == 410 and "verlopen" in old.text
    assert wrong.status_code == 400


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_page_in_both_languages(mail_settings: Settings, lang: str) -> None:
    from bot.leads import links

    url = mail_settings.database_url
    await seed.seed_orgs(url, T0)
    lead_id, conversation_id = await seed.add_lead(url, T0)
    token = links.make_token(mail_settings, lead_id, conversation_id)
    async with _app(mail_settings) as client:
        page = await client.get(f"/l/{token}?lang={lang}")
    assert ("Contacted" in page.text) == (lang == "en")
    assert page.headers["content-security-policy"].startswith("default-src 'none'")

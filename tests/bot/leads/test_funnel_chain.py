"""The whole chain on the REST channel: quiz -> "Ik wil helpen" -> how to be reached, consent
-> the SMTP sink receives the organisation's e-mail with only what was agreed -> its link marks
"Contact opgenomen" -> the funnel counts it. A person who says no sends nothing anywhere.
Follow-ups on the web wait for the next visit and come by e-mail."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import httpx

from bot import clock
from bot.analytics import Filters, funnel_report
from bot.config import Settings
from bot.jobs.runner import run_due
from bot.leads import ranking
from bot.leads.webhook import new_secret
from bot.pipeline import Inbound, Pipeline
from bot.recommender import Recommender
from bot.store.db import session_scope
from quiz.messages import Buttons, Reply
from tests.bot.commands.test_jobs_cli import _cli
from tests.bot.leads import seed
from tests.bot.leads.conftest import Sink, text_of
from tests.bot.leads.test_webhook import Receiver
from tests.bot.test_analytics_pipeline import walk
from tests.fakes.server import LocalServer

LINK = re.compile(r"http://testserver(/l/[A-Za-z0-9._-]+)")
PEOPLE = 5  # reports hide groups smaller than 5


def _text(replies: list[Reply]) -> str:
    return "\n".join(getattr(r, "text", "") for r in replies)


async def hand_off(pipeline: Pipeline, sender: str, email: str, share: bool = True) -> str:
    """ "Ik wil helpen" -> e-mail -> name -> message -> consent; returns the consent question."""

    async def say(text: str | None = None, payload: str | None = None) -> list[Reply]:
        return (await pipeline.handle(Inbound("rest", sender, text=text, payload=payload))).replies

    asked = await say(payload=f"/help/{seed.VACANCY}")
    assert "Hoe mag Buurthuis De Linde contact met je opnemen?" in _text(asked)
    await say(payload="/h/how/email")
    assert "klopt niet" in _text(await say("sanne(at)gmail"))
    await say(email)
    await say("Sanne")
    consent = _text(await say("Ik kan op dinsdag"))
    done = _text(await say(payload="/h/consent/yes" if share else "/h/consent/no"))
    if share:
        assert "Je hoort binnen 3 werkdagen van ze" in done
    else:
        assert "ik stuur niets door" in done
        assert seed.ORG_EMAIL in done  # the details to reach out themselves, as before
    return consent


async def test_quiz_to_organisation_responded(
    mail_settings: Settings, smtp_sink: tuple[Sink, int], tmp_path: Path
) -> None:
    from bot.app import create_app

    sink = smtp_sink[0]
    url = mail_settings.database_url
    receiver = Receiver(fail_first=0)
    hook = await LocalServer(receiver.app()).start()
    try:
        await seed.seed_orgs(url, clock.now(), webhook=(f"{hook.url}/hook", new_secret()))
        ranking.forget()
        pipeline = Pipeline(mail_settings, recommender=Recommender(mail_settings))
        for i in range(PEOPLE):
            await walk(pipeline, f"helper-{i}", "radio")
            consent = await hand_off(pipeline, f"helper-{i}", f"helper{i}@gmail.com")
            # The consent question names exactly what goes to whom.
            assert "Dit stuur ik naar Buurthuis De Linde:" in consent
            assert f"helper{i}@gmail.com" in consent and "Sanne" in consent
            assert "Ik kan op dinsdag" in consent and "Koken voor de buurt" in consent
        await walk(pipeline, "private-person", "radio")
        await hand_off(pipeline, "private-person", "private@gmail.com", share=False)

        await run_due(mail_settings)
        await run_due(mail_settings, clock.now() + timedelta(minutes=5))
    finally:
        await hook.stop()

    mails = sink.to(seed.ORG_EMAIL)
    assert len(mails) == PEOPLE
    bodies = [text_of(m) for m in mails]
    assert all("Sanne" in b and "Ik kan op dinsdag" in b for b in bodies)
    assert {f"helper{i}@gmail.com" for i in range(PEOPLE)} <= {
        a for b in bodies for a in re.findall(r"helper\d@gmail\.com", b)
    }
    # The person who said no: nothing in any mailbox, nothing at the webhook.
    assert not any("private@gmail.com" in text_of(m) for m in sink.messages)
    assert len(receiver.calls) == PEOPLE
    assert not any(b"private@gmail.com" in body for _, body in receiver.calls)

    transport = httpx.ASGITransport(app=create_app(mail_settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for body in bodies:
            link = LINK.search(body)
            assert link is not None
            tapped = await client.post(link.group(1), data={"status": "contacted"})
            assert tapped.status_code == 303
    async with session_scope(url) as session:
        report = await funnel_report(session, Filters(campaigns=("radio",)))
    stages = dict(report.stages)
    assert stages["want_to_help"] == PEOPLE + 1
    assert stages["lead_delivered"] == PEOPLE
    assert stages["organisation_responded"] == PEOPLE
    # The same through the command line, as operators read it.
    printed = _cli(
        mail_settings, tmp_path, "report", "funnel", "--campaign", "radio", "--format", "json"
    )
    assert printed.returncode == 0, printed.stderr
    counted = {s["name"]: s["count"] for s in json.loads(printed.stdout)["stages"]}
    assert counted["organisation_responded"] == PEOPLE and counted["lead_delivered"] == PEOPLE


async def test_web_follow_up_waits_for_the_next_visit_and_comes_by_email(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    from bot.app import create_app

    sink = smtp_sink[0]
    url = mail_settings.database_url
    t0 = clock.now()
    await seed.seed_orgs(url, t0)
    ranking.forget()
    pipeline = Pipeline(mail_settings, recommender=Recommender(mail_settings))
    await walk(pipeline, "web-person", "radio")
    await hand_off(pipeline, "web-person", "sanne@gmail.com")
    await run_due(mail_settings, t0)

    # +3 working days: the question waits in the conversation and comes by e-mail.
    plus3 = clock.add_working_days(t0, 3)
    await run_due(mail_settings, plus3)
    [mail] = sink.to("sanne@gmail.com")
    body = text_of(mail)
    assert "Heb je al contact gehad met Buurthuis De Linde?" in body
    links = re.findall(r"Nog niet: http://testserver(/l/a/[A-Za-z0-9._-]+)", body)
    assert len(links) == 1

    # "Nog niet" from the e-mail: a GET only shows it, the button records it.
    transport = httpx.ASGITransport(app=create_app(mail_settings))
    clock.set_now(plus3)  # the person reads the e-mail that day
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        shown = await client.get(links[0])
        assert shown.status_code == 200 and "<script" not in shown.text
        assert "Nog niet" in shown.text
        rows = await seed.lead_rows(url)
        assert rows[0].volunteer_status is None
        posted = await client.post(links[0])
        assert "Dank je!" in posted.text
    clock.set_now(None)
    rows = await seed.lead_rows(url)
    assert rows[0].volunteer_status == "no_contact"
    # ... and the volunteer centre takes the lead over now, not after 5 working days.
    await run_due(mail_settings, plus3)
    [escalation] = sink.to(seed.CENTRE_EMAIL)
    assert "nog geen contact" in text_of(escalation)

    # The next visit: the apology, not the question answered already.
    visit = await pipeline.handle(Inbound("rest", "web-person", text="hallo"))
    said = _text(visit.replies)
    assert "Welkom terug" in said and "Sorry dat Buurthuis De Linde" in said
    assert "Misschien past dit werk bij je:" in said
    assert not [r for r in visit.replies if isinstance(r, Buttons) and "/f/" in str(r.buttons)]

    # +3 weeks: "Ben je begonnen?" answered in the chat: the funnel's last stage.
    await run_due(mail_settings, t0 + timedelta(days=21))
    visit = await pipeline.handle(Inbound("rest", "web-person", text="hoi"))
    (question,) = [r for r in visit.replies if isinstance(r, Buttons) and "/f/" in str(r.buttons)]
    assert "Ben je begonnen bij Buurthuis De Linde" in question.text
    await pipeline.handle(Inbound("rest", "web-person", payload=question.buttons[0].payload))
    rows = await seed.lead_rows(url)
    assert rows[0].volunteer_status == "started"
    assert "volunteer_started" in await seed.event_names(url)

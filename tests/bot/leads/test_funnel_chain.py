"""The whole chain on today's turn path: quiz -> "Ik wil helpen" -> the SMTP sink receives the
organisation's e-mail -> its link marks "Contact opgenomen" -> the funnel counts it."""

from __future__ import annotations

import re

import httpx

from bot import clock
from bot.analytics import Filters, funnel_report
from bot.config import Settings
from bot.jobs.runner import run_due
from bot.leads import ranking
from bot.pipeline import Inbound, Pipeline
from bot.recommender import Recommender
from bot.store.db import session_scope
from tests.bot.leads import seed
from tests.bot.leads.conftest import Sink, text_of
from tests.bot.test_analytics_pipeline import walk

LINK = re.compile(r"http://testserver(/l/[A-Za-z0-9._-]+)")
PEOPLE = 5  # reports hide groups smaller than 5


async def test_quiz_to_organisation_responded(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    from bot.app import create_app

    sink = smtp_sink[0]
    url = mail_settings.database_url
    await seed.seed_orgs(url, clock.now())
    ranking.forget()
    pipeline = Pipeline(mail_settings, recommender=Recommender(mail_settings))
    for i in range(PEOPLE):
        await walk(pipeline, f"helper-{i}", "radio")
        await pipeline.handle(Inbound("rest", f"helper-{i}", payload=f"/help/{seed.VACANCY}"))

    await run_due(mail_settings)

    mails = sink.to(seed.ORG_EMAIL)
    assert len(mails) == PEOPLE
    transport = httpx.ASGITransport(app=create_app(mail_settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for mail in mails:
            link = LINK.search(text_of(mail))
            assert link is not None
            tapped = await client.post(link.group(1), data={"status": "contacted"})
            assert tapped.status_code == 303
    async with session_scope(url) as session:
        report = await funnel_report(session, Filters(campaigns=("radio",)))
    stages = dict(report.stages)
    assert stages["want_to_help"] == PEOPLE
    assert stages["organisation_responded"] == PEOPLE

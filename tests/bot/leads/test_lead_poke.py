"""A lead reaches the organisation at once: the turn that writes it pokes the jobs runner,
which brings its periodic scan forward instead of waiting out the period (60 s)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot import clock
from bot.config import Settings
from bot.jobs import store
from bot.jobs.runner import Wake, start
from bot.leads import ranking
from bot.leads.handlers import SCAN_EVERY, SCAN_KIND
from bot.pipeline import Pipeline
from bot.recommender import Recommender
from bot.store.db import get_engine
from tests.bot.leads import seed
from tests.bot.leads.conftest import Sink
from tests.bot.leads.test_funnel_chain import hand_off
from tests.bot.test_analytics_pipeline import walk


async def _scan_due_at(settings: Settings) -> datetime | None:
    async with get_engine(settings.database_url).connect() as conn:
        scans = [j for j in await store.list_jobs(conn) if j.kind == SCAN_KIND]
    return scans[0].due_at if scans and scans[0].status == store.PENDING else None


async def test_a_new_lead_is_mailed_without_waiting_for_the_scan_period(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    sink = smtp_sink[0]
    settings = mail_settings.model_copy(update={"jobs_runner": True})
    await seed.seed_orgs(settings.database_url, clock.now())
    ranking.forget()
    pipeline = Pipeline(settings, recommender=Recommender(settings))
    wake = Wake()
    pipeline.on_leads = lambda: wake.poke(SCAN_KIND)
    stop = start(settings, wake)
    try:
        for _ in range(100):  # the first round scans once; the next scan is a period away
            due = await _scan_due_at(settings)
            if due is not None and due > clock.now() + SCAN_EVERY / 2:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the first scan did not run")
        await walk(pipeline, "helper", "radio")
        await hand_off(pipeline, "helper", "helper@gmail.com")
        for _ in range(200):
            if sink.to(seed.ORG_EMAIL):
                break
            await asyncio.sleep(0.05)
    finally:
        await stop()
    assert len(sink.to(seed.ORG_EMAIL)) == 1
    assert timedelta(seconds=30) <= SCAN_EVERY  # so only the poke can explain the mail


async def test_a_poke_while_the_scan_runs_is_kept_for_the_next_round() -> None:
    wake = Wake()
    wake.poke(SCAN_KIND)
    wake.poke(SCAN_KIND)
    assert wake.take() == [SCAN_KIND]
    assert wake.take() == []
    stop = asyncio.Event()
    waiting = asyncio.create_task(wake.wait(stop, 30))
    await asyncio.sleep(0)
    wake.poke(SCAN_KIND)
    await asyncio.wait_for(waiting, 2)  # a poke ends the wait long before the timeout

"""Unanswered leads in the ranking: a vacancy with too many is paused (default 5, per vacancy
`max_open_leads`), an organisation that lets leads pass the deadline ranks lower."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.config import Settings
from bot.leads import ranking
from bot.leads.tables import leads as lead_table
from bot.recommender import Recommender
from bot.store.db import get_engine
from tests.bot.leads import seed
from tests.bot.leads.test_handoff import T0

QUERY = {"lat": 52.09, "lon": 5.12, "municipality": seed.MUNICIPALITY, "radius_km": 10}


@pytest.fixture(autouse=True)
def _fresh_figures() -> Iterator[None]:
    ranking.forget()
    yield
    ranking.forget()


async def _ids(settings: Settings) -> list[str]:
    ranking.forget()
    items, _ = await Recommender(settings)(dict(QUERY), 0, 10)
    return [str(i["vacancy_id"]) for i in items]


async def test_too_many_unanswered_leads_pause_a_vacancy(settings: Settings) -> None:
    url = settings.database_url
    await seed.seed_orgs(url, T0)
    assert seed.VACANCY in await _ids(settings)

    for _ in range(4):
        await seed.add_lead(url, T0)
    assert seed.VACANCY in await _ids(settings)
    lead_id, _ = await seed.add_lead(url, T0)
    async with get_engine(url).connect() as conn:
        assert await ranking.open_leads(conn) == {seed.VACANCY: 5}
    assert seed.VACANCY not in await _ids(settings)

    # An answer brings it back; so does a higher limit for this vacancy.
    async with get_engine(url).begin() as conn:
        await conn.execute(
            sa.update(lead_table)
            .where(lead_table.c.id == lead_id)
            .values(status="contacted", first_response_at=T0),
        )
    assert seed.VACANCY in await _ids(settings)
    await seed.add_lead(url, T0)
    async with get_engine(url).begin() as conn:
        await conn.execute(sa.text("UPDATE vacancies SET max_open_leads = 10"))
    assert seed.VACANCY in await _ids(settings)


async def test_late_organisations_rank_lower(settings: Settings) -> None:
    from bot.leads.tables import leads

    url = settings.database_url
    await seed.seed_orgs(url, T0)
    for _ in range(3):
        await seed.add_lead(url, T0)
    async with get_engine(url).begin() as conn:
        await conn.execute(
            sa.update(leads).values(status="contacted", escalated_at=T0 + timedelta(days=7))
        )
        penalties = await ranking.penalties(conn, T0 + timedelta(days=8))
    assert penalties == {seed.ORG: pytest.approx(0.3)}

    ranking.forget()
    late, _ = await Recommender(settings)(dict(QUERY), 0, 10)
    async with get_engine(url).begin() as conn:
        await conn.execute(sa.update(leads).values(escalated_at=None))
    ranking.forget()
    fine, _ = await Recommender(settings)(dict(QUERY), 0, 10)

    def score(items: list[dict[str, object]]) -> float:
        return next(float(str(i["score"])) for i in items if i["vacancy_id"] == seed.VACANCY)

    assert seed.VACANCY in [i["vacancy_id"] for i in late]
    assert score(late) < score(fine)

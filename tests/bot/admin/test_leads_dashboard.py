"""/admin/leads: an organisation's dashboard token lists its own leads (HTML, CSV, JSON)."""

from __future__ import annotations

import csv
import io

import httpx

from bot.config import Settings
from bot.jobs.runner import run_due
from bot.store.campaigns import create_token
from bot.store.db import session_scope
from tests.bot.leads import seed
from tests.bot.leads.test_handoff import T0


async def test_organisation_sees_its_leads_with_status_and_age(settings: Settings) -> None:
    from bot import clock
    from bot.app import create_app

    settings = settings.model_copy(update={"mail_dir": settings.model_dir / "mail"})
    url = settings.database_url
    await seed.seed_orgs(url, T0)
    first, _ = await seed.add_lead(url, T0)
    await seed.add_lead(url, T0, vacancy_id=f"{seed.CENTRE}-advies")  # another organisation
    await run_due(settings, T0)
    async with session_scope(url) as session:
        token, _ = await create_token(session, seed.ORG, "test")
        other, _ = await create_token(session, "someone-else", "test")

    transport = httpx.ASGITransport(app=create_app(settings))
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with clock.frozen(T0.replace(day=9)):
            as_json = (await client.get("/admin/leads.json", headers=auth)).json()
            as_csv = await client.get("/admin/leads.csv", headers=auth)
            as_html = await client.get("/admin/leads", headers=auth)
        foreign = (
            await client.get("/admin/leads.json", headers={"Authorization": f"Bearer {other}"})
        ).json()
        anonymous = await client.get("/admin/leads.json")
        admin = (
            await client.get(
                "/admin/leads.json", headers={"Authorization": "Bearer test-admin-token"}
            )
        ).json()

    [lead] = as_json["leads"]
    assert lead["lead_id"] == first and lead["status"] == "delivered" and lead["age_days"] == 5
    assert lead["page"].startswith(settings.public_url + "/l/")
    assert as_json["summary"]["open"] == 1 and as_json["summary"]["response_rate"] == 0.0
    [csv_row] = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert csv_row["vacancy_id"] == seed.VACANCY
    assert "Koken voor de buurt" in as_html.text and "<script" not in as_html.text
    assert foreign["leads"] == []
    assert anonymous.status_code == 401
    assert len(admin["leads"]) == 2

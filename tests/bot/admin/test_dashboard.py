"""/admin over real HTTP: bearer tokens (admin sees all, an organisation only its own
campaigns), the dashboard, charts, CSV/JSON downloads, the team report — k ≥ 5 everywhere."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import httpx
import pytest
import zxingcpp
from PIL import Image

from bot.config import Settings
from bot.store.campaigns import Campaign, add_campaign, create_token, revoke_token
from bot.store.db import session_scope
from tests.bot.analytics_data import Cohort, radio_cohorts, write
from tests.bot.test_analytics import small_counts
from tests.live_server import run_server

ADMIN = {"Authorization": "Bearer test-admin-token"}


def cells(html: str) -> list[str]:
    """The text of every number cell of the dashboard's tables."""
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r'<td class="n">(.*?)</td>', html)
    ]


def assert_k_anonymous(html: str) -> None:
    """Every count cell is '<5' or ≥ 5 (percentages aside)."""
    found = cells(html)
    assert found, "no number cells"
    for c in found:
        if c.endswith("%") or c == "":
            continue
        assert c == "&lt;5" or int(c) >= 5, c


async def seed(db_url: str) -> tuple[str, str, int]:
    """radio (national) and two campaigns of volunteer centre 'vc-utrecht'; two tokens."""
    await write(
        db_url,
        *radio_cohorts(),
        Cohort(9, "completed", campaign="poster-utrecht", profile="coach"),
        Cohort(3, "completed", campaign="tiny-utrecht", profile="zorgzame"),
        Cohort(8, "completed", campaign="acme", profile="organisator", causes=("nature",)),
        Cohort(6, "completed", campaign="acme", profile="coach", causes=("youth",)),
        Cohort(2, "completed", campaign="acme", profile="specialist", causes=("disability",)),
    )
    async with session_scope(db_url) as s:
        for code, owner, company in (
            ("radio", "national", False),
            ("poster-utrecht", "vc-utrecht", False),
            ("tiny-utrecht", "vc-utrecht", False),
            ("acme", "acme-bv", True),
        ):
            await add_campaign(
                s,
                Campaign(
                    code=code,
                    name=f"Campagne {code}",
                    owner=owner,
                    keyword="KRACHT",
                    starts_on=date(2026, 11, 23),
                    ends_on=date(2026, 12, 6),
                    company=company,
                ),
            )
        org_token, org_id = await create_token(s, "vc-utrecht", "test")
        company_token, _ = await create_token(s, "acme-bv", "hr")
    return org_token, company_token, org_id


async def test_tokens_and_scopes(settings: Settings, db_url: str) -> None:
    org_token, _, org_id = await seed(db_url)
    org = {"Authorization": f"Bearer {org_token}"}
    with run_server(settings) as base, httpx.Client(base_url=base) as http:
        # No token: a login form (401) for pages, a JSON 401 for data.
        page = http.get("/admin")
        assert page.status_code == 401 and 'name="token"' in page.text
        assert page.headers["www-authenticate"].startswith("Bearer")
        assert http.get("/admin/report.csv").status_code == 401
        wrong = http.get("/admin/report.json", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401

        # The administrator sees every campaign.
        admin_page = http.get("/admin", headers=ADMIN)
        assert admin_page.status_code == 200
        assert admin_page.headers["cache-control"] == "no-store"
        for code in ("radio", "poster-utrecht", "tiny-utrecht", "acme"):
            assert code in admin_page.text
        assert_k_anonymous(admin_page.text)
        full = http.get("/admin/report.json", headers=ADMIN).json()
        assert full["stages"][0] == {"name": "entries", "count": 62, "suppressed": False}
        assert small_counts(full) == []

        # The organisation sees only its own campaigns, and nothing of the others.
        mine = http.get("/admin", headers=org)
        assert mine.status_code == 200
        assert "poster-utrecht" in mine.text and "radio" not in mine.text
        assert "acme" not in mine.text
        assert_k_anonymous(mine.text)
        data = http.get("/admin/report.json", headers=org).json()
        assert data["stages"][0]["count"] == 12  # 9 + 3
        by_campaign = {r["value"]: r["stages"] for r in data["breakdowns"]["campaign"]}
        assert set(by_campaign) == {"poster-utrecht", "tiny-utrecht"}
        # tiny (3) is hidden, and poster with it (12 - 9 would show 3).
        assert by_campaign["tiny-utrecht"]["entries"] is None
        assert by_campaign["poster-utrecht"]["entries"] is None
        assert small_counts(data) == []
        for path in (
            "/admin/campaigns/radio",
            "/admin/report.json?campaign=radio",
            "/admin/report.csv?owner=national",
            "/admin/charts/funnel.png?campaign=acme",
            "/admin/orgs/acme-bv",
            "/admin/campaigns/acme/team.json",
            "/admin/campaigns/radio/qr.png",
        ):
            assert http.get(path, headers=org).status_code == 404, path
        poster = http.get("/admin/campaigns/poster-utrecht", headers=org)
        assert poster.status_code == 200 and "Campagne poster-utrecht" in poster.text
        assert_k_anonymous(poster.text)

        # A revoked token stops working at once.
        async with session_scope(db_url) as s:
            assert await revoke_token(s, org_id)
        assert http.get("/admin/report.json", headers=org).status_code == 401


async def test_dashboard_charts_downloads_and_team(settings: Settings, db_url: str) -> None:
    _, company_token, _ = await seed(db_url)
    with run_server(settings) as base, httpx.Client(base_url=base) as http:
        page = http.get("/admin/campaigns/radio", headers=ADMIN)
        assert page.status_code == 200
        imgs = re.findall(r'<img class="chart" src="([^"]+)"', page.text)
        assert len(imgs) == 3
        for src in imgs:
            png = http.get(src.replace("&amp;", "&"), headers=ADMIN)
            assert png.status_code == 200 and png.headers["content-type"] == "image/png"
            with Image.open(io.BytesIO(png.content)) as img:
                assert img.width >= 900
        csv_link = re.search(r'href="(/admin/report\.csv\?[^"]*)"', page.text)
        assert csv_link is not None
        funnel = http.get(csv_link.group(1).replace("&amp;", "&"), headers=ADMIN)
        assert funnel.headers["content-disposition"].startswith("attachment")
        rows = list(csv.DictReader(io.StringIO(funnel.text)))
        assert [r["count"] for r in rows] == ["34", "28", "23", "16", "13", "7", "<5"]
        weekly = http.get("/admin/report.csv?campaign=radio&by=week", headers=ADMIN).text
        assert weekly.splitlines()[0].startswith("week,entries")
        for line in list(csv.reader(io.StringIO(weekly)))[1:]:
            assert all(c == "<5" or int(c) >= 5 for c in line[1:]), line

        # Poster QR codes from the dashboard decode to the campaign's web link.
        qr = http.get("/admin/campaigns/radio/qr.png?channel=web", headers=ADMIN)
        assert qr.status_code == 200
        decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.content)))]
        assert decoded == [settings.public_url.rstrip("/") + "/c/radio"]
        assert (
            http.get("/admin/campaigns/radio/qr.png?channel=telegram", headers=ADMIN).status_code
            == 409
        )

        # Login form -> HttpOnly cookie -> the same pages without a header.
        login = http.post("/admin/login", data={"token": "test-admin-token"})
        assert login.status_code == 303
        assert "httponly" in login.headers["set-cookie"].lower()
        assert http.get("/admin").status_code == 200
        http.post("/admin/logout")
        http.cookies.clear()
        assert http.get("/admin").status_code == 401
        bad = http.post("/admin/login", data={"token": "guess"})
        assert bad.status_code == 401 and "klopt niet" in bad.text

        # The company sees its team report: aggregates only, k ≥ 5.
        company = {"Authorization": f"Bearer {company_token}"}
        team = http.get("/admin/campaigns/acme/team.json", headers=company)
        assert team.status_code == 200
        data = team.json()
        assert data["entries"] == 16
        profiles = {p["id"]: p["count"] for p in data["profiles"]}
        # specialist (2) is hidden, and coach (6) with it, or 16 - 8 - 6 = 2 would show.
        assert profiles["organisator"] == 8 and profiles["specialist"] is None
        assert profiles["coach"] is None
        causes = {c["id"]: c["count"] for c in data["causes"]}
        assert causes["nature"] == 8 and causes["youth"] == 6 and causes["disability"] is None
        assert small_counts(data) == []
        html = http.get("/admin/campaigns/acme/team", headers=company)
        assert html.status_code == 200 and "Teamrapport" in html.text
        assert_k_anonymous(html.text)
        assert http.get("/admin/campaigns/radio/team.json", headers=ADMIN).status_code == 404


@pytest.mark.parametrize("week", ["2026-W99", "last-week"])
async def test_bad_week_is_a_clear_400(settings: Settings, db_url: str, week: str) -> None:
    from bot.app import create_app

    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get(f"/admin/report.json?week={week}", headers=ADMIN)
    assert response.status_code == 400 and "2026-W48" in response.json()["detail"]

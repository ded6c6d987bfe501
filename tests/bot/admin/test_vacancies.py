"""An organisation manages its own vacancies over HTTP: the /admin form (no JavaScript) and
the JSON API at /api/org/vacancies, both with its dashboard token, both checked with the
importer's rules; another organisation's vacancies are out of reach."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.orgs.queries import Filters, list_vacancies
from bot.store.campaigns import create_token
from bot.store.db import session_scope


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from bot.app import create_app

    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def token_for(settings: Settings, owner: str) -> str:
    async with session_scope(settings.database_url) as s:
        token, _ = await create_token(s, owner, "test")
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


GOOD = {
    "title": "Voorlezen op de bibliotheek",
    "description": "Je leest voor aan kinderen.",
    "causes": ["education", "youth"],
    "activities": ["teaching"],
    "offers": ["learn"],
    "place": "Zwolle",
    "days": ["wednesday"],
    "dayparts": ["afternoon"],
    "min_age": 16,
    "vog_required": True,
    "url": "https://bieb.example.nl/voorlezen",
    "publish_end": "2027-03-31",
    "organisation_name": "Bibliotheek Zwolle",
}


async def test_json_api(settings: Settings, client: httpx.AsyncClient) -> None:
    token = await token_for(settings, "bieb-zwolle")
    other = await token_for(settings, "someone-else")

    assert (await client.get("/api/org/vacancies")).status_code == 401
    bad = await client.get("/api/org/vacancies", headers=auth("vkd_wrong"))
    assert bad.status_code == 401

    created = await client.post("/api/org/vacancies", json=GOOD, headers=auth(token))
    assert created.status_code == 201, created.text
    v = created.json()
    vid = v["vacancy_id"]
    assert v["organisation_id"] == "bieb-zwolle" and v["organisation"] == "Bibliotheek Zwolle"
    assert v["municipality"] == "Zwolle" and v["vog_required"] is True
    assert v["publish_end"] == "2027-03-31" and v["offers"] == ["learn"]

    # The importer's rules, every problem at once, as 422.
    wrong = {**GOOD, "causes": ["space"], "postcode": "12", "hours_min": 5, "hours_max": 2}
    answer = await client.put(f"/api/org/vacancies/{vid}", json=wrong, headers=auth(token))
    assert answer.status_code == 422
    detail = " | ".join(answer.json()["detail"])
    assert "unknown causes id 'space'" in detail and "postcode" in detail
    assert "hours_min" in detail
    # Unknown fields and wrong types are refused by the schema.
    assert (
        await client.post("/api/org/vacancies", json={**GOOD, "salary": 9}, headers=auth(token))
    ).status_code == 422

    edited = await client.put(
        f"/api/org/vacancies/{vid}", json={**GOOD, "min_age": 18}, headers=auth(token)
    )
    assert edited.status_code == 200 and edited.json()["min_age"] == 18

    # Out of reach for another organisation: not found, not changed.
    assert (await client.get(f"/api/org/vacancies/{vid}", headers=auth(other))).status_code == 404
    put = await client.put(f"/api/org/vacancies/{vid}", json=GOOD, headers=auth(other))
    assert put.status_code == 404
    assert (await client.get("/api/org/vacancies", headers=auth(other))).json() == []

    closed = await client.post(f"/api/org/vacancies/{vid}/close", headers=auth(token))
    assert closed.status_code == 200 and closed.json()["closed"] is True
    assert list_vacancies(settings.database_url, Filters(limit=0)) == []
    listed = (await client.get("/api/org/vacancies", headers=auth(token))).json()
    assert [x["vacancy_id"] for x in listed] == [vid]

    # The admin token names the organisation.
    admin = auth("test-admin-token")
    assert (await client.get("/api/org/vacancies", headers=admin)).status_code == 400
    mine = await client.get("/api/org/vacancies?organisation_id=bieb-zwolle", headers=admin)
    assert [x["vacancy_id"] for x in mine.json()] == [vid]

    # Documented in the OpenAPI page, with bearer security.
    schema = (await client.get("/openapi.json")).json()
    assert "/api/org/vacancies" in schema["paths"]
    assert "/api/org/vacancies/{vacancy_id}/close" in schema["paths"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert not any(p.startswith("/admin/vacancies") for p in schema["paths"])


async def test_html_form(settings: Settings, client: httpx.AsyncClient, tmp_path: Path) -> None:
    token = await token_for(settings, "bieb-zwolle")
    page = await client.get("/admin/vacancies")
    assert page.status_code == 303 and page.headers["location"] == "/admin/login"

    login = await client.post("/admin/login", data={"token": token})
    assert login.status_code == 303
    client.cookies.set("vk_admin", token)

    form = await client.get("/admin/vacancies/new")
    assert form.status_code == 200 and "<form" in form.text and "<script" not in form.text

    fields = {
        "title": "Voorlezen",
        "place": "Zwolle",
        "causes": ["education", "youth"],
        "days": ["wednesday"],
        "vog_required": "true",
        "min_age": "16",
        "organisation_name": "Bibliotheek Zwolle",
    }
    bad = await client.post("/admin/vacancies/new", data={**fields, "min_age": "zestien"})
    assert bad.status_code == 422 and "min_age must be a number" in bad.text
    assert 'value="Voorlezen"' in bad.text  # what was typed stays

    saved = await client.post("/admin/vacancies/new", data=fields)
    assert saved.status_code == 303, saved.text
    (v,) = list_vacancies(settings.database_url, Filters(limit=0))
    assert v["causes"] == ["education", "youth"] and v["vog_required"] is True
    assert v["min_age"] == 16 and v["organisation_id"] == "bieb-zwolle"

    listing = await client.get("/admin/vacancies?done=saved")
    assert "Voorlezen" in listing.text and "Opgeslagen." in listing.text
    edit = await client.get(f"/admin/vacancies/{v['vacancy_id']}")
    assert 'value="Voorlezen"' in edit.text and "checked" in edit.text

    changed = await client.post(
        f"/admin/vacancies/{v['vacancy_id']}", data={**fields, "title": "Voorlezen (woensdag)"}
    )
    assert changed.status_code == 303
    closed = await client.post(f"/admin/vacancies/{v['vacancy_id']}/close")
    assert closed.status_code == 303
    assert list_vacancies(settings.database_url, Filters(limit=0)) == []
    (v2,) = list_vacancies(settings.database_url, Filters(limit=0, open_only=False))
    assert v2["title"] == "Voorlezen (woensdag)" and v2["closed_reason"] == "closed"

    # Another organisation's vacancy is not found.
    other = await token_for(settings, "someone-else")
    client.cookies.set("vk_admin", other)
    assert (await client.get(f"/admin/vacancies/{v['vacancy_id']}")).status_code == 404
    assert (await client.post(f"/admin/vacancies/{v['vacancy_id']}/open")).status_code == 404

"""The origin allowlist on the REST endpoint: per organisation, global, and the server's own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.channels.widget.cors import normalise_origin, origin_matches
from bot.config import Settings
from bot.orgs.importer import import_rows
from bot.store.db import get_sync_engine

WEBHOOK = "/webhooks/rest/webhook"
CLUB = "https://www.voetbalclub.example"


def add_org(url: str, org_id: str, origins: list[str], name: str = "Club") -> None:
    row = {
        "vacancy_id": f"{org_id}-v1",
        "organisation_id": org_id,
        "organisation_name": name,
        "title": "Trainer jeugd",
        "lat": 52.09,
        "lon": 5.12,
        "allowed_origins": ";".join(origins),
    }
    import_rows(url, [(2, row)])


def conversations(url: str) -> int:
    from sqlalchemy import MetaData, Table

    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            table = Table("conversations", MetaData(), autoload_with=conn)
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    add_org(settings.database_url, "club", [CLUB, "http://localhost:8080"])
    add_org(settings.database_url, "other", ["https://other.example"])
    app = create_app(
        settings.model_copy(
            update={"cors_origins": ["https://partner.example", "https://*.sportpark.example"]}
        )
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vk.test") as c,
    ):
        yield c


def body(org: str | None, message: str = "/start", sender: str = "s1") -> bytes:
    meta = {"org": org} if org else {}
    return json.dumps({"sender": sender, "message": message, "metadata": meta}).encode()


async def post(c: httpx.AsyncClient, origin: str | None, org: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if origin is not None:
        headers["origin"] = origin
    return await c.post(WEBHOOK, content=body(org), headers=headers)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://Example.NL", "https://example.nl"),
        ("https://example.nl/", "https://example.nl"),
        ("https://example.nl:443", "https://example.nl"),
        ("http://example.nl:80", "http://example.nl"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://*.example.nl", "https://*.example.nl"),
        ("null", None),
        ("", None),
        ("ftp://example.nl", None),
        ("https://example.nl/path", None),
        ("https://user:pw@example.nl", None),
        ("https://example.nl:99999", None),
    ],
)
def test_origins_are_normalised(raw: str, expected: str | None) -> None:
    assert normalise_origin(raw) == expected


def test_wildcards_match_subdomains_only() -> None:
    allowed = ["https://*.example.nl"]
    assert origin_matches("https://www.example.nl", allowed)
    assert origin_matches("https://a.b.example.nl", allowed)
    assert not origin_matches("https://example.nl", allowed)
    assert not origin_matches("https://evilexample.nl", allowed)
    assert not origin_matches("http://www.example.nl", allowed)
    assert not origin_matches("https://www.example.nl.evil.test", allowed)


async def test_allowed_origin_of_the_organisation_gets_an_answer_with_cors(
    client: httpx.AsyncClient,
) -> None:
    r = await post(client, CLUB, "club")
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == CLUB
    assert "Origin" in r.headers["vary"]
    assert r.json()[0]["text"]


async def test_a_subdomain_wildcard_and_a_port_are_honoured(client: httpx.AsyncClient) -> None:
    assert (await post(client, "https://www.sportpark.example", None)).status_code == 200
    assert (await post(client, "http://localhost:8080", "club")).status_code == 200
    assert (await post(client, "http://localhost:8081", "club")).status_code == 403


async def test_other_origins_get_403_without_cors_and_no_work_is_done(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    before = conversations(settings.database_url)
    for origin, org in [
        ("https://evil.example", "club"),  # not on the club's list
        ("https://other.example", "club"),  # allowed for another organisation only
        (CLUB, "other"),  # an allowed site claiming to be another organisation
        (CLUB, None),  # no organisation named
        ("https://evil.example", "nonexistent"),
        ("null", "club"),  # sandboxed frames, file: pages
    ]:
        r = await post(client, origin, org)
        assert r.status_code == 403, (origin, org)
        assert "access-control-allow-origin" not in r.headers
        assert r.json()["error"] == "origin_not_allowed"
    assert conversations(settings.database_url) == before


async def test_a_text_plain_simple_request_is_refused_too(client: httpx.AsyncClient) -> None:
    # A "simple" request skips the preflight: the server itself must refuse it.
    r = await client.post(
        WEBHOOK,
        content=body("club"),
        headers={"origin": "https://evil.example", "content-type": "text/plain"},
    )
    assert r.status_code == 403


async def test_global_and_own_origins_are_allowed_for_any_organisation(
    client: httpx.AsyncClient,
) -> None:
    for origin in ("https://partner.example", "http://vk.test"):
        r = await post(client, origin, None)
        assert r.status_code == 200, origin
        assert r.headers["access-control-allow-origin"] == origin


async def test_requests_without_origin_are_not_from_a_page_and_pass(
    client: httpx.AsyncClient,
) -> None:
    r = await post(client, None, "whatever")
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers


async def test_preflight(client: httpx.AsyncClient) -> None:
    async def preflight(origin: str, query: str = "") -> httpx.Response:
        return await client.options(
            WEBHOOK + query,
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )

    ok = await preflight(CLUB)
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == CLUB
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert ok.headers["access-control-allow-headers"].lower() == "content-type"
    assert "access-control-allow-credentials" not in ok.headers
    bad = await preflight("https://evil.example")
    assert bad.status_code == 403
    assert "access-control-allow-origin" not in bad.headers
    # With ?org= the preflight is decided for that organisation alone.
    assert (await preflight(CLUB, "?org=other")).status_code == 403
    assert (await preflight(CLUB, "?org=club")).status_code == 204


async def test_other_paths_get_cors_only_for_global_origins_and_are_never_refused(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/healthz", headers={"origin": "https://partner.example"})
    assert r.headers["access-control-allow-origin"] == "https://partner.example"
    r = await client.get("/healthz", headers={"origin": "https://evil.example"})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers

""" "Nog nodig?" end to end: the daily job e-mails a stale vacancy's contact (a real SMTP sink on
127.0.0.1), the link's page keeps it open with one tap, silence hides the other one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.clock import set_now
from bot.config import Settings
from bot.jobs.runner import run_due
from bot.orgs.importer import import_file
from bot.orgs.queries import Filters, list_vacancies
from tests.bot.leads.conftest import Sink, text_of
from tests.fakes.server import free_port

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    from aiosmtpd.controller import Controller

    found = Sink()
    port = free_port()
    controller = Controller(found, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield found, port
    finally:
        controller.stop()


def open_ids(url: str) -> set[str]:
    return {v["vacancy_id"] for v in list_vacancies(url, Filters(limit=0))}


async def test_nog_nodig_mail_link_keeps_the_vacancy_open(
    settings: Settings, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    from bot.app import create_app

    s = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": sink[1],
            "smtp_starttls": False,
            "public_url": "http://vk.test",
            "jobs_runner": False,
        }
    )
    rows = [
        {
            "vacancy_id": f"v{n}",
            "organisation_id": "o1",
            "organisation_name": "Buurthuis De Linde",
            "title": f"Koffie schenken {n}",
            "place": "Utrecht",
            "contact_email": f"vacature{n}@delinde.example.nl",
        }
        for n in (1, 2)
    ]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    try:
        set_now(T0)
        import_file(s.database_url, path)
    finally:
        set_now(None)

    asked_at = T0 + timedelta(weeks=s.vacancy_confirm_weeks, days=1)
    ran = await run_due(s, asked_at)
    assert any(r.kind == "vacancies.still_open" and r.outcome == "done" for r in ran)
    one, two = sink[0].to("vacature1@"), sink[0].to("vacature2@")
    assert len(one) == 1 and len(two) == 1
    assert "nog open" in str(one[0]["Subject"])
    url = re.search(r"http://vk\.test(/v/\S+)", text_of(one[0]))
    assert url is not None

    app = create_app(s)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://vk.test"
    ) as http:
        try:
            set_now(asked_at + timedelta(days=2))
            page = await http.get(url[1])
            assert page.status_code == 200 and "Koffie schenken 1" in page.text
            assert "<script" not in page.text  # one tap, no JavaScript
            tapped = await http.post(url[1], content=b"answer=open")
            assert tapped.status_code == 303
            done = await http.get(tapped.headers["location"])
            assert "blijft zichtbaar" in done.text
            assert (await http.get(url[1].replace("/v/", "/v/x"))).status_code == 404
        finally:
            set_now(None)

    # The grace period passes: the silent vacancy is hidden, the confirmed one stays, and
    # nobody is asked twice.
    await run_due(s, asked_at + timedelta(days=s.vacancy_confirm_grace_days))
    assert open_ids(s.database_url) == {"v1"}
    assert len(sink[0].messages) == 2

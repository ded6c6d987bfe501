"""An organisation's webhook: a receiver on 127.0.0.1 that fails twice gets the lead on the
third try, signed per Standard Webhooks (checked with the `standardwebhooks` package)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import clock
from bot.config import Settings
from bot.jobs.runner import backoff, run_due
from bot.leads.webhook import new_secret
from tests.bot.leads import seed
from tests.bot.leads.conftest import Sink
from tests.fakes.server import LocalServer


class Receiver:
    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.calls: list[tuple[dict[str, str], bytes]] = []

    async def endpoint(self, request: Request) -> Response:
        self.calls.append((dict(request.headers), await request.body()))
        if len(self.calls) <= self.fail_first:
            return Response("busy", status_code=503)
        return Response(status_code=204)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.endpoint, methods=["POST"])])


async def test_webhook_fails_twice_then_arrives_signed(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    from standardwebhooks.webhooks import Webhook

    receiver = Receiver(fail_first=2)
    server = await LocalServer(receiver.app()).start()
    secret = new_secret()
    url = mail_settings.database_url
    now = clock.wall().replace(microsecond=0)  # signatures are checked against real time
    try:
        await seed.seed_orgs(url, now, webhook=(f"{server.url}/hook", secret))
        lead_id, _ = await seed.add_lead(url, now)
        await run_due(mail_settings, now)
        await run_due(mail_settings, now + backoff(1))
        await run_due(mail_settings, now + backoff(1) + backoff(2))
        await run_due(mail_settings, now + timedelta(hours=1))
    finally:
        await server.stop()

    assert len(receiver.calls) == 3
    headers, body = receiver.calls[-1]
    assert len({h["webhook-id"] for h, _ in receiver.calls}) == 1  # one id to dedupe on
    verified: Any = Webhook(secret).verify(body, headers)
    assert verified["type"] == "lead.created"
    data = json.loads(body)["data"]
    assert data["lead_id"] == lead_id and data["vacancy_id"] == seed.VACANCY
    assert data["contact"] == {"name": "Sanne", "email": "sanne@example.org"}
    assert data["respond_url"].startswith("http://testserver/l/")
    assert len(smtp_sink[0].messages) == 1  # the e-mail went out once alongside


async def test_no_webhook_for_a_person_who_declined_sharing(
    mail_settings: Settings, smtp_sink: tuple[Sink, int]
) -> None:
    receiver = Receiver(fail_first=0)
    server = await LocalServer(receiver.app()).start()
    now = clock.wall()
    try:
        await seed.seed_orgs(
            mail_settings.database_url, now, webhook=(f"{server.url}/hook", new_secret())
        )
        await seed.add_lead(mail_settings.database_url, now, share="no")
        await run_due(mail_settings, now + timedelta(days=10))
    finally:
        await server.stop()
    assert receiver.calls == [] and smtp_sink[0].messages == []

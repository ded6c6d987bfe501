"""The HTTP server wakes once a second when idle (not ten times), keeps its Date header fresh
and stops at once when told to."""

from __future__ import annotations

import asyncio
import signal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import uvicorn

from bot.http_server import Server
from tests.live_server import free_port


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class Counting(Server):
    ticks = 0

    async def on_tick(self, counter: int) -> bool:
        self.ticks += 1
        return await super().on_tick(counter)


async def test_idle_server_wakes_once_a_second_and_stops_at_once() -> None:
    port = free_port()
    server = Counting(uvicorn.Config(hello, port=port, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    while not server.started:
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{port}/")
    assert answer.text == "ok"
    sent_at = parsedate_to_datetime(answer.headers["date"])

    before = server.ticks
    await asyncio.sleep(2.5)
    assert 1 <= server.ticks - before <= 4  # uvicorn's own loop: about 25

    async with httpx.AsyncClient() as client:
        later = await client.get(f"http://127.0.0.1:{port}/")
    assert (parsedate_to_datetime(later.headers["date"]) - sent_at).total_seconds() >= 2

    asked = loop.time()
    server.handle_exit(signal.SIGTERM, None)
    server._captured_signals.clear()  # uvicorn raises captured signals again as it ends
    await asyncio.wait_for(serving, 5)
    assert loop.time() - asked < 0.9  # not a whole heartbeat: the wait is woken

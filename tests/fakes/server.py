"""Serve an ASGI app with uvicorn on 127.0.0.1 inside the running event loop (tests)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """A real HTTP server on a loopback port; stop and start again on the same port."""

    def __init__(self, app: Any, port: int | None = None, lifespan: str = "off") -> None:
        self.app = app
        self.port = port or free_port()
        self.lifespan = lifespan
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> LocalServer:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(
            self.app,
            lifespan=self.lifespan,
            log_level="warning",
            http="h11",
            ws="none",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        for _ in range(500):
            if self._server.started:
                return self
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("server did not start")

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None

    async def __aenter__(self) -> LocalServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

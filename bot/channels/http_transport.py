"""An httpx transport on aiohttp's client: the platform SDKs keep speaking httpx, the bytes go
over aiohttp.

python-telegram-bot and pywa both send through an `httpx.AsyncClient`. Measured on the
Telegram channel, httpcore's connection pool (anyio streams, expiry checks per request) took
about 40 % of the server's CPU per inbound message, more than the whole turn; aiohttp's
client does the same HTTP/1.1 keep-alive work for a fraction of that. One transport (one
aiohttp session, one connection pool) per channel client.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import httpx


def _timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    t: dict[str, Any] = request.extensions.get("timeout") or {}
    return aiohttp.ClientTimeout(
        total=None,
        connect=t.get("pool"),
        sock_connect=t.get("connect"),
        sock_read=t.get("read"),
    )


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Performs httpx requests with an aiohttp session (created on first use, in its loop)."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(limit=self.limit, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, skip_auto_headers=("User-Agent",)
            )
            self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        try:
            async with self._current().request(
                request.method,
                str(request.url),
                data=body or None,
                headers=list(request.headers.multi_items()),
                timeout=_timeout(request),
                allow_redirects=False,
            ) as response:
                content = await response.read()
                headers = [
                    (k, v)
                    for k, v in response.headers.items()
                    # The body is already decoded: its transfer headers no longer apply.
                    if k.lower() not in ("content-encoding", "transfer-encoding", "content-length")
                ]
                return httpx.Response(
                    response.status, headers=headers, content=content, request=request
                )
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.NetworkError(str(exc), request=request) from exc

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

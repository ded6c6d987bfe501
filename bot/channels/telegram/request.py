"""python-telegram-bot's transport on aiohttp (PTB's own extension point, `BaseRequest`).

PTB keeps doing what it is good at (parameters, JSON, its typed errors: `RetryAfter`,
`BadRequest`, `Forbidden`...); the bytes travel over one aiohttp session with keep-alive. PTB's
default transport (httpx + httpcore) cost about three times as much CPU per Bot API call here.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}
_OK = b'{"ok":true'  # how the Bot API starts every successful answer


class AiohttpRequest(BaseRequest):
    """One aiohttp session per event loop; JSON bodies, multipart when there are files."""

    def __init__(self, connection_pool_size: int = 32, read_timeout: float | None = 15.0) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=5.0, sock_read=read_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    def _current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300),
                headers={"User-Agent": self.USER_AGENT},
            )
            self._loop = loop
        return self._session

    async def initialize(self) -> None:
        self._current()

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def post_json(self, url: str, payload: dict[str, Any]) -> tuple[int, Any]:
        """POST a JSON body; (status, the decoded answer or None). The outbox's path: the
        stored call is JSON already, and PTB's parameter objects and error parsing cost more
        CPU than the call itself. Network trouble raises aiohttp's or asyncio's errors."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        session = self._current()
        async with session.post(url, data=body, headers=_JSON, timeout=self._timeout) as response:
            raw = await response.read()
        if response.status == 200 and raw.startswith(_OK):
            return 200, {"ok": True}  # the result is not needed: a sent call is done
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        read = self._read_timeout if isinstance(read_timeout, type(self.DEFAULT_NONE)) else None
        if isinstance(read_timeout, int | float):
            read = float(read_timeout)
        connect = connect_timeout if isinstance(connect_timeout, int | float) else 5.0
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        body: Any = None
        headers: dict[str, str] = {}
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, part in request_data.multipart_data.items():
                    filename, content, mimetype = (*part, None)[:3] if len(part) >= 2 else part
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                body = form
            else:
                body = request_data.json_payload
                headers["Content-Type"] = "application/json"
        try:
            async with self._current().request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp: {exc!r}") from exc

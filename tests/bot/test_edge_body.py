"""Webhook bodies are read up to a limit: a declared length over it is refused before any byte
is read, and a stream that grows past it is refused as soon as it does."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from bot.edge import TooLarge, read_limited


def request(chunks: list[bytes], length: int | None = None) -> tuple[Request, list[int]]:
    """A request whose body arrives in `chunks`; the list counts the chunks read."""
    read: list[int] = []
    headers = [(b"content-length", str(length).encode())] if length is not None else []

    async def receive() -> dict[str, Any]:
        n = len(read)
        read.append(n)
        return {"type": "http.request", "body": chunks[n], "more_body": n + 1 < len(chunks)}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}
    return Request(scope, receive), read


async def test_within_the_limit() -> None:
    req, _ = request([b'{"a":', b" 1}"])
    assert await read_limited(req, 8) == b'{"a": 1}'


async def test_declared_length_over_the_limit_reads_nothing() -> None:
    req, read = request([b"x" * 10] * 100, length=1000)
    with pytest.raises(TooLarge):
        await read_limited(req, 100)
    assert read == []


async def test_a_stream_stops_being_read_once_over_the_limit() -> None:
    req, read = request([b"x" * 10] * 100)  # chunked: no declared length
    with pytest.raises(TooLarge):
        await read_limited(req, 35)
    assert len(read) == 4

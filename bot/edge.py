"""Input limits shared by every HTTP edge: what a body may look like before any work starts.

Hostile bodies used to reach recursive code (json.loads on 1 000 nested brackets raises
RecursionError), string code (a lone surrogate such as `"\\ud800"` breaks `.encode()` in the
identity hash, the NLU and the database driver; Postgres refuses NUL in text) and columns
that are shorter than what the channel accepted. This module is the one place that says
what is allowed:

- `loads(raw)`: JSON with a nesting bound checked by a flat scan of the raw bytes *before*
  the parser recurses, and NaN/Infinity refused;
- `check_strings(data)`: no lone surrogate, no NUL, anywhere in the parsed value;
- `clean_text(s)` / `clean_inbound(inbound)`: the same repaired instead of refused, for
  channels that must acknowledge what a platform signed (and as the pipeline's last guard);
- `META_LIMITS`: metadata lengths that match the database columns;
- `QueryGuard`: ASGI middleware refusing NUL, control characters and oversized values in any
  path or query string with one 400.

Each refusal is an `EdgeError` with a status, a machine-readable error and a human detail.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from dataclasses import replace
from itertools import accumulate
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Receive, Scope, Send

    from bot.pipeline import Inbound

MAX_DEPTH = 32
# Column sizes (bot/store/conversations.py): campaign, region and org are VARCHAR(64).
META_LIMITS: dict[str, int] = {"lang": 16, "campaign": 64, "org": 64, "region": 64}
MAX_QUERY_VALUE = 2048
MAX_PATH = 1024

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
# '[' and '{' -> +1, ']' and '}' -> -1 (0xFF read as a signed byte).
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
# What in a JSON text can decode to NUL or a surrogate: the escapes \u0000 and \uD800-\uDFFF, and
# surrogates encoded as UTF-8 (json.loads decodes bytes with "surrogatepass"). Valid pairs and
# an escaped backslash before "u0000" match too; they only cost the full check.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class EdgeError(ValueError):
    """Input refused at the edge: HTTP status, error code, a detail a developer can act on."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(status, error, detail)
        self.status = status
        self.error = error
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.error}: {self.detail}"

    def body(self) -> bytes:
        return json.dumps({"error": self.error, "detail": self.detail}).encode()


class TooLarge(Exception):
    """A request body over the endpoint's limit."""


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing anything over `limit` bytes without reading it all (a
    declared length is checked first, then the stream as it arrives)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def depth(raw: bytes) -> int:
    """The deepest bracket nesting of a JSON text, without recursion (strings skipped)."""
    if b"[" not in raw and b"{" not in raw:
        return 0
    brackets = _STRING.sub(b"", raw).translate(None, _BRACKETS)
    if not brackets:
        return 0
    steps = array("b", brackets.translate(_DEPTH_STEP))
    return max(0, max(accumulate(steps)))


def _no_constant(name: str) -> Any:
    raise EdgeError(400, "invalid_json", f"{name} is not a JSON number")


def _as_bytes(raw: bytes | str) -> bytes:
    return raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON after checking its nesting; raises EdgeError (400) on anything unusable."""
    data = _as_bytes(raw)
    if depth(data) > max_depth:
        raise EdgeError(400, "too_deep", f"the JSON is nested deeper than {max_depth} levels")
    try:
        return json.loads(data, parse_constant=_no_constant)
    except EdgeError:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise EdgeError(400, "invalid_json", "the body is not valid JSON") from None


def may_hold_bad_strings(raw: bytes | str) -> bool:
    """Whether the JSON text can decode to a string with NUL or a lone surrogate. When not,
    the walk over every string of the parsed value (`check_strings`, `clean`) is skipped:
    on a platform's update it cost more than the rest of reading it."""
    return _SUSPECT.search(_as_bytes(raw)) is not None


def loads_checked(raw: bytes | str, where: str = "body") -> Any:
    """`loads` + `check_strings`, the walk only when the raw text calls for it."""
    data = loads(raw)
    if may_hold_bad_strings(raw):
        check_strings(data, where)
    return data


def loads_clean(raw: bytes | str) -> Any:
    """`loads` + `clean`, the walk only when the raw text calls for it."""
    data = loads(raw)
    return clean(data) if may_hold_bad_strings(raw) else data


def bad_string(value: str) -> str | None:
    """Why a string cannot be stored ("nul" / "surrogate"), or None when it is fine."""
    if value.isascii():
        return "nul" if "\x00" in value else None
    found = _BAD_CHARS.search(value)
    if found is None:
        return None
    return "nul" if found.group() == "\x00" else "surrogate"


def check_strings(data: Any, where: str = "body") -> None:
    """Refuse (400) a parsed JSON value holding a lone surrogate or NUL in any key or string.

    Recursion is safe here: `loads` bounded the depth."""
    if isinstance(data, str):
        problem = bad_string(data)
        if problem == "nul":
            raise EdgeError(400, "invalid_text", f"{where} contains a NUL character")
        if problem == "surrogate":
            raise EdgeError(400, "invalid_text", f"{where} contains a lone UTF-16 surrogate")
    elif isinstance(data, dict):
        for key, value in data.items():
            check_strings(key, where)
            check_strings(value, f"{where}.{key}" if bad_string(key) is None else where)
    elif isinstance(data, list):
        for item in data:
            check_strings(item, where)


def clean_text(value: str) -> str:
    """The string with NUL removed and lone surrogates replaced by U+FFFD."""
    if bad_string(value) is None:
        return value
    return _BAD_CHARS.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def clean(data: Any) -> Any:
    """`clean_text` over a parsed JSON value (keys included)."""
    if isinstance(data, str):
        return clean_text(data)
    if isinstance(data, dict):
        return {clean_text(k): clean(v) for k, v in data.items()}
    if isinstance(data, list):
        return [clean(v) for v in data]
    return data


def check_meta(key: str, value: Any) -> str:
    """A metadata string within its column's size (EdgeError 422 otherwise)."""
    limit = META_LIMITS.get(key, 128)
    if not isinstance(value, str) or len(value) > limit:
        raise EdgeError(422, "invalid_metadata", f"'metadata.{key}' must be a string of ≤ {limit}")
    return value


def usable_location(lat: Any, lon: Any) -> tuple[float, float]:
    """A finite position on Earth, or ValueError (a platform's malformed location)."""
    if isinstance(lat, bool) or isinstance(lon, bool):
        raise ValueError("location is not numeric")
    flat, flon = float(lat), float(lon)
    if not (math.isfinite(flat) and math.isfinite(flon)):
        raise ValueError("location is not finite")
    if not (-90 <= flat <= 90 and -180 <= flon <= 180):
        raise ValueError("location is off the globe")
    return flat, flon


def clean_inbound(inbound: Inbound) -> Inbound:
    """The pipeline's last guard: the identity hash, the NLU and the database never see a
    lone surrogate or NUL, and a location is a finite position (ValueError otherwise)."""
    changes: dict[str, Any] = {}
    for name in ("sender", "text", "payload", "external_id"):
        value = getattr(inbound, name)
        if isinstance(value, str) and bad_string(value) is not None:
            changes[name] = clean_text(value)
    if any(isinstance(v, str) and bad_string(v) for v in inbound.meta.values()):
        changes["meta"] = {k: clean(v) for k, v in inbound.meta.items()}
    if inbound.location is not None:
        changes["location"] = usable_location(*inbound.location)
    return replace(inbound, **changes) if changes else inbound


# ---------------------------------------------------------------------- paths and queries


def check_target(path: str, query: bytes) -> None:
    """Refuse NUL and control characters, and oversized values, in a path or query string."""
    if len(path) > MAX_PATH:
        raise EdgeError(414, "uri_too_long", f"the path is longer than {MAX_PATH} characters")
    if _CONTROL.search(path) or bad_string(path):
        raise EdgeError(400, "invalid_path", "the path contains a control character")
    if not query:
        return
    for part in query.split(b"&"):
        key, _, value = part.partition(b"=")
        for piece in (key, value):
            decoded = unquote_to_bytes(piece.replace(b"+", b" "))
            if len(decoded) > MAX_QUERY_VALUE:
                raise EdgeError(
                    400, "invalid_query", f"a query value is longer than {MAX_QUERY_VALUE} bytes"
                )
            try:
                text = decoded.decode("utf-8")
            except UnicodeDecodeError:
                raise EdgeError(400, "invalid_query", "a query value is not UTF-8") from None
            if _CONTROL.search(text):
                raise EdgeError(400, "invalid_query", "a query value contains a control character")


class QueryGuard:
    """ASGI middleware: `check_target` on every HTTP request, one JSON 400 when it fails."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                check_target(str(scope.get("path", "")), bytes(scope.get("query_string", b"")))
            except EdgeError as exc:
                from bot import metrics

                metrics.rejected("http", exc.error)
                await send(
                    {
                        "type": "http.response.start",
                        "status": exc.status,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": exc.body()})
                return
        await self.app(scope, receive, send)


# ---------------------------------------------------------------------- platform updates


def ignored(channel: str, reason: str, problem: object = None) -> None:
    """A signed platform update we acknowledge without using: logged and counted
    (`vk_updates_ignored_total`). Telegram and Meta re-send every non-2xx answer, so a
    malformed update answered with 4xx or 5xx would come back forever."""
    import logging

    from bot import metrics

    logging.getLogger(__name__).info(
        "%s update ignored (%s)%s", channel, reason, f": {problem!r}"[:300] if problem else ""
    )
    metrics.ignored(channel, reason)

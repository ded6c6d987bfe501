"""Which web pages may talk to the server from a browser.

The REST endpoint answers browsers only from allowed origins: the server's own (the demo page),
`settings.cors_origins`, and the `allowed_origins` of the organisation the widget names in
`metadata.org`. Everything else gets a 403 and no CORS headers, so a page on another site can
neither read answers nor make the bot do work. Requests without an `Origin` header are not
from a browser page (curl, Rasa clients, other servers) and pass untouched.

The decision for a POST is made on the organisation in the body itself, the same value the
pipeline receives, so an allowed site cannot claim to be another organisation. A preflight
cannot carry a body, so it is answered for any origin that some organisation allows.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from bot.config import Settings

log = logging.getLogger(__name__)

REST_PATH = "/webhooks/rest/webhook"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ALLOW_HEADERS = "Content-Type"
_MAX_AGE = "600"

OrgOrigins = Callable[[str | None], Awaitable[Iterable[str]]]
"""Origins one organisation allows; called with None: the origins all organisations allow."""


def normalise_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case without a default port; None when not an origin.

    A `*.` before the host (`https://*.example.org`) is kept: it allows every subdomain.
    """
    value = value.strip().rstrip("/")
    if not value or value == "null":
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.path or parts.query:
        return None
    if parts.username or parts.password:
        return None
    wildcard = parts.netloc.startswith("*.")
    if wildcard:
        host = "*." + host.removeprefix("*.")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}"


def origin_matches(origin: str, allowed: Iterable[str]) -> bool:
    """Does the (normalised) origin match one of the allowed entries?"""
    scheme, _, netloc = origin.partition("://")
    for entry in allowed:
        pattern = normalise_origin(entry)
        if pattern is None:
            continue
        if pattern == origin:
            return True
        p_scheme, _, p_netloc = pattern.partition("://")
        if p_scheme == scheme and p_netloc.startswith("*."):
            suffix = p_netloc[1:]  # ".example.org[:port]"
            if netloc.endswith(suffix) and len(netloc) > len(suffix):
                return True
    return False


async def _no_org_origins(_org: str | None) -> list[str]:
    return []


class OriginPolicy:
    """Decides whether a browser origin may call the REST endpoint for an organisation.

    Organisation lists are cached for `ttl` seconds, so a busy widget costs no query per
    message and a changed allowlist is in force within that time.
    """

    def __init__(
        self, settings: Settings, org_origins: OrgOrigins | None = None, ttl: float = 30.0
    ) -> None:
        self.global_origins = tuple(settings.cors_origins)
        self.allow_any = "*" in self.global_origins
        own = normalise_origin(settings.public_url)
        self.own = own
        self._lookup = org_origins or _no_org_origins
        self._ttl = ttl
        self._cache: dict[str | None, tuple[float, tuple[str, ...]]] = {}

    async def org_origins(self, org: str | None) -> tuple[str, ...]:
        now = time.monotonic()
        hit = self._cache.get(org)
        if hit is not None and hit[0] > now:
            return hit[1]
        origins = tuple(await self._lookup(org))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[org] = (now + self._ttl, origins)
        return origins

    def is_own(self, origin: str, host: str | None) -> bool:
        """The server's own pages: the public URL, or the host the request was sent to."""
        if origin == self.own:
            return True
        if host:
            netloc = origin.partition("://")[2]
            own_host = normalise_origin(f"{origin.partition('://')[0]}://{host}")
            return own_host is not None and own_host.partition("://")[2] == netloc
        return False

    def allows_globally(self, origin: str, host: str | None) -> bool:
        return (
            self.allow_any
            or self.is_own(origin, host)
            or origin_matches(origin, self.global_origins)
        )

    async def allows(self, origin: str, host: str | None, org: str | None, any_org: bool) -> bool:
        """May `origin` call for `org`? With `any_org`, for whichever organisation allows it."""
        if self.allows_globally(origin, host):
            return True
        if any_org:
            return origin_matches(origin, await self.org_origins(None))
        if not org:
            return False
        return origin_matches(origin, await self.org_origins(org))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _org_in_body(body: bytes) -> str | None:
    from bot import edge

    try:  # depth-bounded: the REST endpoint gives the precise 4xx afterwards
        data = edge.loads(body)
    except edge.EdgeError:
        return None
    if isinstance(data, dict) and isinstance(data.get("metadata"), dict):
        org = data["metadata"].get("org")
        return org if isinstance(org, str) and org else None
    return None


class OriginAllowlist:
    """ASGI middleware: the allowlist above on the REST endpoint, plain CORS elsewhere.

    Other paths get CORS headers for the server's own and the globally allowed origins (what
    Starlette's CORSMiddleware would do with `settings.cors_origins`) and are never refused.
    """

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        policy: OriginPolicy | None = None,
        paths: tuple[str, ...] = (REST_PATH,),
        org_origins: OrgOrigins | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.policy = policy or OriginPolicy(settings, org_origins)
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_origin = _header(scope, b"origin")
        if raw_origin is None:
            await self.app(scope, receive, send)
            return
        origin = normalise_origin(raw_origin) or ""
        host = _header(scope, b"host")
        protected = scope["path"].rstrip("/") in self.paths
        preflight = scope["method"] == "OPTIONS" and (
            _header(scope, b"access-control-request-method") is not None
        )
        if preflight:
            if protected:
                org = (parse_qs(scope.get("query_string", b"").decode()).get("org") or [None])[0]
                ok = bool(origin) and await self.policy.allows(origin, host, org, org is None)
            else:
                ok = bool(origin) and self.policy.allows_globally(origin, host)
            await self._preflight(send, raw_origin if ok else None, protected)
            return
        if not protected:
            ok = bool(origin) and self.policy.allows_globally(origin, host)
            await self.app(scope, receive, _with_cors(send, raw_origin) if ok else send)
            return
        body, more, receive = await _buffer(receive, self.settings.max_body_bytes)
        org = None if more else _org_in_body(body)
        if not origin or not await self.policy.allows(origin, host, org, any_org=False):
            await _refuse(send)
            return
        await self.app(scope, receive, _with_cors(send, raw_origin))

    async def _preflight(self, send: Send, origin: str | None, protected: bool) -> None:
        if origin is None:
            await _refuse(send)
            return
        headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", b"POST, OPTIONS" if protected else b"GET, POST"),
            (b"access-control-allow-headers", _ALLOW_HEADERS.encode()),
            (b"access-control-max-age", _MAX_AGE.encode()),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def _refuse(send: Send) -> None:
    body = json.dumps(
        {"error": "origin_not_allowed", "detail": "this site may not use this chat"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"vary", b"Origin"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _with_cors(send: Send, origin: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (k, v)
                for k, v in message.get("headers", [])
                if k.lower() not in (b"access-control-allow-origin", b"vary")
            ]
            headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
            headers.append((b"vary", b"Origin"))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def _buffer(receive: Receive, limit: int) -> tuple[bytes, bool, Receive]:
    """Read the body up to `limit` bytes; returns it, whether more follows, and a receive
    that replays it to the app before passing on the rest."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more and size <= limit:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = bool(message.get("more_body", False))
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return body, more, replay

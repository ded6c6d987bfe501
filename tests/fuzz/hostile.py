"""Hostile HTTP requests for every edge of the app, drawn from a seeded random source.

Shared by the loopback fuzzer (tests/fuzz/http_fuzzer.py) and its CI test. Each request is a
plain `Req` (method, path, headers, body); bodies are bytes so that invalid UTF-8, JSON
escapes of lone surrogates and nesting far beyond any parser's recursion limit stay intact.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TG_SECRET = "fuzz-telegram-secret"
WA_SECRET = "fuzz-whatsapp-secret"
ADMIN_TOKEN = "fuzz-admin-token"

NASTY_STRINGS = [
    "\\ud800",
    "\\udfff",
    "a\\u0000b",
    "\\u0000",
    "\\ud83d",
    "\\udc00\\ud800",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "\\n\\r\\t",
    "🙂" * 40,
    "é" * 70,
]


@dataclass
class Req:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    kind: str = ""


def _deep(r: random.Random, inner: str = "1") -> str:
    n = r.choice([33, 64, 200, 1000, 3000])
    opener, closer = r.choice([("[", "]"), ('{"a":', "}"), ('[{"b":', "}]")])
    return opener * n + inner + closer * n


def _nasty(r: random.Random) -> str:
    """A JSON string literal (with its quotes) that is hostile in some way."""
    choice = r.random()
    if choice < 0.5:
        return '"' + r.choice(NASTY_STRINGS) + '"'
    if choice < 0.6:
        return '"' + "x" * r.choice([65, 129, 257, 3000, 20000]) + '"'
    if choice < 0.8:
        return r.choice(["1", "-1e308", "1e999", "NaN", "Infinity", "true", "null", "[]", "{}"])
    return json.dumps("".join(chr(r.randrange(32, 0x2FFF)) for _ in range(r.randrange(1, 30))))


def _rest_body(r: random.Random, senders: list[str]) -> bytes:
    sender = r.choice(senders) if r.random() < 0.5 else f"fz{r.randrange(10**9)}"
    roll = r.random()
    if roll < 0.12:
        return _deep(r).encode()
    if roll < 0.2:
        return ('{"sender":"' + sender + '","message":' + _deep(r, '"x"') + "}").encode()
    if roll < 0.25:
        return bytes(r.randrange(256) for _ in range(r.randrange(1, 200)))
    if roll < 0.3:
        return ('{"sender":' + _nasty(r) + ',"message":' + _nasty(r) + "}").encode()
    message = r.choice(
        ["/start", "/consent/yes", "hoi", "ja", "2", "Utrecht", "/restart", "help", "/a/x/y"]
    )
    meta: dict[str, str] = {}
    for key in r.sample(["org", "region", "campaign", "lang", "channel", "message_id"], 2):
        meta[key] = _nasty(r) if r.random() < 0.6 else json.dumps(r.choice(["nl", "en", "widget"]))
    meta_json = "{" + ",".join(f'"{k}":{v}' for k, v in meta.items()) + "}"
    if r.random() < 0.1:
        meta_json = '{"location":{"lat":' + _nasty(r) + ',"lon":' + _nasty(r) + "}}"
    msg = json.dumps(message) if r.random() < 0.6 else _nasty(r)
    return (
        '{"sender":"' + sender + '","message":' + msg + ',"metadata":' + meta_json + "}"
    ).encode()


def rest(r: random.Random, senders: list[str]) -> Req:
    headers = {"Content-Type": "application/json"}
    if r.random() < 0.25:
        headers["Origin"] = r.choice(
            ["https://evil.example", "null", "http://127.0.0.1:8000", "https://x.org%00", "*"]
        )
    return Req("POST", "/webhooks/rest/webhook", headers, _rest_body(r, senders), "rest")


def _tg_user(r: random.Random) -> dict[str, Any]:
    return {
        "id": r.randrange(1, 10**6),
        "is_bot": False,
        "first_name": "Fuzz",
        "language_code": "nl",
    }


def _tg_update(r: random.Random) -> str:
    uid = r.randrange(10**9)
    user = _tg_user(r)
    chat = {"id": user["id"], "type": r.choice(["private", "private", "group"])}
    base = {"message_id": r.randrange(10**6), "date": 1700000000, "chat": chat, "from": user}
    shapes: list[Callable[[], Any]] = [
        lambda: {"message": {**base, "text": r.choice(["/start", "hoi", "2", "/help"])}},
        lambda: {"message": {**base, "contact": {"latitude": "NaN", "phone_number": 1}}},
        lambda: {"poll": {"id": "1", "question": "?", "options": [], "total_voter_count": "x"}},
        lambda: {"inline_query": {"id": "1", "from": user, "query": "x", "offset": ""}},
        lambda: {"message": {**base, "photo": {"file_id": 1}}},
        lambda: {"message": {**base, "location": {"latitude": "NaN", "longitude": {}}}},
        lambda: {"message": {**base, "location": {"latitude": 1e308, "longitude": -1e308}}},
        lambda: {"message": "x"},
        lambda: {"message": {**base, "chat": None}},
        lambda: {"callback_query": {"id": "1", "from": user, "data": {"x": 1}}},
        lambda: {"callback_query": {"id": "1", "from": user, "message": {**base}, "data": "/a/x"}},
        lambda: {"edited_message": {**base, "text": 5}},
    ]
    body = json.dumps({"update_id": uid, **r.choice(shapes)()})
    if r.random() < 0.1:
        body = body[:-1] + ',"x":' + _deep(r) + "}"
    if r.random() < 0.1:
        body = body.replace('"Fuzz"', _nasty(r))
    return body


def telegram(r: random.Random) -> Req:
    secret = TG_SECRET if r.random() < 0.7 else r.choice(["", "wrong", TG_SECRET + "x"])
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = _tg_update(r).encode() if r.random() < 0.9 else _deep(r).encode()
    return Req("POST", "/telegram/webhook", headers, body, "telegram")


def _wa_body(r: random.Random) -> str:
    frm = str(31600000000 + r.randrange(10**6))
    message: dict[str, Any] = {
        "from": frm,
        "id": f"wamid.{r.randrange(10**12)}",
        "timestamp": "1700000000",
    }
    message.update(
        r.choice(
            [
                {"type": "text", "text": {"body": r.choice(["hoi", "ja", "2", "Utrecht"])}},
                {"type": "location", "location": {"latitude": "NaN", "longitude": 1e308}},
                {"type": "interactive", "interactive": {"type": "button_reply"}},
                {"type": "image", "image": "x"},
                {"type": 5},
                {"type": "text", "text": None},
            ]
        )
    )
    value: Any = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "31600000000", "phone_number_id": "123"},
        "contacts": [{"wa_id": frm, "profile": {"name": "Fuzz"}}],
        "messages": [message],
    }
    if r.random() < 0.2:
        value = r.choice([-1e308, "x", [], 0, None])
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    )


def whatsapp(r: random.Random) -> Req:
    body = (_wa_body(r) if r.random() < 0.9 else _deep(r)).encode()
    headers = {"Content-Type": "application/json"}
    roll = r.random()
    if roll < 0.7:
        digest = hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    elif roll < 0.85:
        headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    return Req("POST", "/whatsapp/webhook", headers, body, "whatsapp")


_PIECES = ["%00", "%ff", "..%2f..", "<script>", "a" * 300, "%ed%a0%80", "x", "KRACHT", "%0d%0a"]


def page(r: random.Random) -> Req:
    piece = r.choice(_PIECES)
    path = r.choice(
        [
            f"/c/{piece}",
            f"/cards/{piece}.png",
            "/widget.js",
            "/embed.js",
            f"/embed?org={piece}&lang={piece}",
            "/",
            f"/?lang={piece}",
            "/healthz",
            "/metrics",
            f"/whatsapp/webhook?hub.mode=subscribe&hub.verify_token={piece}&hub.challenge=1",
        ]
    )
    headers: dict[str, str] = {}
    if r.random() < 0.2:
        headers["Origin"] = r.choice(["https://evil.example", "null"])
    return Req("GET", path, headers, None, "page")


def admin(r: random.Random) -> Req:
    piece = r.choice(_PIECES)
    path = r.choice(
        [
            "/admin",
            f"/admin/report.json?channel={piece}",
            f"/admin/report.json?region={piece}&week={piece}",
            f"/admin/report.csv?by={piece}",
            f"/admin/campaigns/{piece}",
            f"/admin/orgs/{piece}",
            f"/admin/charts/{piece}.png",
            f"/admin/campaigns/{piece}/team.json",
            f"/admin/campaigns/{piece}/qr.svg",
            f"/admin/login?lang={piece}",
        ]
    )
    token = r.choice([ADMIN_TOKEN, ADMIN_TOKEN, "wrong", "x" * 500, "Bearer", ADMIN_TOKEN + "x"])
    headers = (
        {"Authorization": f"Bearer {token}"}
        if r.random() < 0.8
        else {"Cookie": f"vk_admin={token}"}
    )
    if r.random() < 0.1:
        return Req(
            "POST",
            "/admin/login",
            {"Content-Type": "application/x-www-form-urlencoded"},
            f"token={piece}".encode(),
            "admin",
        )
    return Req("GET", path, headers, None, "admin")


def preflight(r: random.Random) -> Req:
    origin = r.choice(["https://evil.example", "null", "https://a.b%00", "http://127.0.0.1:8000"])
    return Req(
        "OPTIONS",
        r.choice(["/webhooks/rest/webhook", "/webhooks/rest/webhook?org=%00", "/widget.js"]),
        {"Origin": origin, "Access-Control-Request-Method": "POST"},
        None,
        "cors",
    )


MIX: list[tuple[float, str]] = [
    (0.55, "rest"),
    (0.13, "telegram"),
    (0.1, "whatsapp"),
    (0.1, "page"),
    (0.08, "admin"),
    (0.04, "cors"),
]


def generate(seed: int, count: int) -> list[Req]:
    """`count` hostile requests, the same for the same seed."""
    r = random.Random(seed)
    senders = [f"flood-{i}" for i in range(5)]  # a few senders come back often (floods)
    out: list[Req] = []
    makers: dict[str, Callable[[], Req]] = {
        "rest": lambda: rest(r, senders),
        "telegram": lambda: telegram(r),
        "whatsapp": lambda: whatsapp(r),
        "page": lambda: page(r),
        "admin": lambda: admin(r),
        "cors": lambda: preflight(r),
    }
    weights = [w for w, _ in MIX]
    names = [n for _, n in MIX]
    for _ in range(count):
        out.append(makers[r.choices(names, weights)[0]]())
    return out

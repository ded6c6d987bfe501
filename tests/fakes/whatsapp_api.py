"""A fake WhatsApp Cloud API (Graph API) server and a simulated WhatsApp user.

`POST /{version}/{phone-number-id}/messages` checks the access token and the documented limits
of each message type (reply buttons: ≤ 3, titles ≤ 20, unique; lists: ≤ 10 rows, titles ≤ 24,
descriptions ≤ 72; interactive bodies ≤ 1024; text ≤ 4096) and answers like Meta does,
including the Graph error shape. The user produces signed webhook payloads in the shapes of
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

WABA_ID = "102290129340398"
DISPLAY_NUMBER = "15550783881"


def graph_error(code: int, message: str, details: str = "") -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details or message},
            "fbtrace_id": "A" + secrets.token_hex(8),
        }
    }


class _Invalid(Exception):
    pass


def _check(cond: bool, details: str) -> None:
    if not cond:
        raise _Invalid(details)


def validate(body: dict[str, Any]) -> None:
    """The Cloud API's limits for the message types the bot sends."""
    _check(body.get("messaging_product") == "whatsapp", "messaging_product must be whatsapp")
    _check(bool(body.get("to") or body.get("recipient")), "to or recipient is required")
    kind = body.get("type", "text")
    if kind == "text":
        text = body.get("text", {}).get("body", "")
        _check(0 < len(text) <= 4096, "text.body must be 1-4096 characters")
        return
    if kind == "image":
        _check(bool(body.get("image", {}).get("link") or body["image"].get("id")), "image")
        _check(len(body["image"].get("caption") or "") <= 1024, "caption too long")
        return
    if kind == "template":
        template = body.get("template") or {}
        _check(bool(template.get("name")), "template.name is required")
        _check(bool((template.get("language") or {}).get("code")), "template.language.code")
        for component in template.get("components") or []:
            if component.get("type") == "body":
                params = component.get("parameters") or []
                _check(all(p.get("type") == "text" and p.get("text") for p in params), "params")
            elif component.get("type") == "button":
                _check(component.get("sub_type") == "quick_reply", "only quick_reply buttons")
                _check(str(component.get("index", "")).isdigit(), "button index")
                payloads = [p.get("payload") for p in component.get("parameters") or []]
                _check(len(payloads) == 1 and 0 < len(payloads[0] or "") <= 1000, "payload")
            else:
                raise _Invalid(f"unsupported component {component.get('type')}")
        return
    _check(kind == "interactive", f"unsupported type {kind}")
    inter = body["interactive"]
    text = inter.get("body", {}).get("text", "")
    _check(0 < len(text) <= 1024, "interactive.body.text must be 1-1024 characters")
    if "header" in inter:
        _check(len(inter["header"].get("text", "")) <= 60, "header.text must be ≤ 60 characters")
    if "footer" in inter:
        _check(len(inter["footer"].get("text", "")) <= 60, "footer.text must be ≤ 60 characters")
    action = inter.get("action", {})
    if inter["type"] == "button":
        buttons = action.get("buttons", [])
        _check(1 <= len(buttons) <= 3, "1 to 3 buttons")
        titles = [b["reply"]["title"] for b in buttons]
        ids = [b["reply"]["id"] for b in buttons]
        _check(all(0 < len(t) <= 20 for t in titles), "button titles must be 1-20 characters")
        _check(len({t.lower() for t in titles}) == len(titles), "button titles must be unique")
        _check(len(set(ids)) == len(ids) and all(len(i) <= 256 for i in ids), "button ids")
    elif inter["type"] == "list":
        _check(0 < len(action.get("button", "")) <= 20, "list button must be 1-20 characters")
        sections = action.get("sections", [])
        rows = [r for s in sections for r in s["rows"]]
        _check(1 <= len(rows) <= 10, "a list holds 1 to 10 rows")
        if len(sections) > 1:
            _check(all(0 < len(s.get("title", "")) <= 24 for s in sections), "section titles")
        _check(all(0 < len(r["title"]) <= 24 for r in rows), "row titles must be 1-24 characters")
        _check(all(len(r.get("description", "")) <= 72 for r in rows), "row descriptions ≤ 72")
        ids = [r["id"] for r in rows]
        _check(len(set(ids)) == len(ids) and all(len(i) <= 200 for i in ids), "row ids")
    elif inter["type"] == "location_request_message":
        _check(action.get("name") == "send_location", "action.name must be send_location")
    else:
        raise _Invalid(f"unsupported interactive type {inter['type']}")


@dataclass
class FakeGraph:
    token: str = "EAAG-test-token"
    phone_id: str = "106540352242922"
    messages: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    closed_windows: set[str] = field(default_factory=set)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    # Approved message templates: name -> language codes (Meta answers 132001 for others).
    templates: dict[str, set[str]] = field(
        default_factory=lambda: {
            "vk_followup_contact": {"nl", "en"},
            "vk_followup_started": {"nl", "en"},
            "vk_organisation_message": {"nl", "en"},
        }
    )

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._by_recipient: dict[str, list[dict[str, Any]]] = {}
        self.app = Starlette(
            routes=[Route("/{version}/{phone_id}/messages", self._messages, methods=["POST"])]
        )

    def fail(self, status: int, times: int = 1, code: int | None = None) -> None:
        code = code or (130429 if status == 429 else 131000)
        body = graph_error(code, "Rate limit hit" if status == 429 else "Something went wrong")
        self.failures.extend([(status, body)] * times)

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        if to is None:
            return list(self.messages)
        return list(self._by_recipient.get(to, ()))

    async def _messages(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse(
                graph_error(190, "Invalid OAuth access token - Cannot parse access token"),
                status_code=401,
            )
        if request.path_params["phone_id"] != self.phone_id:
            return JSONResponse(graph_error(100, "Unsupported post request"), status_code=400)
        body = json.loads(await request.body())
        if self.failures:
            status, error = self.failures.pop(0)
            return JSONResponse(error, status_code=status)
        try:
            validate(body)
        except _Invalid as exc:
            self.rejected.append(body)
            return JSONResponse(
                graph_error(131009, "(#131009) Parameter value is not valid", str(exc)),
                status_code=400,
            )
        recipient = body.get("to") or body.get("recipient")
        if body.get("type") == "template":
            template = body["template"]
            if template["language"]["code"] not in self.templates.get(template["name"], set()):
                self.rejected.append(body)
                return JSONResponse(
                    graph_error(132001, "(#132001) Template name does not exist"),
                    status_code=404,
                )
        elif recipient in self.closed_windows:
            return JSONResponse(
                graph_error(
                    131047,
                    "Re-engagement message",
                    "Message failed to send because more than 24 hours have passed since the "
                    "customer last replied to this number.",
                ),
                status_code=400,
            )
        wamid = f"wamid.HBgL{next(self._ids):012d}FQIAERgS"
        body["_id"] = wamid
        self.messages.append(body)
        self._by_recipient.setdefault(str(recipient), []).append(body)
        contact = {"input": recipient}
        contact["user_id" if body.get("recipient") else "wa_id"] = recipient
        return JSONResponse(
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}
        )


@dataclass
class WhatsAppUser:
    """A WhatsApp user writing to the business number; payloads are signed with the secret."""

    fake: FakeGraph
    deliver: Callable[[bytes, dict[str, str]], Awaitable[Any]]
    app_secret: str
    wa_id: str | None = "31612345678"
    user_id: str | None = "NL.13491208655302741918"
    name: str = "Sanne"
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def key(self) -> str:
        return str(self.user_id or self.wa_id)

    def _contact(self) -> dict[str, Any]:
        contact: dict[str, Any] = {"profile": {"name": self.name}}
        if self.wa_id:
            contact["wa_id"] = self.wa_id
        if self.user_id:
            contact["user_id"] = self.user_id
        return contact

    def payload(self, message: dict[str, Any], timestamp: int | None = None) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "id": f"wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQz{next(self._ids):010d}AA=",
            "timestamp": str(timestamp or int(time.time())),
            **message,
        }
        if self.wa_id:
            msg["from"] = self.wa_id
        if self.user_id:
            msg["from_user_id"] = self.user_id
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA_ID,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": DISPLAY_NUMBER,
                                    "phone_number_id": self.fake.phone_id,
                                },
                                "contacts": [self._contact()],
                                "messages": [msg],
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }

    def sign(self, body: bytes) -> dict[str, str]:
        digest = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}

    async def post(self, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload).encode()
        return await self.deliver(body, self.sign(body))

    def text_payload(self, text: str, timestamp: int | None = None) -> dict[str, Any]:
        return self.payload({"type": "text", "text": {"body": text}}, timestamp)

    async def say(self, text: str, timestamp: int | None = None) -> Any:
        return await self.post(self.text_payload(text, timestamp))

    async def share_location(self, lat: float, lon: float) -> Any:
        return await self.post(
            self.payload({"type": "location", "location": {"latitude": lat, "longitude": lon}})
        )

    def last_interactive(self) -> dict[str, Any]:
        for m in reversed(self.fake.sent(self.key)):
            if m.get("type") == "interactive":
                return m
        raise AssertionError("no interactive message")

    def choices(self) -> list[dict[str, Any]]:
        """Buttons or list rows of the latest interactive message: [{"id", "title"}]."""
        inter = self.last_interactive()["interactive"]
        if inter["type"] == "button":
            return [b["reply"] for b in inter["action"]["buttons"]]
        if inter["type"] == "list":
            return [r for s in inter["action"]["sections"] for r in s["rows"]]
        return []

    def templates(self) -> list[dict[str, Any]]:
        """Template messages sent to this user, as the Cloud API got them."""
        return [m for m in self.fake.sent(self.key) if m.get("type") == "template"]

    async def tap_template(self, payload: str) -> Any:
        """Tap a quick-reply button of a template message (a `button` message comes back)."""
        for m in reversed(self.templates()):
            for component in m["template"].get("components") or []:
                if component.get("type") != "button":
                    continue
                if component["parameters"][0]["payload"] == payload:
                    context = {"from": DISPLAY_NUMBER, "id": m["_id"]}
                    button = {"text": payload.rsplit("/", 1)[-1], "payload": payload}
                    return await self.post(
                        self.payload({"context": context, "type": "button", "button": button})
                    )
        raise AssertionError(f"no template button {payload!r}")

    async def tap(self, choice_id: str) -> Any:
        """Tap a reply button or pick a list row with this id on the latest message having it."""
        for m in reversed(self.fake.sent(self.key)):
            inter = m.get("interactive") or {}
            context = {"from": DISPLAY_NUMBER, "id": m["_id"]}
            if inter.get("type") == "button":
                for b in inter["action"]["buttons"]:
                    if b["reply"]["id"] == choice_id:
                        reply = {"type": "button_reply", "button_reply": dict(b["reply"])}
                        return await self.post(
                            self.payload(
                                {"context": context, "type": "interactive", "interactive": reply}
                            )
                        )
            if inter.get("type") == "list":
                for s in inter["action"]["sections"]:
                    for r in s["rows"]:
                        if r["id"] == choice_id:
                            row = {k: r[k] for k in ("id", "title", "description") if k in r}
                            reply = {"type": "list_reply", "list_reply": row}
                            return await self.post(
                                self.payload(
                                    {
                                        "context": context,
                                        "type": "interactive",
                                        "interactive": reply,
                                    }
                                )
                            )
        raise AssertionError(f"no choice {choice_id!r} on screen")

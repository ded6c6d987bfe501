"""A fake Telegram Bot API server: `/bot<token>/<method>` with the real request and response
shapes (https://core.telegram.org/bots/api), plus a simulated user who sends updates.

Only what the bot uses is implemented: getMe, sendMessage, sendPhoto, editMessageText,
editMessageReplyMarkup, answerCallbackQuery, setWebhook, deleteWebhook, getWebhookInfo,
setMyCommands, getUpdates. Failures (429 with retry_after, 5xx) can be queued per method.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Vrijwilligerskracht",
    "username": "vrijwilligerskracht_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_TAG = re.compile(r"<[^>]+>")
_JSON_FIELDS = ("reply_markup", "allowed_updates", "commands", "scope", "link_preview_options")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token"
    calls: list[Call] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(100)
        self._by_chat: dict[int, list[dict[str, Any]]] = {}
        self._new_update = asyncio.Event()
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )

    # ------------------------------------------------------------------ test helpers

    def fail(
        self, method: str, status: int, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer the next `times` calls of `method` with an error."""
        body: dict[str, Any] = {"ok": False, "error_code": status}
        if status == 429:
            body["description"] = f"Too Many Requests: retry after {retry_after or 1}"
            body["parameters"] = {"retry_after": retry_after or 1}
        elif status >= 500:
            body["description"] = "Internal Server Error"
        else:
            body["description"] = "Bad Request: chat not found"
        self.failures.setdefault(method, []).extend([(status, body)] * times)

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (sendMessage/sendPhoto results), oldest first."""
        if chat_id is None:
            return list(self.messages.values())
        return list(self._by_chat.get(chat_id, ()))

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.status == 200]

    async def webhook_answer(self, answer: Any) -> None:
        """What Telegram does with a webhook's answer: a Bot API call in it is performed
        (https://core.telegram.org/bots/api#making-requests-when-getting-updates)."""
        if not isinstance(answer, dict) or "method" not in answer:
            return
        params = {k: v for k, v in answer.items() if k != "method"}
        handler = getattr(self, f"_m_{answer['method']}", None)
        if handler is None:
            return
        try:
            await handler(params)
        except _BadRequest:
            self.calls.append(Call(answer["method"], params, 400))
            return
        self.calls.append(Call(answer["method"], params))

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (polling mode)."""
        self.updates.append(update)
        self._new_update.set()

    # ------------------------------------------------------------------ the API

    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            ctype = request.headers.get("content-type", "")
            if ctype.startswith("application/json"):
                params.update(json.loads(await request.body() or b"{}"))
            else:  # application/x-www-form-urlencoded, as python-telegram-bot sends it
                params.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        for key in _JSON_FIELDS:
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        for key in ("chat_id", "message_id", "offset", "timeout", "limit"):
            if isinstance(params.get(key), str) and params[key].lstrip("-").isdigit():
                params[key] = int(params[key])
        return params

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        method = request.path_params["method"]
        params = await self._params(request)
        queued = self.failures.get(method)
        if queued:
            status, body = queued.pop(0)
            self.calls.append(Call(method, params, status))
            return JSONResponse(body, status_code=status)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return JSONResponse(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404
            )
        try:
            result = await handler(params)
        except _BadRequest as exc:
            self.calls.append(Call(method, params, 400))
            return JSONResponse(
                {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"},
                status_code=400,
            )
        self.calls.append(Call(method, params))
        return JSONResponse({"ok": True, "result": result})

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params["chat_id"]
        message = {
            "message_id": next(self._ids),
            "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": {"id": chat_id, "first_name": "Test", "type": "private"},
            "date": int(time.time()),
            **content,
        }
        markup = params.get("reply_markup")
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        # Kept for the simulated user: the reply keyboard is not part of a Message object.
        message["_reply_keyboard"] = markup if markup and "keyboard" in markup else None
        message["_html"] = content.get("text") or content.get("caption") or ""
        self.messages[message["message_id"]] = message
        self._by_chat.setdefault(chat_id, []).append(message)
        return {k: v for k, v in message.items() if not k.startswith("_")}

    @staticmethod
    def _plain(text: str) -> str:
        return html.unescape(_TAG.sub("", text))

    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        if not text.strip():
            raise _BadRequest("message text is empty")
        if len(self._plain(text)) > 4096:
            raise _BadRequest("message is too long")
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    raise _BadRequest("BUTTON_DATA_INVALID")
        msg = self._message(params, text=self._plain(text))
        self.messages[msg["message_id"]]["_html"] = text
        return msg

    async def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 800, "height": 800}]
        return self._message(params, photo=photo, caption=self._plain(params.get("caption", "")))

    def _edit_target(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self.messages.get(params.get("message_id", -1))
        if msg is None or msg["chat"]["id"] != params.get("chat_id"):
            raise _BadRequest("message to edit not found")
        return msg

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._edit_target(params)
        text = str(params.get("text", ""))
        markup = params.get("reply_markup")
        if self._plain(text) == msg.get("text") and markup == msg.get("reply_markup"):
            raise _BadRequest(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        msg["text"], msg["_html"] = self._plain(text), text
        if markup:
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)
        return {k: v for k, v in msg.items() if not k.startswith("_")}

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._edit_target(params)
        markup = params.get("reply_markup")
        if markup == msg.get("reply_markup"):
            raise _BadRequest("message is not modified")
        if markup:
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)
        return {k: v for k, v in msg.items() if not k.startswith("_")}

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise _BadRequest(
                "query is too old and response timeout expired or query ID is invalid"
            )
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://"):
            raise _BadRequest("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {k: v for k, v in params.items()}
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
            "max_connections": 40,
            "allowed_updates": self.webhook.get("allowed_updates", []),
        }

    async def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise _BadRequest("Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._new_update.clear()
            try:
                await asyncio.wait_for(
                    self._new_update.wait(), min(float(params.get("timeout") or 0), 1.0)
                )
            except TimeoutError:
                return []
        return list(self.updates)


class _BadRequest(Exception):
    pass


@dataclass
class TelegramUser:
    """A person in a private chat with the bot, producing real update payloads."""

    fake: FakeTelegram
    deliver: Callable[[dict[str, Any]], Awaitable[Any]]
    user_id: int = 424242
    first_name: str = "Sanne"
    language_code: str | None = "nl"
    _update_ids: Any = field(default_factory=lambda: itertools.count(880000))
    _message_ids: Any = field(default_factory=lambda: itertools.count(1))

    def _from(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _chat(self) -> dict[str, Any]:
        return {"id": self.user_id, "first_name": self.first_name, "type": "private"}

    def message_update(self, **content: Any) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": next(self._message_ids),
                "from": self._from(),
                "chat": self._chat(),
                "date": int(time.time()),
                **content,
            },
        }

    def text_update(self, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
        return self.message_update(**content)

    def location_update(self, lat: float, lon: float) -> dict[str, Any]:
        return self.message_update(location={"latitude": lat, "longitude": lon})

    def callback_update(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        shown = {k: v for k, v in message.items() if not k.startswith("_")}
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(4382000000000000000 + next(self._update_ids)),
                "from": self._from(),
                "message": shown,
                "chat_instance": "-8241962873428710000",
                "data": data,
            },
        }

    async def say(self, text: str) -> Any:
        return await self.deliver(self.text_update(text))

    async def share_location(self, lat: float, lon: float) -> Any:
        return await self.deliver(self.location_update(lat, lon))

    def last_keyboard_message(self) -> dict[str, Any]:
        for msg in reversed(self.fake.sent(self.user_id)):
            if msg.get("reply_markup", {}).get("inline_keyboard"):
                return msg
        raise AssertionError("no message with buttons")

    def buttons(self) -> list[dict[str, Any]]:
        msg = self.last_keyboard_message()
        return [b for row in msg["reply_markup"]["inline_keyboard"] for b in row]

    async def tap(self, data: str) -> Any:
        """Tap the button with this callback_data on the latest message that has it."""
        for msg in reversed(self.fake.sent(self.user_id)):
            for row in msg.get("reply_markup", {}).get("inline_keyboard", []):
                if any(b.get("callback_data") == data for b in row):
                    return await self.deliver(self.callback_update(msg, data))
        raise AssertionError(f"no button {data!r} on screen")

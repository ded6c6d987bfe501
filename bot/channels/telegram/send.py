"""Outbound Telegram: the python-telegram-bot client and the outbox delivery of stored calls.

The bot talks to `VK_TELEGRAM_API_URL` (the public Bot API, a self-hosted Bot API server, or
a local fake in tests) through AIORateLimiter: 30 messages/s for the bot, and in each private
chat about one per second with a short burst allowed (one quiz turn can be 5 messages).
A `RetryAfter` from Telegram reschedules the call in the outbox after exactly that many
seconds; timeouts and 5xx retry with backoff; a blocked bot or a bad request is given up.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.channels.outbox import RetryLater, Undeliverable

if TYPE_CHECKING:
    from telegram.ext import ExtBot

    from bot.config import Settings

# Edits that found nothing to change are done, not failed.
_HARMLESS = (
    "message is not modified",
    "message to edit not found",
    "message can't be edited",
    "query is too old",
)


def _rate_limiter(per_chat_burst: int, per_chat_period: float) -> Any:
    from aiolimiter import AsyncLimiter
    from telegram.ext import AIORateLimiter

    class ChatRateLimiter(AIORateLimiter):
        """AIORateLimiter plus a per-private-chat bucket (AIORateLimiter limits groups only)."""

        def __init__(self) -> None:
            super().__init__(max_retries=0)
            self.per_chat_burst = per_chat_burst
            self.per_chat_period = per_chat_period
            self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()

        def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
            limiter = self._chats.pop(chat_id, None) or AsyncLimiter(
                self.per_chat_burst, self.per_chat_period
            )
            self._chats[chat_id] = limiter
            while len(self._chats) > 10_000:
                self._chats.popitem(last=False)
            return limiter

        async def process_request(
            self,
            callback: Any,
            args: Any,
            kwargs: dict[str, Any],
            endpoint: str,
            data: dict[str, Any],
            rate_limit_args: int | None,
        ) -> Any:
            chat_id = data.get("chat_id")
            with contextlib.suppress(TypeError, ValueError):
                chat_id = int(chat_id)  # type: ignore[arg-type]
            if isinstance(chat_id, int) and chat_id > 0 and endpoint != "answerCallbackQuery":
                async with self._chat_limiter(chat_id):
                    return await super().process_request(
                        callback, args, kwargs, endpoint, data, rate_limit_args
                    )
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )

    return ChatRateLimiter()


def build_bot(
    settings: Settings, per_chat_burst: int = 5, per_chat_period: float = 5.0
) -> ExtBot[None]:
    """The bot client for `VK_TELEGRAM_TOKEN` at `VK_TELEGRAM_API_URL`.

    `per_chat_burst` messages per `per_chat_period` seconds in one chat (default: bursts of
    5, one per second on average).
    """
    from telegram.ext import ExtBot
    from telegram.request import HTTPXRequest

    if not settings.telegram_token:
        raise ValueError("VK_TELEGRAM_TOKEN is not set")
    root = settings.telegram_api_url.rstrip("/")
    return ExtBot(
        token=settings.telegram_token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=HTTPXRequest(connection_pool_size=32, read_timeout=15.0),
        get_updates_request=HTTPXRequest(read_timeout=40.0),
        rate_limiter=_rate_limiter(per_chat_burst, per_chat_period),
    )


def _markup(data: dict[str, Any] | None) -> Any:
    from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

    if not data:
        return None
    if "inline_keyboard" in data:
        return InlineKeyboardMarkup.de_json(data, None)
    if "keyboard" in data:
        return ReplyKeyboardMarkup.de_json(data, None)
    if data.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    return None


def retry_after_seconds(exc: Exception) -> float:
    value = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value or 1)


class TelegramDelivery:
    """Performs stored Bot API calls (see `telegram_render`) with python-telegram-bot."""

    channel = "telegram"

    def __init__(self, bot: ExtBot[None]) -> None:
        self.bot = bot

    async def deliver(self, chat_id: str, op: dict[str, Any]) -> None:
        from telegram.error import (
            BadRequest,
            ChatMigrated,
            Forbidden,
            InvalidToken,
            NetworkError,
            RetryAfter,
            TelegramError,
        )

        method = op["method"]
        kwargs = dict(op["kwargs"])
        if "reply_markup" in kwargs:
            kwargs["reply_markup"] = _markup(kwargs["reply_markup"])
        if method not in (
            "send_message",
            "send_photo",
            "edit_message_text",
            "edit_message_reply_markup",
        ):
            raise Undeliverable(f"unknown Telegram call {method!r}")
        try:
            await getattr(self.bot, method)(**kwargs)
        except RetryAfter as exc:
            raise RetryLater("429 retry after", retry_after_seconds(exc)) from exc
        except BadRequest as exc:
            if any(h in exc.message.lower() for h in _HARMLESS):
                return
            raise Undeliverable(f"bad request: {exc.message}") from exc
        except Forbidden as exc:
            raise Undeliverable(f"forbidden: {exc.message}") from exc
        except ChatMigrated as exc:
            raise Undeliverable(f"chat migrated to {exc.new_chat_id}") from exc
        except InvalidToken as exc:
            # A configuration problem: keep the messages until the token is fixed.
            raise RetryLater(f"token rejected: {exc.message}", 60.0) from exc
        except NetworkError as exc:  # timeouts, 5xx, connection refused
            raise RetryLater(f"network: {exc.message}") from exc
        except TelegramError as exc:
            raise RetryLater(f"telegram: {exc.message}") from exc

"""The pywa client for the WhatsApp Cloud API, and the outbox delivery of stored messages.

pywa always aims at graph.facebook.com but accepts our own httpx client: a request hook on
that client sends the same requests to `VK_WHATSAPP_API_URL` instead (a local fake in tests),
keeping the path `/{version}/{phone-number-id}/messages`.

pywa 4.5 builds the sender of every incoming message with `data["user_id"]` and so drops the
classic payloads that carry only `wa_id` (KeyError). `TolerantUser` reads the business-scoped
`user_id` when it is there and falls back to `wa_id`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from bot.channels.outbox import RetryLater, Undeliverable
from bot.store.outbox import TEMPLATE_NEEDED

if TYPE_CHECKING:
    from pywa_async import WhatsApp

    from bot.config import Settings

GRAPH_HOST = "graph.facebook.com"
# Cloud API error codes: retry later / the 24-hour window is closed.
_RATE_LIMITED = {4, 80007, 130429, 131048, 131056, 133016}
_TRANSIENT = {1, 2, 131000, 131016, 131026}
_WINDOW_CLOSED = {131047}


def _redirect_hook(root: str) -> Any:
    target = httpx.URL(root.rstrip("/"))

    async def redirect(request: httpx.Request) -> None:
        if request.url.host != GRAPH_HOST:
            return
        request.url = request.url.copy_with(
            scheme=target.scheme,
            host=target.host,
            port=target.port,
            path=target.path.rstrip("/") + request.url.path,
        )
        request.headers["Host"] = request.url.netloc.decode("ascii")

    return redirect


def graph_session(settings: Settings) -> httpx.AsyncClient:
    """The httpx client pywa uses; pointed at VK_WHATSAPP_API_URL when that is not Meta's."""
    hooks: dict[str, list[Any]] = {}
    if httpx.URL(settings.whatsapp_api_url).host != GRAPH_HOST:
        hooks["request"] = [_redirect_hook(settings.whatsapp_api_url)]
    from bot.channels.http_transport import AiohttpTransport

    return httpx.AsyncClient(
        timeout=httpx.Timeout(15.0, connect=5.0), event_hooks=hooks, transport=AiohttpTransport()
    )


def build_client(settings: Settings, session: httpx.AsyncClient | None = None) -> WhatsApp:
    """The pywa client: sends via the Graph API, checks the webhook's verify token and HMAC."""
    from pywa_async import WhatsApp
    from pywa_async.types import User

    class TolerantUser(User):
        """The sender of a message, keyed by `user_id` (BSUID) with `wa_id` as fallback."""

        @classmethod
        def from_contact(cls, data: dict[str, Any], client: Any) -> TolerantUser:
            if "user_id" not in data:
                data = {**data, "user_id": None}
            return super().from_contact(data, client)  # type: ignore[return-value]

    class Client(WhatsApp):
        _usr_cls = TolerantUser

    version = settings.whatsapp_api_version.lstrip("vV")
    return Client(
        phone_id=settings.whatsapp_phone_id,
        token=settings.whatsapp_token,
        session=session or graph_session(settings),
        api_version=version,
        verify_token=settings.whatsapp_verify_token,
        app_secret=settings.whatsapp_app_secret,
        validate_updates=bool(settings.whatsapp_app_secret),
        skip_duplicate_updates=False,  # the pipeline deduplicates by wamid, across processes
        filter_updates=True,
    )


class WhatsAppDelivery:
    """Sends stored messages (see `whatsapp_render`) through pywa."""

    channel = "whatsapp"

    def __init__(self, client: WhatsApp) -> None:
        self.client = client

    async def deliver(self, chat_id: str, op: dict[str, Any]) -> None:
        from pywa.errors import WhatsAppError

        try:
            await self._send(chat_id, op)
        except WhatsAppError as exc:
            code, status = exc.code, exc.status_code or 0
            if code in _WINDOW_CLOSED:
                raise Undeliverable(f"{code}: {exc.message}", TEMPLATE_NEEDED) from exc
            if code in _RATE_LIMITED or status == 429:
                raise RetryLater(f"rate limited ({code})") from exc
            if code in _TRANSIENT or status >= 500 or exc.is_transient:
                raise RetryLater(f"temporary error ({code}, HTTP {status})") from exc
            raise Undeliverable(f"{code}: {exc.message}") from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise RetryLater(f"network: {type(exc).__name__}") from exc
        except ValueError as exc:  # an error body that is not Graph JSON (proxy 5xx pages)
            raise RetryLater(f"unreadable answer: {exc}") from exc

    async def _send(self, to: str, op: dict[str, Any]) -> None:
        from pywa_async.types import Button, Section, SectionList, SectionRow

        wa = self.client
        kind = op["type"]
        if kind == "text":
            await wa.send_message(to=to, text=op["text"])
        elif kind == "buttons":
            await wa.send_message(
                to=to,
                text=op["text"],
                header=op.get("header"),
                footer=op.get("footer"),
                buttons=[Button(title=b["title"], callback_data=b["id"]) for b in op["buttons"]],
            )
        elif kind == "list":
            sections = [
                Section(
                    title=s["title"],
                    rows=[
                        SectionRow(
                            title=r["title"],
                            callback_data=r["id"],
                            description=r.get("description"),
                        )
                        for r in s["rows"]
                    ],
                )
                for s in op["sections"]
            ]
            await wa.send_message(
                to=to,
                text=op["text"],
                header=op.get("header"),
                footer=op.get("footer"),
                buttons=SectionList(button_title=op["button"], sections=sections),
            )
        elif kind == "location_request":
            await wa.request_location(to=to, text=op["text"])
        elif kind == "image":
            await wa.send_image(to=to, image=op["url"], caption=op.get("caption"))
        else:
            raise Undeliverable(f"unknown WhatsApp message type {kind!r}")

"""Property tests (hypothesis, fixed seed): the edge's JSON guard is exact, REST validation only
ever refuses with a 4xx, and no body reaching the pipeline or a signed webhook gives a 5xx.

Hypothesis runs synchronously; each test keeps one event loop of its own for the app (the
database engines are disposed on that loop at the end)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot import edge
from bot.channels.rest import BadRequest, parse_body
from bot.config import Settings
from tests.fakes.harness import TG_SECRET, WA_SECRET, telegram_stack, whatsapp_stack

T = TypeVar("T")
FIXED = hsettings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=40,
)
hostile_text = st.text(
    alphabet=st.characters(codec=None, blacklist_categories=()),  # surrogates and NUL included
    max_size=80,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def _escaped(value: Any) -> bytes:
    return json.dumps(value).encode()  # ensure_ascii: lone surrogates become \\uXXXX escapes


@FIXED
@given(json_values)
def test_depth_scan_matches_the_real_nesting(value: Any) -> None:
    assert edge.depth(_escaped(value)) == _depth(value)
    assert edge.depth(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")) == (
        _depth(value)
    )


@FIXED
@given(st.binary(max_size=300))
def test_loads_refuses_only_with_an_edge_error(raw: bytes) -> None:
    try:
        edge.loads(raw)
    except edge.EdgeError as exc:
        assert exc.status == 400


@FIXED
@given(st.integers(min_value=0, max_value=3000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_refused_before_parsing(n: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    raw = (opener * n + "1" + closer * n).encode()
    if n > edge.MAX_DEPTH:
        with pytest.raises(edge.EdgeError):
            edge.loads(raw)
    else:
        assert edge.loads(raw) is not None


@FIXED
@given(hostile_text)
def test_clean_text_is_always_encodable(text: str) -> None:
    cleaned = edge.clean_text(text)
    cleaned.encode("utf-8")
    assert "\x00" not in cleaned
    assert edge.bad_string(cleaned) is None


hostile_json = st.recursive(
    st.none() | st.integers() | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=20,
)


def _has_bad_string(value: Any) -> bool:
    if isinstance(value, str):
        return edge.bad_string(value) is not None
    if isinstance(value, list):
        return any(_has_bad_string(v) for v in value)
    if isinstance(value, dict):
        return any(_has_bad_string(k) or _has_bad_string(v) for k, v in value.items())
    return False


@FIXED
@given(hostile_json, st.booleans())
def test_the_raw_prefilter_never_lets_a_bad_string_through(value: Any, ascii_only: bool) -> None:
    """Skipping the walk over every string is safe: whatever JSON text decodes to a NUL or a
    lone surrogate (escaped, or raw UTF-8 surrogates) is flagged, and the checked and cleaned
    readers then refuse or repair it like the full walk does."""
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    parsed = edge.loads(raw)
    if _has_bad_string(parsed):
        assert edge.may_hold_bad_strings(raw)
        with pytest.raises(edge.EdgeError):
            edge.loads_checked(raw)
    else:
        assert edge.loads_checked(raw) == parsed
    assert not _has_bad_string(edge.loads_clean(raw))
    assert edge.loads_clean(raw) == edge.clean(parsed)


def test_the_raw_prefilter_passes_plain_updates() -> None:
    update = {"update_id": 7, "message": {"text": "Hallo 👋 café", "chat": {"id": 1}}}
    for ascii_only in (True, False):
        raw = json.dumps(update, ensure_ascii=ascii_only).encode()
        assert edge.may_hold_bad_strings(raw) == ascii_only  # 👋 is a pair when escaped
    assert edge.may_hold_bad_strings(b'{"text": "a\\u0000"}')
    assert edge.may_hold_bad_strings('{"text": "a\ud800"}'.encode("utf-8", "surrogatepass"))


rest_bodies = st.fixed_dictionaries(
    {},
    optional={
        "sender": st.one_of(hostile_text, json_values),
        "message": st.one_of(hostile_text, json_values),
        "metadata": st.one_of(
            json_values,
            st.dictionaries(
                st.sampled_from(["lang", "org", "region", "campaign", "start", "location"]),
                st.one_of(hostile_text, json_values),
            ),
        ),
    },
)


@FIXED
@given(rest_bodies)
def test_rest_validation_refuses_with_4xx_or_gives_clean_input(body: dict[str, Any]) -> None:
    small = Settings(database_url="sqlite+aiosqlite://", max_message_chars=200)
    try:
        inbound = parse_body(_escaped(body), small)
    except BadRequest as exc:
        assert 400 <= exc.status < 500
        return
    for value in (inbound.sender, inbound.text, inbound.payload, *inbound.meta.values()):
        if isinstance(value, str):
            value.encode("utf-8")
            assert "\x00" not in value
            assert len(value) <= max(256, edge.META_LIMITS["org"]) or value is inbound.text


class Loop:
    """One event loop for a whole hypothesis run, holding an async context open."""

    def __init__(self, context: AbstractAsyncContextManager[T]) -> None:  # type: ignore[type-var]
        self.loop = asyncio.new_event_loop()
        self.context = context
        self.value = self.loop.run_until_complete(context.__aenter__())

    def run(self, make: Callable[[], Any]) -> Any:
        return self.loop.run_until_complete(make())

    def close(self) -> None:
        from bot.store.db import dispose_all

        try:
            self.loop.run_until_complete(self.context.__aexit__(None, None, None))
            self.loop.run_until_complete(dispose_all())
        finally:
            self.loop.close()


async def _rest_client(s: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from bot.app import create_app

    app = create_app(s)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client
    await app.state.pipeline.close()


def test_pipeline_never_answers_5xx(settings: Settings) -> None:
    from contextlib import asynccontextmanager

    held = Loop(asynccontextmanager(_rest_client)(settings))
    client: httpx.AsyncClient = held.value
    try:

        @settings_for_io
        @given(rest_bodies, st.sampled_from(["s1", "s2", "s3"]))
        def check(body: dict[str, Any], sender: str) -> None:
            if isinstance(body.get("metadata"), dict):
                body["metadata"].pop("location", None)
            if "sender" in body and not isinstance(body["sender"], str):
                body["sender"] = sender
            response = held.run(
                lambda: client.post("/webhooks/rest/webhook", content=_escaped(body))
            )
            assert response.status_code < 500, (body, response.text)

        check()
    finally:
        held.close()


settings_for_io = hsettings(FIXED, max_examples=120)

telegram_updates = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=1, max_value=2**31)},
    optional={
        "message": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "message_id": st.integers(min_value=1, max_value=10**6),
                    "date": st.integers(min_value=0, max_value=2**31),
                    "chat": st.fixed_dictionaries(
                        {"id": st.integers(1, 10**6), "type": st.sampled_from(["private", "group"])}
                    ),
                    "from": st.fixed_dictionaries(
                        {
                            "id": st.integers(1, 10**6),
                            "is_bot": st.booleans(),
                            "first_name": hostile_text,
                        }
                    ),
                },
                optional={
                    "text": st.one_of(hostile_text, json_values),
                    "location": st.dictionaries(
                        st.sampled_from(["latitude", "longitude"]), json_values
                    ),
                    "contact": json_values,
                    "photo": json_values,
                },
            ),
        ),
        "callback_query": json_values,
        "poll": json_values,
        "inline_query": json_values,
    },
)


def test_signed_telegram_updates_are_always_acknowledged(settings: Settings) -> None:
    held = Loop(telegram_stack(settings))
    stack = held.value
    try:

        @hsettings(settings_for_io, max_examples=80)
        @given(telegram_updates)
        def check(update: dict[str, Any]) -> None:
            response = held.run(
                lambda: stack.http.post(
                    "/telegram/webhook",
                    content=_escaped(update),
                    headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
                )
            )
            assert response.status_code == 200, (update, response.text)

        check()
    finally:
        held.close()


whatsapp_values = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "messaging_product": st.just("whatsapp"),
            "metadata": st.just({"display_phone_number": "31600000000", "phone_number_id": "1"}),
            "messages": st.lists(
                st.fixed_dictionaries(
                    {
                        "from": st.sampled_from(["31611111111", "31622222222"]),
                        "id": st.text(min_size=1, max_size=10),
                        "timestamp": st.sampled_from(["1700000000", "x", "-1e308"]),
                        "type": st.sampled_from(["text", "location", "image", "interactive", "x"]),
                    },
                    optional={
                        "text": json_values,
                        "location": json_values,
                        "image": json_values,
                        "interactive": json_values,
                    },
                ),
                max_size=2,
            ),
        },
        optional={"contacts": json_values},
    ),
)


def test_signed_whatsapp_bodies_are_always_acknowledged(settings: Settings) -> None:
    held = Loop(whatsapp_stack(settings))
    stack = held.value
    try:

        @hsettings(settings_for_io, max_examples=80)
        @given(whatsapp_values)
        def check(value: Any) -> None:
            body = _escaped(
                {
                    "object": "whatsapp_business_account",
                    "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
                }
            )
            digest = hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {"X-Hub-Signature-256": f"sha256={digest}"}
            response = held.run(lambda: stack.post(body, headers))
            assert response.status_code == 200, (value, response.text)

        check()
    finally:
        held.close()

"""The payload codec: every wire event round-trips, and today's payload strings stay valid."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from quiz.protocol import (
    Answer,
    Command,
    Done,
    Event,
    FreeText,
    Info,
    Language,
    Start,
    WantToHelp,
    decode,
    decode_payload,
    encode,
)

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=24)
texts = (
    st.text(min_size=1, max_size=60)
    .map(str.strip)
    .filter(lambda t: bool(t) and not t.startswith("/"))
)

wire_events: st.SearchStrategy[Event] = st.one_of(
    st.just(Start()),
    st.sampled_from(list(Command)),
    st.builds(Language, st.none() | ids),
    st.builds(Done, ids),
    st.builds(Info, ids),
    st.builds(WantToHelp, ids),
    st.builds(lambda q, o: Answer(q, (o,)), ids, ids),
    st.builds(FreeText, texts),
)


@given(wire_events)
def test_encode_then_decode_gives_the_event_back(event: Event) -> None:
    assert decode(encode(event)) == event


@given(st.text(max_size=80))
def test_decode_never_raises_and_keeps_what_it_does_not_know_as_text(raw: str) -> None:
    event = decode(raw)
    if decode_payload(raw) is None:
        assert event == FreeText(raw.strip())


def test_payload_strings_on_the_wire_are_unchanged() -> None:
    wire = {
        "/start": Start(),
        "/begin": Start(),
        "/back": Command.BACK,
        "/skip": Command.SKIP,
        "/restart": Command.RESTART,
        "/help": Command.HELP,
        "/why": Command.WHY,
        "/stop": Command.STOP,
        "/resume": Command.RESUME,
        "/my_data": Command.MY_DATA,
        "/delete_data": Command.DELETE_DATA,
        "/more": Command.MORE,
        "/consent/yes": Command.CONSENT_YES,
        "/consent/no": Command.CONSENT_NO,
        "/consent/more": Command.CONSENT_MORE,
        "/lang/en": Language("en"),
        "/done/days": Done("days"),
        "/info/v1": Info("v1"),
        "/help/v1": WantToHelp("v1"),
        "/a/motive/values": Answer("motive", ("values",)),
    }
    for payload, event in wire.items():
        assert decode(payload) == event
        assert decode(f"  {payload} ") == event
        if payload != "/begin":
            assert encode(event) == payload


def test_unknown_payloads_are_not_events() -> None:
    for raw in ("/", "/a//", "/a/q", "/nope", "/help/", "/info/x/y"):
        assert decode_payload(raw) is None

"""Reading Cloud API webhook bodies (the shapes of Meta's "Webhooks: messages" reference)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channels.whatsapp.inbound import read_messages
from bot.pipeline import Inbound

PHONE_ID = "106540352242922"
STAMP = "1765000000"


def message(kind: str, content: Any = None, n: int = 1, **extra: Any) -> dict[str, Any]:
    found = {"from": "31612345678", "id": f"wamid.HBgL{n:04d}", "timestamp": STAMP, "type": kind}
    if content is not None:
        found[kind] = content
    return {**found, **extra}


def body(*messages: dict[str, Any], contacts: Any = None, phone_id: str = PHONE_ID) -> Any:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001234", "phone_number_id": phone_id},
        "contacts": contacts
        if contacts is not None
        else [{"profile": {"name": "Sanne"}, "wa_id": "31612345678"}],
        "messages": list(messages),
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def read(data: Any) -> list[tuple[Inbound, str, datetime]]:
    return list(read_messages(data, PHONE_ID))


def test_every_answerable_kind() -> None:
    data = body(
        message("text", {"body": "KRACHT"}, 1),
        message("interactive", {"type": "button_reply", "button_reply": {"id": "/consent/yes",
                                                                         "title": "Ja"}}, 2),
        message("interactive", {"type": "list_reply", "list_reply": {"id": "/a/q1/2",
                                                                     "title": "Tuin"}}, 3),
        message("button", {"payload": "/f/7/yes", "text": "Ja, gelukt"}, 4),
        message("location", {"latitude": 52.0907, "longitude": 5.1214}, 5),
        message("request_welcome", None, 6),
        message("image", {"id": "1234", "mime_type": "image/jpeg"}, 7),
    )  # fmt: skip
    found = read(data)
    assert [(i.text, i.payload, i.location) for i, _, _ in found] == [
        ("KRACHT", None, None),
        (None, "/consent/yes", None),
        (None, "/a/q1/2", None),
        (None, "/f/7/yes", None),
        (None, None, (52.0907, 5.1214)),
        (None, "/start", None),
        ("", None, None),
    ]
    assert {(i.channel, i.sender, to) for i, to, _ in found} == {
        ("whatsapp", "31612345678", "31612345678")
    }
    assert [i.external_id for i, _, _ in found] == [f"wamid.HBgL{n:04d}" for n in range(1, 8)]
    assert {at for _, _, at in found} == {datetime.fromtimestamp(int(STAMP), tz=UTC)}


def test_business_scoped_ids_come_first_and_each_message_finds_its_contact() -> None:
    contacts = [
        {"profile": {"name": "A"}, "wa_id": "31600000001", "user_id": "NL.111"},
        {"profile": {"name": "B"}, "user_id": "NL.222"},
    ]
    data = body(
        message("text", {"body": "hoi"}, 1, **{"from": "31600000001"}),
        message("text", {"body": "hallo"}, 2, **{"from": None, "from_user_id": "NL.222"}),
        contacts=contacts,
    )
    assert [(i.sender, i.text) for i, _, _ in read(data)] == [
        ("NL.111", "hoi"),
        ("NL.222", "hallo"),
    ]


def test_what_needs_no_answer_is_left_alone() -> None:
    data = body(
        message("reaction", {"message_id": "wamid.X", "emoji": "👍"}, 1),
        message("system", {"body": "changed number", "type": "user_changed_number"}, 2),
        message("interactive", {"type": "nfm_reply", "nfm_reply": {"name": "flow"}}, 3),
        message("unsupported", None, 4, errors=[{"code": 131051}]),
    )
    assert read(data) == []
    statuses = body()
    statuses["entry"][0]["changes"][0]["value"]["statuses"] = [{"status": "delivered"}]
    assert read(statuses) == []
    assert list(read_messages(body(message("text", {"body": "hoi"})), "another-number")) == []


def test_one_unreadable_message_does_not_cost_the_others() -> None:
    data = body(
        message("text", {"body": 42}, 1),
        message("location", {"latitude": "nan", "longitude": 5}, 2),
        message("text", {"body": "hoi"}, 3, timestamp=None),
        message("text", {"body": "nog steeds hier"}, 4),
    )
    assert [i.text for i, _, _ in read(data)] == ["nog steeds hier"]
    assert read(body(message("text", {"body": "hoi"}), contacts=[{"profile": {}}])) == []


@pytest.mark.parametrize("data", [[], {"entry": {}}, {"entry": [{"changes": "x"}]}])
def test_a_body_that_is_no_update_is_refused(data: Any) -> None:
    with pytest.raises(ValueError):
        read(data)


def test_other_fields_are_skipped() -> None:
    assert read({"entry": [{"changes": [{"field": "account_update", "value": {}}]}]}) == []

"""Replies become plain data exactly as `dataclasses.asdict` makes it, and come back."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from quiz.messages import (
    Button,
    Buttons,
    Card,
    Image,
    QuizMeta,
    Reply,
    Text,
    reply_from_dict,
    reply_to_dict,
)

REPLIES: list[Reply] = [
    Text("Hoi! 👋"),
    Image("https://example.org/card.png", "Jouw kaart"),
    Buttons(
        "Wat lijkt je het leukst?",
        (Button("Koffie schenken", "/a/activity/talk"), Button("Klussen", "/a/activity/hands")),
        multi=True,
        done=Button("Klaar", "/done/activity"),
        nav=(Button("Terug", "/back"),),
        allow_location=True,
    ),
    Card(
        "Taalmaatje",
        "3 km bij je vandaan",
        subtitle="zaterdagochtend",
        buttons=(Button("Ik wil helpen", "/lead/v1"),),
        image_url=None,
        data={"vacancy": "v1", "reasons": ["dichtbij", {"km": 3}], "pair": (1, 2)},
    ),
]


@pytest.mark.parametrize("reply", REPLIES)
def test_same_as_asdict_and_back(reply: Reply) -> None:
    plain = reply_to_dict(reply)
    assert plain == asdict(reply)
    assert reply_from_dict(plain) == reply


def test_quiz_meta_nested() -> None:
    meta = QuizMeta("motive", "choice", 1, 6)
    reply = Buttons("Vraag", (Button("Ja", "/a/q/ja"),), quiz=meta)
    assert reply_to_dict(reply) == asdict(reply)
    assert meta.to_dict() == {"question_id": "motive", "kind": "choice", "step": 1, "total": 6}

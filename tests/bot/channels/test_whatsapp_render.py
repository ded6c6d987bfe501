"""WhatsApp rendering within the platform's limits: buttons, lists, numbered text."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.textfit import shorten_unique, split_text
from bot.channels.whatsapp.render import render
from quiz.messages import Button, Buttons, Card, QuizMeta, Text
from quiz.protocol import answer_payload
from tests.fakes.quiz_walk import quiz_transcript
from tests.fakes.whatsapp_api import validate


def graph_body(op: dict[str, Any]) -> dict[str, Any]:
    """The Cloud API request body pywa builds for a rendered message (for the limit checks)."""
    base: dict[str, Any] = {"messaging_product": "whatsapp", "to": "31612345678"}
    if op["type"] == "text":
        return {**base, "type": "text", "text": {"body": op["text"]}}
    if op["type"] == "image":
        return {**base, "type": "image", "image": {"link": op["url"], "caption": op["caption"]}}
    inter: dict[str, Any] = {"body": {"text": op["text"]}}
    if op.get("header"):
        inter["header"] = {"type": "text", "text": op["header"]}
    if op.get("footer"):
        inter["footer"] = {"text": op["footer"]}
    if op["type"] == "buttons":
        inter["type"] = "button"
        inter["action"] = {"buttons": [{"type": "reply", "reply": b} for b in op["buttons"]]}
    elif op["type"] == "list":
        inter["type"] = "list"
        inter["action"] = {"button": op["button"], "sections": op["sections"]}
    else:
        inter["type"] = "location_request_message"
        inter["action"] = {"name": "send_location"}
    return {**base, "type": "interactive", "interactive": inter}


def question(n: int, title: str = "Keuze {i}", multi: bool = False) -> Buttons:
    return Buttons(
        text="Wat kies je?",
        buttons=tuple(Button(title.format(i=i), answer_payload("q", f"o{i}")) for i in range(n)),
        quiz=QuizMeta("q", "multi" if multi else "choice", 3, 17),
        multi=multi,
        done=Button("Klaar", "/done/q") if multi else None,
    )


def test_seven_options_render_as_a_list() -> None:
    [op] = render([question(7)], "nl")
    assert op["type"] == "list"
    rows = [r for s in op["sections"] for r in s["rows"]]
    assert [r["id"] for r in rows] == [f"/a/q/o{i}" for i in range(7)]
    assert op["button"] == "Kies" and op["header"] == "Vraag 3 van 17"
    validate(graph_body(op))


def test_two_options_render_as_buttons() -> None:
    [op] = render([question(2)], "nl")
    assert op["type"] == "buttons"
    assert op["buttons"] == [
        {"id": "/a/q/o0", "title": "Keuze 0"},
        {"id": "/a/q/o1", "title": "Keuze 1"},
    ]
    validate(graph_body(op))


def test_small_actions_join_the_buttons_when_there_is_room() -> None:
    reply = Buttons("Klaar?", (Button("Ja", "/a/q/y"),), nav=(Button("Terug", "/back"),))
    [op] = render([reply], "nl")
    assert [b["id"] for b in op["buttons"]] == ["/a/q/y", "/back"]
    three = Buttons("?", tuple(Button(t, f"/a/q/{t}") for t in "abc"), nav=(Button("T", "/back"),))
    [op] = render([three], "nl")
    assert len(op["buttons"]) == 3 and op["footer"].startswith("Je kunt ook typen")


def test_over_long_titles_are_shortened_unique_and_kept_readable() -> None:
    titles = [
        "Mensen met een lichamelijke beperking",
        "Mensen met een verstandelijke beperking",
        "Mensen met weinig geld om rond te komen",
        "Ouderen",
        "Kinderen en jongeren in de wijk",
    ]
    reply = Buttons("Voor wie?", tuple(Button(t, f"/a/q/{i}") for i, t in enumerate(titles)))
    [op] = render([reply], "nl")
    rows = op["sections"][0]["rows"]
    shown = [r["title"] for r in rows]
    assert all(len(t) <= 24 for t in shown)
    assert len({t.lower() for t in shown}) == len(shown)
    assert shown[3] == "Ouderen"
    assert "lichamelijke" in shown[0] and "verstandelijke" in shown[1]
    for row, full in zip(rows, titles, strict=True):
        if row["title"] != full:  # a shortened title keeps its whole text below it
            assert row["description"].startswith(full[:60])
    validate(graph_body(op))


def test_three_options_with_a_long_title_become_a_list() -> None:
    reply = question(3, title="Een heel lange keuze {i}")
    [op] = render([reply], "nl")
    assert op["type"] == "list"
    validate(graph_body(op))


@pytest.mark.parametrize("titles", [["A" * 40] * 4, ["Sport en spel voor iedereen"] * 3])
def test_identical_titles_still_differ(titles: list[str]) -> None:
    short = shorten_unique(titles, 20)
    assert len({t.lower() for t in short}) == len(titles)
    assert all(len(t) <= 20 for t in short)


def test_more_than_ten_options_become_numbered_text() -> None:
    [op] = render([question(12, multi=True)], "nl")
    assert op["type"] == "text"
    lines = op["text"].splitlines()
    assert "1. Keuze 0" in lines and "12. Keuze 11" in lines
    assert "Typ de nummers" in op["text"]


def test_multi_select_marks_chosen_rows_and_offers_done() -> None:
    reply = question(4, multi=True)
    picked = Buttons(
        text=reply.text,
        buttons=tuple(
            Button(b.title, b.payload, selected=i == 1) for i, b in enumerate(reply.buttons)
        ),
        quiz=reply.quiz,
        multi=True,
        done=reply.done,
    )
    [op] = render([picked], "nl")
    rows = op["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["Keuze 0", "✓ Keuze 1", "Keuze 2", "Keuze 3", "Klaar"]


def test_long_bodies_are_split_before_the_buttons() -> None:
    long = "\n\n".join(
        f"Alinea {i}. " + "Dit is een zin over vrijwilligerswerk. " * 8 for i in range(8)
    )
    reply = Buttons(long, (Button("Ja", "/a/q/y"), Button("Nee", "/a/q/n")))
    ops = render([reply], "nl")
    assert [o["type"] for o in ops[:-1]] == ["text"] * (len(ops) - 1)
    assert ops[-1]["type"] == "buttons" and len(ops[-1]["text"]) <= 1024
    assert ops[-1]["text"].startswith("Alinea")  # split at a paragraph, not mid-sentence
    rebuilt = "\n\n".join([o["text"] for o in ops])
    assert rebuilt.split() == long.split()
    for op in ops:
        validate(graph_body(op))


def test_long_text_is_split_at_sentences() -> None:
    text = "Zin nummer een is hier. " * 400
    ops = render([Text(text)], "nl")
    assert len(ops) > 1 and all(len(o["text"]) <= 4096 for o in ops)
    assert all(o["text"].endswith(".") for o in ops)
    assert split_text("kort", 10) == ["kort"]


def test_place_question_asks_for_the_location() -> None:
    reply = Buttons("Waar woon je?", (), quiz=QuizMeta("place", "place", 11, 17),
                    allow_location=True, nav=(Button("Waarom?", "/why"),))  # fmt: skip
    [op] = render([reply], "en")
    assert op["type"] == "location_request"
    assert op["text"].startswith("Waar woon je?") and "‘why’" in op["text"]


def test_cards_are_bold_titles_with_their_buttons() -> None:
    card = Card(
        title="Hondenuitlater",
        subtitle="Dierenasiel · 3 km van je",
        text="Je laat honden uit.",
        buttons=(Button("Meer info", "/info/v1"), Button("Ik wil helpen", "/help/v1")),
        image_url="/cards/abc.png",
    )
    image, op = render([card], "nl", public_url="https://vk.example.org")
    assert image == {"type": "image", "url": "https://vk.example.org/cards/abc.png",
                     "caption": "Hondenuitlater"}  # fmt: skip
    assert op["type"] == "buttons" and op["text"].startswith("*Hondenuitlater*\n_Dierenasiel")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_message_of_the_real_quiz_fits_whatsapp(lang: str) -> None:
    replies = quiz_transcript(lang)
    assert any(isinstance(r, Card) and r.title.startswith(("Jij bent", "You are")) for r in replies)
    ops = render(replies, lang)
    assert len(ops) > 20
    for op in ops:
        validate(graph_body(op))

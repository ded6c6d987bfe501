"""Rule-based entities: the cases from the issue and the contract's normalised values."""

from __future__ import annotations

from typing import Any

import pytest

from bot.nlu.model import NluModel
from bot.nlu.numbers import find_hours, find_numbers


def pairs(model: NluModel, text: str) -> set[tuple[str, Any]]:
    return {(e["entity"], e["value"]) for e in model.parse(text)["entities"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ik woon in Den Bosch", {("place", "'s-Hertogenbosch")}),
        ("mijn postcode is 3511 ab", {("postcode", "3511AB")}),
        ("3511", {("postcode", "3511")}),
        ("2 uur per week", {("hours", 2)}),
        ("twee à drie uurtjes", {("hours", 3)}),
        ("op zaterdag", {("weekday", "saturday")}),
        ("'s avonds", {("daypart", "evening")}),
        ("zaterdagochtend", {("weekday", "saturday"), ("daypart", "morning")}),
        ("in het weekend", {("weekday", "saturday"), ("weekday", "sunday")}),
        ("iets met dieren", {("cause", "animals")}),
        ("bij het dierenaziel", {("cause", "animals")}),  # typo
        ("ik klus graag", {("activity", "hands_on")}),
        ("in English please", {("language", "en")}),
        ("EN", {("language", "en")}),
        ("ik ben 45", {("number", 45)}),
        ("I live in The Hague", {("place", "'s-Gravenhage")}),
        ("on Sunday evening", {("weekday", "sunday"), ("daypart", "evening")}),
    ],
)
def test_entities(nlu_model: NluModel, text: str, expected: set[tuple[str, Any]]) -> None:
    assert pairs(nlu_model, text) == expected


def test_no_entities_in_plain_sentences(nlu_model: NluModel) -> None:
    assert pairs(nlu_model, "natuurlijk, en ik help graag") == set()
    assert pairs(nlu_model, "een paar uurtjes") == set()  # "een paar" is not a number
    assert pairs(nlu_model, "maandag en dinsdag") == {("weekday", "monday"), ("weekday", "tuesday")}


def test_entity_spans_point_into_the_original_text(nlu_model: NluModel) -> None:
    text = "Ik woon in 's-Hertogenbosch, 5211 AB, en heb 4 uur"
    for e in nlu_model.parse(text)["entities"]:
        assert 0 <= e["start"] < e["end"] <= len(text)
    by = {e["entity"]: text[e["start"] : e["end"]] for e in nlu_model.parse(text)["entities"]}
    assert by["postcode"] == "5211 AB"
    assert by["hours"] == "4 uur"


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("een uurtje", 1),
        ("an hour", 1),
        ("half an hour", 0.5),
        ("anderhalf uur", 1.5),
        ("2 tot 4 uur", 4),
        ("2-4 hours", 4),
        ("een dag per week", 8),
        ("een halve dag", 4),
        ("twenty one hours", 21),
        ("8 uur per maand", 1.8),
    ],
)
def test_hours(text: str, hours: float) -> None:
    assert [h.value for h in find_hours(text)] == [hours]


@pytest.mark.parametrize(
    "text", ["een paar uur", "a couple of hours", "a few hours", "paar uurtjes"]
)
def test_vague_amounts_are_not_numbers(text: str) -> None:
    assert find_hours(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("twee", 2), ("vijfentwintig", 25), ("tweeëntwintig", 22), ("twenty-one", 21), ("één", 1)],
)
def test_number_words(text: str, value: float) -> None:
    assert [n.value for n in find_numbers(text)] == [value]


def test_article_is_not_a_number() -> None:
    assert find_numbers("een mooie dag") == []
    assert find_numbers("a nice day") == []

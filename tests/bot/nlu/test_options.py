"""The option matcher on a made-up question: it must not know the shipped quiz."""

from __future__ import annotations

import pytest

from bot.nlu.model import NluModel
from bot.nlu.options import OptionMatcher, OptionSpec, specs_from_dicts

# A quiz about a summer festival, nothing like ours.
FESTIVAL = specs_from_dicts(
    [
        {"id": "stage", "label": {"nl": "Podium opbouwen", "en": "Build the stage"}},
        {
            "id": "bar",
            "label": {"nl": "Achter de bar", "en": "Behind the bar"},
            "synonyms": {"nl": ["drankjes schenken", "bar"]},
        },
        {
            "id": "kids",
            "label": {"nl": "Kinderhoek", "en": "Kids' corner"},
            "description": {"nl": "Spelletjes met kinderen"},
        },
        {"id": "guests", "label": {"nl": "Gasten ontvangen", "en": "Welcome guests"}},
        {"id": "clean", "label": {"nl": "Opruimen na afloop", "en": "Clean up afterwards"}},
    ]
)


@pytest.fixture(scope="module")
def matcher(nlu_model: NluModel) -> OptionMatcher:
    return nlu_model.matcher


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("2", "bar"),
        ("b", "bar"),
        ("optie c", "kids"),
        ("de tweede", "bar"),
        ("ik kies de derde", "kids"),
        ("de laatste", "clean"),
        ("the last one", "clean"),
        ("nummer vier", "guests"),
        ("Achter de bar", "bar"),
        ("achter de bra", "bar"),  # typo
        ("podium opbouwn", "stage"),  # typo
        ("drankjes schenken", "bar"),
        ("ik ontvang graag de gasten", "guests"),  # lemma overlap
        ("iets met kinderen", "kids"),  # via the description
        ("welcome guests", "guests"),  # the other language's label
        ("ik ruim wel op", "clean"),
    ],
)
def test_matches(matcher: OptionMatcher, text: str, option: str) -> None:
    hit = matcher.match(text, FESTIVAL, "nl")
    assert hit is not None, text
    assert hit.id == option
    assert 0 < hit.confidence <= 1


@pytest.mark.parametrize("text", ["geen idee", "wat is het weer", "7", "z", "niet achter de bar"])
def test_below_threshold_is_none(matcher: OptionMatcher, text: str) -> None:
    hit = matcher.match(text, FESTIVAL, "nl")
    assert hit is None or (text.startswith("niet") and hit.id != "bar"), hit


def test_position_and_exact_names_are_certain(matcher: OptionMatcher) -> None:
    for text in ("1", "a", "Podium opbouwen"):
        hit = matcher.match(text, FESTIVAL, "nl")
        assert hit is not None and hit.confidence == 1.0


def test_near_tie_is_not_confident() -> None:
    twins = [OptionSpec("a", ("Werken in de tuin",)), OptionSpec("b", ("Werken in de keuken",))]
    ranked = OptionMatcher().rank("werken", twins, "nl")
    assert ranked and ranked[0].confidence < OptionMatcher().threshold


def test_many_for_multiple_choice(matcher: OptionMatcher) -> None:
    assert [m.id for m in matcher.match_many("1 en 3", FESTIVAL, "nl")] == ["stage", "kids"]
    found = matcher.match_many("de bar, en opruimen", FESTIVAL, "nl")
    assert [m.id for m in found] == ["bar", "clean"]


def test_works_without_a_lemmatizer() -> None:
    plain = OptionMatcher()
    hit = plain.match("de tweede", FESTIVAL)
    assert hit is not None and hit.id == "bar"
    hit = plain.match("gasten ontvangen", FESTIVAL)
    assert hit is not None and hit.id == "guests"


def test_parse_returns_the_option(nlu_model: NluModel) -> None:
    result = nlu_model.parse("doe maar de kinderhoek", "nl", FESTIVAL)
    assert result["option"]["id"] == "kids"
    assert set(result) >= {"text", "intent", "intent_ranking", "entities", "option"}

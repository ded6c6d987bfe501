"""The training data itself: enough varied examples per intent and language, a held-out split
that training never sees, and the vocabulary (synonyms, regex, lookups) the contract needs."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bot.nlu.data import NluData, NluDataError, load_nlu_data, parse_markup
from bot.nlu.training import heldout_split, train_split
from quiz.model import ACTIVITIES, CAUSES, DAYPARTS, WEEKDAYS
from tests.bot.nlu.conftest import NLU_DATA

CONTRACT_INTENTS = (
    "greet",
    "start_quiz",
    "restart",
    "help",
    "why",
    "back",
    "skip",
    "stop",
    "delete_data",
    "my_data",
    "affirm",
    "deny",
    "thanks",
    "change_language",
    "contact_human",
    "out_of_scope",
)


@pytest.fixture(scope="module")
def train() -> NluData:
    return load_nlu_data([train_split(NLU_DATA)])


@pytest.fixture(scope="module")
def test(train: NluData) -> NluData:
    return load_nlu_data([heldout_split(NLU_DATA)], synonyms=train.synonyms)


def test_every_contract_intent_has_30_examples_per_language(train: NluData) -> None:
    counts = Counter((e.lang, e.intent) for e in train.examples)
    for lang in ("nl", "en"):
        for intent in CONTRACT_INTENTS:
            assert counts[(lang, intent)] >= 30, (lang, intent, counts[(lang, intent)])


def test_held_out_split_is_separate_and_covers_every_intent(train: NluData, test: NluData) -> None:
    seen = {(e.lang, e.text.lower()) for e in train.examples}
    leaked = [e.text for e in test.examples if (e.lang, e.text.lower()) in seen]
    assert leaked == []
    for lang in ("nl", "en"):
        assert {e.intent for e in test.examples if e.lang == lang} >= set(CONTRACT_INTENTS)


def test_markup_is_parsed_into_spans() -> None:
    text, spans = parse_markup(
        'ik woon in [Den Bosch]{"entity": "place", "value": "x"} en [7 uur](hours)'
    )
    assert text == "ik woon in Den Bosch en 7 uur"
    assert [(s.entity, s.value, text[s.start : s.end]) for s in spans] == [
        ("place", "x", "Den Bosch"),
        ("hours", "7 uur", "7 uur"),
    ]
    with pytest.raises(NluDataError):
        parse_markup("[x]{not json}")


def test_synonyms_normalise_places_and_causes(train: NluData) -> None:
    assert train.synonyms["den bosch"] == "'s-Hertogenbosch"
    assert train.synonyms["dierenasiel"] == "animals"
    assert train.synonyms["engels"] == "en"


def test_vocabulary_values_are_contract_ids(train: NluData) -> None:
    vocab = train.vocabulary()
    assert set(vocab["cause"].values()) <= set(CAUSES)
    assert set(vocab["activity"].values()) <= set(ACTIVITIES)
    assert set(vocab["weekday"].values()) <= set(WEEKDAYS)
    assert set(vocab["daypart"].values()) <= set(DAYPARTS)
    assert set(vocab["language"].values()) <= {"nl", "en"}


def test_annotated_values_are_normalised(train: NluData, test: NluData) -> None:
    allowed = {
        "cause": set(CAUSES),
        "activity": set(ACTIVITIES),
        "weekday": set(WEEKDAYS),
        "daypart": set(DAYPARTS),
        "language": {"nl", "en"},
    }
    for ex in train.examples + test.examples:
        for ent in ex.entities:
            if ent.entity in allowed:
                assert ent.value in allowed[ent.entity], (ex.text, ent)
            if ent.entity == "postcode":
                assert re.fullmatch(r"[1-9]\d{3}([A-Z]{2})?", ent.value), ex.text


def test_postcode_regex_matches_both_forms(train: NluData) -> None:
    patterns = [re.compile(p) for p in train.regexes["postcode"]]
    for text in ("3511 AB", "3511ab", "3511"):
        assert any(p.search(text) for p in patterns), text

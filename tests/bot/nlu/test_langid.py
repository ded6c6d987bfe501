"""Language detection: good enough to notice English in a Dutch conversation."""

from __future__ import annotations

import pytest

from bot.nlu.data import load_nlu_data
from bot.nlu.model import NluModel
from bot.nlu.training import heldout_split
from tests.bot.nlu.conftest import NLU_DATA


def test_detection_accuracy_on_held_out_split(nlu_model: NluModel) -> None:
    examples = load_nlu_data([heldout_split(NLU_DATA)]).examples
    right = sum(nlu_model.detect_language(e.text)[0] == e.lang for e in examples)
    # Measured 0.97; misses are one-word texts ("okido", "hullo") that say little.
    assert right / len(examples) >= 0.93


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("in English please", "en"),
        ("can we do this in english", "en"),
        ("I would like to help older people", "en"),
        ("ik woon in Utrecht", "nl"),
        ("ik wil graag iets met dieren doen", "nl"),
        ("wat moet ik hier invullen", "nl"),
    ],
)
def test_sentences_are_detected_confidently(nlu_model: NluModel, text: str, lang: str) -> None:
    detected, confidence = nlu_model.detect_language(text)
    assert detected == lang
    assert confidence >= 0.95


def test_short_ambiguous_words_are_not_confident(nlu_model: NluModel) -> None:
    for word in ("ok", "Sport", "6211"):
        assert nlu_model.detect_language(word)[1] < 0.95

"""The one normaliser: folding, punctuation and number words as every matcher sees them."""

from __future__ import annotations

from quiz.text import NUMBER_WORDS, fold, normalise, parse_number


def test_fold_and_normalise_meet_in_one_form() -> None:
    assert fold("Één Coördinator") == "een coordinator"
    assert normalise("  Met één persoon!! 🙂 ") == "met een persoon"
    assert normalise("my_data") == "my data"


def test_numbers_in_digits_and_words() -> None:
    assert parse_number("ongeveer 4,5 uur") == 4.5
    assert parse_number("Vier uurtjes") == 4.0
    assert parse_number("twelve hours") == 12.0
    assert parse_number("geen idee") is None
    assert NUMBER_WORDS["twee"] == NUMBER_WORDS["two"] == 2

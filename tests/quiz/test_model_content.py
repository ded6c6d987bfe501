"""The shipped content: valid, complete in both languages, short enough for chat."""

from __future__ import annotations

from typing import Any

from bot.content import load_quiz
from quiz.model import (
    ACTIVITIES,
    FEEDS,
    MAX_BUTTON_TITLE,
    MAX_ROW_TITLE,
    MAX_SCORED_QUESTIONS,
)
from quiz.simulate import estimated_seconds
from quiz.validate import load_yaml_text
from tests.quiz.fixtures.content import raw_text, shipped_parts


def _key_tree(node: Any, prefix: str = "") -> set[str]:
    """Every mapping key path; list items (synonyms, strengths) may differ per language."""
    if not isinstance(node, dict):
        return set()
    out: set[str] = set()
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key == "synonyms":
            continue
        out.add(path)
        out |= _key_tree(value, path)
    return out


def test_shipped_content_loads() -> None:
    quiz = load_quiz()
    assert quiz.languages == ("nl", "en")
    assert quiz.default_language == "nl"
    assert 6 <= len(quiz.profiles) <= 8


def test_english_mirrors_dutch_key_for_key() -> None:
    parts = shipped_parts()
    nl, en = _key_tree(parts["nl"]), _key_tree(parts["en"])
    assert nl - en == set(), "keys in Dutch, missing in English"
    assert en - nl == set(), "keys in English, missing in Dutch"


def test_texts_are_really_translated() -> None:
    """Catch copy-paste: most English texts must differ from the Dutch ones."""
    quiz = load_quiz()
    same = [k for k, v in quiz.ui["nl"].items() if v == quiz.ui["en"][k]]
    assert len(same) <= 3, same
    for q in quiz.questions:
        assert q.text["nl"] != q.text["en"]
        assert q.why["nl"] != q.why["en"]


def test_english_language_keywords_ask_for_english() -> None:
    quiz = load_quiz()
    phrases = [p.strip() for p in quiz.ui["en"]["keywords_language"].split(",")]
    assert {"english", "engels", "en"} <= set(phrases)


def test_every_question_explains_why_in_every_language() -> None:
    quiz = load_quiz()
    for q in quiz.questions:
        for lang in quiz.languages:
            assert len(q.why[lang]) > 20, (q.id, lang)


def test_options_fit_whatsapp() -> None:
    quiz = load_quiz()
    for q in quiz.questions:
        rows = len(q.options) + (1 if q.kind == "multi" else 0)
        assert rows <= 10, q.id
        limit = MAX_BUTTON_TITLE if rows <= 3 else MAX_ROW_TITLE
        for o in q.options:
            for lang in quiz.languages:
                assert len(o.title[lang]) <= limit, (q.id, o.id, lang)


def test_question_counts_and_practical_feeds() -> None:
    quiz = load_quiz()
    scored = quiz.scored_questions
    # The short path: five scored questions plus the motive before the profile.
    assert len(scored) == 5 <= MAX_SCORED_QUESTIONS
    assert {q.feeds for q in quiz.questions if not q.scored} == set(FEEDS)
    before = quiz.questions[: quiz.questions.index(scored[-1]) + 1]
    assert [q.feeds for q in before if not q.scored] == ["age", "motive"]


def test_profiles_rest_on_activities_and_cover_every_one() -> None:
    """Profiles come from what people like to do: each activity type belongs somewhere, and
    no motive decides a profile (motives are matched against what work offers)."""
    quiz = load_quiz()
    assert all(not p.motives for p in quiz.profiles)
    assert {a for p in quiz.profiles for a in p.activities} == set(ACTIVITIES)
    cores = [max(p.activities.items(), key=lambda kv: kv[1])[0] for p in quiz.profiles]
    assert len(set(cores)) == len(cores), "two profiles share their core activity"


def test_a_run_takes_three_to_four_minutes() -> None:
    quiz = load_quiz()
    for lang in quiz.languages:
        minutes = estimated_seconds(quiz, lang) / 60
        assert 2.5 <= minutes <= 4.5, (lang, minutes)


def test_shipped_files_have_no_duplicate_keys() -> None:
    for part in ("structure", "nl", "en"):
        load_yaml_text(raw_text(part), part)  # the strict loader raises on a duplicate

"""Scoring: deterministic, normalised by what was achievable, explained in the user's words."""

from __future__ import annotations

import random

import pytest

from bot.content import load_quiz
from quiz.model import Quiz
from quiz.scoring import (
    FastScorer,
    best_answers_for,
    dimension_scores,
    reasons_for,
    score,
)


@pytest.fixture(scope="module")
def quiz() -> Quiz:
    return load_quiz()


def _random_answers(quiz: Quiz, rng: random.Random) -> dict[str, list[str]]:
    return {q.id: [rng.choice(q.options).id] for q in quiz.scored_questions}


def test_no_scored_answer_means_no_result(quiz: Quiz) -> None:
    assert score(quiz, {}, "nl") is None
    assert score(quiz, {"hours": ["h2"], "age": ["a30"]}, "nl") is None
    assert score(quiz, {"activity": ["no-such-option"]}, "nl") is None


def test_same_answers_same_result(quiz: Quiz) -> None:
    answers = _random_answers(quiz, random.Random(7))
    reordered = dict(reversed(list(answers.items())))
    first = score(quiz, answers, "nl")
    assert first is not None
    for _ in range(3):
        again = score(quiz, reordered, "nl")
        assert again is not None
        assert again.to_dict() == first.to_dict()


def test_scores_are_fractions_and_primary_is_the_best(quiz: Quiz) -> None:
    rng = random.Random(3)
    for _ in range(50):
        result = score(quiz, _random_answers(quiz, rng), "nl")
        assert result is not None
        assert all(0.0 <= v <= 1.0 for v in result.scores.values())
        assert all(0.0 <= v <= 1.0 for v in result.dimensions.values())
        assert result.scores[result.primary] == max(result.scores.values())
        assert result.runner_up != result.primary
        assert 0.0 <= result.confidence <= 1.0


def test_one_answer_counts_in_full_when_it_is_all_there_is(quiz: Quiz) -> None:
    """Normalised by the achievable: the best option of the one answered question gives 1.0."""
    dims = dimension_scores(quiz, {"activity": ["hands"]})
    assert dims["activity.hands_on"] == pytest.approx(1.0)
    assert dims["activity.social"] == 0.0
    assert "motive.values" not in dims  # not measured by the answered question


def test_skipping_never_pushes_a_profile_down(quiz: Quiz) -> None:
    best = best_answers_for(quiz, "aanpakker")
    full = score(quiz, best, "nl")
    assert full is not None
    for skipped in best:
        partial = {k: v for k, v in best.items() if k != skipped}
        result = score(quiz, partial, "nl")
        assert result is not None
        assert result.primary == "aanpakker", f"skipping {skipped}"
        # The maximum profile score stays high: skipping shrinks the achievable too.
        assert result.scores["aanpakker"] >= full.scores["aanpakker"] - 0.15


def test_multi_answers_share_the_weight(quiz: Quiz) -> None:
    """Two picks on one question count half each, so picking everything gains nothing."""
    one = dimension_scores(quiz, {"activity": ["hands"]})
    two = dimension_scores(quiz, {"activity": ["hands", "talk"]})
    assert two["activity.hands_on"] == pytest.approx(one["activity.hands_on"] / 2)
    assert two["activity.social"] == pytest.approx(0.5)


def test_every_profile_has_a_path_that_yields_it(quiz: Quiz) -> None:
    for profile in quiz.profiles:
        answers = best_answers_for(quiz, profile.id)
        assert set(answers) == {q.id for q in quiz.scored_questions}
        result = score(quiz, answers, "nl")
        assert result is not None
        assert result.primary == profile.id
        assert result.confidence_level == "high"


def test_fast_scorer_agrees_with_score(quiz: Quiz) -> None:
    """The simulation's fast path decides exactly like the real scoring, ties included."""
    scorer = FastScorer(quiz)
    rng = random.Random(11)
    for _ in range(3000):
        idx = [rng.randrange(len(q.options)) for q in scorer.questions]
        answers = {q.id: [q.options[i].id] for q, i in zip(scorer.questions, idx, strict=True)}
        result = score(quiz, answers, "nl")
        assert result is not None
        assert scorer.primary(idx) == result.primary


def test_reasons_name_the_chosen_options_in_the_users_language(quiz: Quiz) -> None:
    answers = best_answers_for(quiz, "zorgzame")
    for lang in quiz.languages:
        result = score(quiz, answers, lang)
        assert result is not None
        assert 1 <= len(result.reasons) <= 3
        for reason in result.reasons:
            assert reason.option_id in answers[reason.question_id]
            q = quiz.question(reason.question_id)
            assert q is not None
            option = q.option(reason.option_id)
            assert option is not None
            assert reason.title == option.title[lang]
        weights = [r.weight for r in result.reasons]
        assert weights == sorted(weights, reverse=True)
    nl = score(quiz, answers, "nl")
    en = score(quiz, answers, "en")
    assert nl is not None and en is not None
    assert [r.title for r in nl.reasons] != [r.title for r in en.reasons]


def test_reasons_only_name_answers_that_point_at_the_profile(quiz: Quiz) -> None:
    answers = {"activity": ["computer"], "team": ["big"], "party": ["kitchen"]}
    reasons = reasons_for(quiz, answers, "specialist", "nl")
    assert [r.option_id for r in reasons] == ["computer"]
    assert reasons_for(quiz, {"activity": ["hands"]}, "creatieveling", "en") == ()


def test_confidence_levels(quiz: Quiz) -> None:
    clear = score(quiz, best_answers_for(quiz, "coach"), "nl")
    assert clear is not None
    assert clear.confidence == pytest.approx(1.0)
    assert clear.confidence_level == "high"
    # Two answers pulling equally towards two profiles: a tie, so no confidence at all.
    torn = score(quiz, {"activity": ["talk", "care"]}, "nl")
    assert torn is not None
    assert torn.confidence_level == "low"


def test_result_to_dict_is_plain_data(quiz: Quiz) -> None:
    result = score(quiz, best_answers_for(quiz, "verbinder"), "en")
    assert result is not None
    data = result.to_dict()
    assert data["primary"] == "verbinder"
    assert data["confidence_level"] == "high"
    assert set(data["scores"]) == {p.id for p in quiz.profiles}
    assert all(set(r) == {"question_id", "option_id", "title"} for r in data["reasons"])

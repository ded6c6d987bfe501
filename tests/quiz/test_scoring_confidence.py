"""Confidence means something: random answers rarely claim a clear fit, consistent ones do.

The thresholds in `Result.confidence_level` were calibrated on these simulated answerers.
"""

from __future__ import annotations

import random
from collections import Counter

from bot.content import load_quiz
from quiz.scoring import best_answers_for, score


def _levels(consistency: float, n: int = 1500, seed: int = 5) -> tuple[Counter[str], float]:
    """Answerers aiming at a random profile, answering on target with probability `consistency`
    and at random otherwise: their confidence levels and how often they got their profile."""
    quiz = load_quiz()
    rng = random.Random(seed)
    paths = {p.id: best_answers_for(quiz, p.id) for p in quiz.profiles}
    levels: Counter[str] = Counter()
    hits = 0
    for _ in range(n):
        target = rng.choice(list(paths))
        answers = {
            q.id: paths[target][q.id] if rng.random() < consistency else [rng.choice(q.options).id]
            for q in quiz.scored_questions
        }
        result = score(quiz, answers, "nl")
        assert result is not None
        levels[result.confidence_level] += 1
        hits += result.primary == target
    return levels, hits / n


def test_random_answers_are_rarely_called_a_clear_fit() -> None:
    levels, _ = _levels(0.0)
    assert levels["high"] / sum(levels.values()) < 0.35
    assert levels["low"] / sum(levels.values()) > 0.2


def test_consistent_answers_are_recognised_and_called_clear() -> None:
    # Five scored questions know less than twelve did: 70 % consistent answerers still get
    # their profile almost nine times in ten, and most of them hear "heel duidelijk".
    levels, hit_rate = _levels(0.7)
    assert hit_rate > 0.85
    assert levels["high"] / sum(levels.values()) > 0.65


def test_one_answer_is_never_a_clear_fit() -> None:
    quiz = load_quiz()
    result = score(quiz, {"activity": ["computer"]}, "nl")
    assert result is not None and result.confidence_level != "high"

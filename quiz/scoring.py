"""Answers -> dimension scores -> profile with runner-up, confidence and reasons.

Dimension scores are normalised by what the answered questions made achievable, so skipping a
question never pushes a profile down. A profile's score is the weighted mean of the dimension
scores under its signature. Everything is deterministic: ties break by content order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from quiz.model import Option, Question, Quiz

Answers = Mapping[str, Any]  # question id -> list of option ids (choice/multi/scale) or a value

# Profile scores are compared at this precision, so float noise from summing in a different
# order never decides a tie: `score` and `FastScorer` (the balance simulation) always agree,
# and true ties go to the profile listed first in the content.
_TIE_DIGITS = 9


def _rank_value(value: float) -> float:
    return round(value, _TIE_DIGITS)


def argmax_profile(totals: Sequence[float]) -> int:
    """Index of the highest total; on a tie (at `_TIE_DIGITS`) the earliest index."""
    best_i = 0
    best_v = _rank_value(totals[0])
    for i in range(1, len(totals)):
        v = _rank_value(totals[i])
        if v > best_v:
            best_i, best_v = i, v
    return best_i


CONFIDENCE_HIGH = 0.75
CONFIDENCE_MEDIUM = 0.25
# "Heel duidelijk" only on enough evidence: one answer alone is never a clear profile.
MIN_ANSWERS_FOR_HIGH = 4
# The profile message names at most this many answers as its reasons.
MAX_REASONS = 2


@dataclass(frozen=True)
class Reason:
    question_id: str
    option_id: str
    title: str
    weight: float


@dataclass(frozen=True)
class Result:
    primary: str
    runner_up: str | None
    confidence: float  # 0..1: how clearly the primary beat the runner-up
    scores: dict[str, float]  # profile id -> 0..1
    dimensions: dict[str, float]  # "motive.x" / "activity.y" -> 0..1
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    answered: int = MIN_ANSWERS_FOR_HIGH  # scored questions answered

    @property
    def confidence_level(self) -> str:
        # Calibrated on simulated answerers (see tests/quiz/test_scoring_confidence.py): with
        # five scored questions purely random answers come out "high" about a third of the
        # time, answerers consistent on 70 % of the questions about three quarters of the time,
        # consistent ones always; fewer than MIN_ANSWERS_FOR_HIGH answers are never "high".
        if self.confidence >= CONFIDENCE_HIGH and self.answered >= MIN_ANSWERS_FOR_HIGH:
            return "high"
        if self.confidence >= CONFIDENCE_MEDIUM:
            return "medium"
        return "low"

    def to_dict(self) -> dict[str, Any]:
        return {
            "primary": self.primary,
            "runner_up": self.runner_up,
            "confidence": round(self.confidence, 3),
            "confidence_level": self.confidence_level,
            "answered": self.answered,
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "dimensions": {k: round(v, 4) for k, v in self.dimensions.items()},
            "reasons": [
                {"question_id": r.question_id, "option_id": r.option_id, "title": r.title}
                for r in self.reasons
            ],
        }


def _option_vector(option: Option) -> dict[str, float]:
    vec = {f"motive.{k}": v for k, v in option.motives.items()}
    vec.update({f"activity.{k}": v for k, v in option.activities.items()})
    return vec


def profile_signature(quiz: Quiz, profile_id: str) -> dict[str, float]:
    profile = quiz.profile(profile_id)
    if profile is None:
        raise KeyError(profile_id)
    sig = {f"motive.{k}": v for k, v in profile.motives.items()}
    sig.update({f"activity.{k}": v for k, v in profile.activities.items()})
    return sig


def chosen_options(question: Question, answer: Any) -> list[Option]:
    """The options an answer picked (unknown ids are ignored, never fatal)."""
    ids = answer if isinstance(answer, list | tuple) else [answer]
    return [opt for oid in ids if isinstance(oid, str) and (opt := question.option(oid))]


def dimension_scores(quiz: Quiz, answers: Answers) -> dict[str, float]:
    raw: dict[str, float] = {}
    best: dict[str, float] = {}
    for q in quiz.scored_questions:
        picked = chosen_options(q, answers.get(q.id))
        if not picked:
            continue
        dims: set[str] = set()
        vectors = [_option_vector(o) for o in q.options]
        for v in vectors:
            dims.update(v)
        for d in dims:
            best[d] = best.get(d, 0.0) + max(v.get(d, 0.0) for v in vectors)
        for opt in picked:
            for d, w in _option_vector(opt).items():
                raw[d] = raw.get(d, 0.0) + w / len(picked)
    return {d: (raw.get(d, 0.0) / m if m > 0 else 0.0) for d, m in best.items()}


def score(quiz: Quiz, answers: Answers, lang: str) -> Result | None:
    """Score the answers; None when no scored question has been answered."""
    dims = dimension_scores(quiz, answers)
    if not dims:
        return None
    scores: dict[str, float] = {}
    for profile in quiz.profiles:
        sig = profile_signature(quiz, profile.id)
        total = sum(sig.values()) or 1.0
        scores[profile.id] = sum(w * dims.get(d, 0.0) for d, w in sig.items()) / total
    # stable sort: content order on ties
    ranked = sorted(quiz.profiles, key=lambda p: -_rank_value(scores[p.id]))
    primary = ranked[0].id
    runner_up = ranked[1].id if len(ranked) > 1 else None
    top = scores[primary]
    second = scores[runner_up] if runner_up else 0.0
    confidence = 0.0 if top <= 0 else min(1.0, (top - second) / top * 2)
    answered = sum(1 for q in quiz.scored_questions if chosen_options(q, answers.get(q.id)))
    return Result(
        primary=primary,
        runner_up=runner_up,
        confidence=confidence,
        scores=scores,
        dimensions=dims,
        reasons=reasons_for(quiz, answers, primary, lang),
        answered=answered,
    )


def reasons_for(
    quiz: Quiz, answers: Answers, profile_id: str, lang: str, limit: int = MAX_REASONS
) -> tuple[Reason, ...]:
    """The activity answers that weighed most towards `profile_id`, strongest first.

    Only what the person likes to do (never a motive, never a group size such as "Alleen",
    which reads oddly as a reason), and each text once.
    """
    sig = profile_signature(quiz, profile_id)
    found: list[Reason] = []
    for q in quiz.scored_questions:
        if q.kind == "scale":
            continue
        for opt in chosen_options(q, answers.get(q.id)):
            weight = sum(sig.get(f"activity.{d}", 0.0) * w for d, w in opt.activities.items())
            if weight > 0:
                title = opt.title.get(lang) or opt.title[quiz.default_language]
                found.append(Reason(q.id, opt.id, title, weight))
    found.sort(key=lambda r: -r.weight)
    unique: list[Reason] = []
    for r in found:
        if all(u.title.casefold() != r.title.casefold() for u in unique):
            unique.append(r)
    return tuple(unique[:limit])


class FastScorer:
    """Precomputed scorer for complete answer sets (used by the balance simulation)."""

    def __init__(self, quiz: Quiz) -> None:
        self.quiz = quiz
        self.profile_ids = [p.id for p in quiz.profiles]
        self.questions = list(quiz.scored_questions)
        best: dict[str, float] = {}
        for q in self.questions:
            vectors = [_option_vector(o) for o in q.options]
            dims = {d for v in vectors for d in v}
            for d in dims:
                best[d] = best.get(d, 0.0) + max(v.get(d, 0.0) for v in vectors)
        sigs = [profile_signature(quiz, pid) for pid in self.profile_ids]
        totals = [sum(s.values()) or 1.0 for s in sigs]
        # contributions[q][o] = per-profile score increment when option o of q is chosen
        self.contributions: list[list[list[float]]] = []
        for q in self.questions:
            per_option = []
            for o in q.options:
                vec = _option_vector(o)
                per_option.append(
                    [
                        sum(sig.get(d, 0.0) * w / best[d] for d, w in vec.items() if best.get(d))
                        / total
                        for sig, total in zip(sigs, totals, strict=True)
                    ]
                )
            self.contributions.append(per_option)

    def primary(self, choice_indexes: Sequence[int]) -> str:
        n = len(self.profile_ids)
        totals = [0.0] * n
        for per_option, idx in zip(self.contributions, choice_indexes, strict=True):
            row = per_option[idx]
            for i in range(n):
                totals[i] += row[i]
        return self.profile_ids[argmax_profile(totals)]


def best_answers_for(quiz: Quiz, profile_id: str) -> dict[str, list[str]]:
    """An answer path aimed at `profile_id`: coordinate ascent on its winning margin."""
    scorer = FastScorer(quiz)
    target = scorer.profile_ids.index(profile_id)
    n = len(scorer.profile_ids)

    def margin(choice: list[int]) -> float:
        totals = [0.0] * n
        for per_option, idx in zip(scorer.contributions, choice, strict=True):
            for i in range(n):
                totals[i] += per_option[idx][i]
        others = max((totals[i] for i in range(n) if i != target), default=0.0)
        return totals[target] - others

    def seed(opts: list[list[float]]) -> int:
        return max(range(len(opts)), key=lambda j: opts[j][target] - max(opts[j]) / 2)

    choice = [seed(opts) for opts in scorer.contributions]
    for _ in range(4):
        improved = False
        for qi, opts in enumerate(scorer.contributions):
            current = margin(choice)
            for j in range(len(opts)):
                trial = choice.copy()
                trial[qi] = j
                m = margin(trial)
                if m > current + 1e-12:
                    choice, current, improved = trial, m, True
        if not improved:
            break
    return {q.id: [q.options[idx].id] for q, idx in zip(scorer.questions, choice, strict=True)}

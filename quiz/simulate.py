"""Balance check: how often each profile wins when every scored question is answered at random.

A fair quiz should not hand most people the same label by construction. Random uniform
answerers (one option per scored question, seeded, so runs repeat) are scored with the
precomputed `FastScorer`; the share of each profile is the balance figure the content is tuned
against (every profile between 5 % and 30 %).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from quiz.model import Quiz
from quiz.scoring import FastScorer, argmax_profile

BALANCE_MIN = 0.05
BALANCE_MAX = 0.30


@dataclass(frozen=True)
class Simulation:
    n: int
    seed: int
    counts: dict[str, int]  # profile id -> wins, in content order

    @property
    def shares(self) -> dict[str, float]:
        return {pid: (c / self.n if self.n else 0.0) for pid, c in self.counts.items()}

    def out_of_range(self, low: float = BALANCE_MIN, high: float = BALANCE_MAX) -> dict[str, float]:
        """Profiles whose share falls outside [low, high]."""
        return {pid: s for pid, s in self.shares.items() if not low <= s <= high}

    def to_dict(self, digits: int = 4) -> dict[str, object]:
        return {
            "n": self.n,
            "seed": self.seed,
            "profiles": {pid: round(s, digits) for pid, s in self.shares.items()},
        }


def simulate(
    quiz: Quiz,
    n: int = 100_000,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    chunk: int = 10_000,
) -> Simulation:
    """Score `n` random uniform answerers; `progress(done)` is called after each chunk."""
    scorer = FastScorer(quiz)
    rng = random.Random(seed)
    ids = scorer.profile_ids
    counts = dict.fromkeys(ids, 0)
    rows_per_question = scorer.contributions
    sizes = [len(rows) for rows in rows_per_question]
    done = 0
    while done < n:
        batch = min(chunk, n - done)
        for _ in range(batch):
            # Sum the per-profile contributions of one random option per question.
            rows = [rows_per_question[q][rng.randrange(k)] for q, k in enumerate(sizes)]
            totals = [sum(col) for col in zip(*rows, strict=True)]
            counts[ids[argmax_profile(totals)]] += 1
        done += batch
        if progress is not None:
            progress(done)
    return Simulation(n=n, seed=seed, counts=counts)


def estimated_seconds(
    quiz: Quiz, lang: str, words_per_minute: float = 200.0, seconds_per_tap: float = 3.0
) -> float:
    """A rough length of one complete run: reading every text once, plus one tap per answer.

    Reading ~200 words a minute on a phone is a little below the adult average for silent
    reading, allowing for B1 readers; multi-select questions count two taps and 'done',
    the place question ten seconds of typing.
    """
    words = 0
    for key in ("welcome", "consent"):
        words += len(quiz.t(lang, key).split())
    taps = 1.0  # consent
    for q in quiz.questions:
        words += len(q.text[lang].split())
        words += sum(len(o.title[lang].split()) for o in q.options)
        if q.kind == "multi":
            taps += 3
        elif q.kind in ("place", "number", "text"):
            taps += 10 / seconds_per_tap
        else:
            taps += 1
    # The result: the longest profile text a person could get.
    words += max(
        len(p.description[lang].split())
        + sum(len(s.split()) for s in (*p.strengths[lang], *p.roles[lang]))
        for p in quiz.profiles
    )
    return words / words_per_minute * 60 + taps * seconds_per_tap

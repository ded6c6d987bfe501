"""Balance: uniformly random answerers spread over all profiles (each 5-30 %), and every
profile is the outcome of some answer path."""

from __future__ import annotations

from bot.content import load_quiz
from quiz.scoring import best_answers_for, score
from quiz.simulate import BALANCE_MAX, BALANCE_MIN, simulate


def test_every_profile_gets_a_fair_share_of_random_answerers() -> None:
    quiz = load_quiz()
    sim = simulate(quiz, n=20_000, seed=1)
    assert set(sim.shares) == {p.id for p in quiz.profiles}
    assert sum(sim.counts.values()) == 20_000
    assert sim.out_of_range() == {}, sim.to_dict()
    for share in sim.shares.values():
        assert BALANCE_MIN <= share <= BALANCE_MAX


def test_every_profile_is_reachable() -> None:
    quiz = load_quiz()
    for profile in quiz.profiles:
        result = score(quiz, best_answers_for(quiz, profile.id), "en")
        assert result is not None and result.primary == profile.id


def test_simulation_is_seeded() -> None:
    quiz = load_quiz()
    assert simulate(quiz, n=3000, seed=4).counts == simulate(quiz, n=3000, seed=4).counts
    assert simulate(quiz, n=3000, seed=4).counts != simulate(quiz, n=3000, seed=5).counts


def test_progress_is_reported_per_chunk() -> None:
    seen: list[int] = []
    simulate(load_quiz(), n=2500, seed=0, progress=seen.append, chunk=1000)
    assert seen == [1000, 2000, 2500]


def test_out_of_range_flags_shares_outside_the_band() -> None:
    sim = simulate(load_quiz(), n=2000, seed=0)
    assert set(sim.out_of_range(low=0.5, high=0.9)) == set(sim.shares)

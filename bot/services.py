"""Wires the pipeline to whatever recommender and interpreter this installation has.

Each feature plugs in with one small function here; imports stay lazy so the CLI starts fast
and a missing optional feature simply leaves its hook empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.pipeline import Interpreter, Pipeline, Recommender


def build_recommender(settings: Settings) -> Recommender | None:
    """The vacancy recommender over the organisations/vacancies tables."""
    from bot.recommender import Recommender as VacancyRecommender

    return VacancyRecommender(settings)


def build_interpreter(settings: Settings) -> Interpreter | None:
    """The free-text interpreter (NLU); None lets the engine's built-in matching work alone."""
    from bot.nlu.service import build_interpreter as build_nlu_interpreter

    return build_nlu_interpreter(settings)


def build_pipeline(settings: Settings, *, defer_interpreter: bool = False) -> Pipeline:
    """The pipeline with every hook this installation has.

    `defer_interpreter` leaves the NLU hook empty (loading it takes seconds); `serve` fills it
    in the background with `attach_interpreter` so that the first answer comes fast.
    """
    from bot.content import load_quiz
    from bot.pipeline import Pipeline

    return Pipeline(
        settings,
        quiz=load_quiz(folder=settings.content_dir) if settings.content_dir else None,
        recommender=build_recommender(settings),
        interpreter=None if defer_interpreter else build_interpreter(settings),
    )


def attach_interpreter(pipeline: Pipeline, settings: Settings) -> None:
    pipeline.interpreter = build_interpreter(settings)

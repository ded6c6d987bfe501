"""The composition root: everything a running server needs, built once from the settings.

Routes reach it through one FastAPI dependency (`runtime`); nothing else holds process-wide
state except pure caches (the gazetteer's static tables, the loaded NLU model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request

if TYPE_CHECKING:
    from bot.campaigns import CampaignDirectory
    from bot.channels.base import Channel
    from bot.config import Settings
    from bot.later import LaterPlaces, LaterRecommender
    from bot.pipeline import Pipeline
    from bot.store.turns import TurnDatabase
    from quiz.model import Quiz


@dataclass
class Runtime:
    settings: Settings
    database: TurnDatabase
    quizzes: dict[str, Quiz]
    campaigns: CampaignDirectory
    pipeline: Pipeline
    gazetteer: LaterPlaces
    recommender: LaterRecommender
    channels: dict[str, Channel] = field(default_factory=dict)

    @property
    def quiz(self) -> Quiz:
        """The default quiz (the one new conversations get without a campaign's choice)."""
        return self.pipeline.quiz

    def warm(self) -> None:
        """Build what is built on first use (in a thread: it holds the GIL for a second)."""
        self.gazetteer.later.get()
        self.recommender.later.get()

    async def start(self) -> None:
        for channel in self.channels.values():
            await channel.start()

    async def stop(self) -> None:
        for channel in reversed(list(self.channels.values())):
            await channel.stop()
        await self.pipeline.close()


def build_runtime(
    settings: Settings, *, defer_interpreter: bool = False, channels: bool = True
) -> Runtime:
    """Settings -> database, quizzes, gazetteer, recommender, interpreter, campaigns, pipeline
    and the configured channels. `defer_interpreter` leaves NLU to `attach_interpreter` (it
    takes seconds to load; `serve` answers meanwhile with the built-in matching)."""
    from bot.campaigns import CampaignDirectory
    from bot.channels import registry
    from bot.content import load_quizzes
    from bot.later import LaterPlaces, LaterRecommender
    from bot.pipeline import Pipeline
    from bot.store.turns import TurnDatabase

    database = TurnDatabase(settings.database_url)
    quizzes = load_quizzes(settings.content_dir)
    texts = next(iter(quizzes.values()))

    def gazetteer_now() -> Any:
        from bot.geo.gazetteer import get_gazetteer

        return get_gazetteer()

    def recommender_now() -> Any:
        from bot.recommender import Recommender

        return Recommender(settings, texts=texts)

    # Built on first use or by Runtime.warm(): no first message needs them (bot.later).
    gazetteer = LaterPlaces(gazetteer_now)
    recommender = LaterRecommender(recommender_now)
    campaigns = CampaignDirectory(settings.database_url, database=database)
    pipeline = Pipeline(
        settings,
        quizzes=quizzes,
        recommender=recommender,
        interpreter=None if defer_interpreter else build_interpreter(settings),
        database=database,
        campaigns=campaigns,
        gazetteer=gazetteer,
    )
    runtime = Runtime(settings, database, quizzes, campaigns, pipeline, gazetteer, recommender)
    for spec in registry.configured(settings) if channels else []:
        runtime.channels[spec.name] = spec.build(runtime)
    return runtime


def build_interpreter(settings: Settings) -> Any:
    """The free-text interpreter (NLU); None lets the built-in matching work alone."""
    from bot.nlu.service import build_interpreter as build_nlu_interpreter

    return build_nlu_interpreter(settings)


def attach_interpreter(runtime: Runtime) -> None:
    runtime.pipeline.interpreter = build_interpreter(runtime.settings)


def runtime(request: Request) -> Runtime:
    """The FastAPI dependency through which routes get the runtime."""
    found: Runtime = request.app.state.runtime
    return found

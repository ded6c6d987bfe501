"""Parts of the runtime built on first use, or ahead of it by `warm()`.

A starting `serve --workers N` worker must answer "/start" within a second or two of a crash;
the gazetteer and the recommender import numpy and SQLAlchemy (over a second of CPU together)
and no first message needs them. The worker builds them in a thread just after it starts
serving (bot.app), so a person who reaches the place question or the result rarely waits.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from bot.understand import GeoMatchLike

T = TypeVar("T")


class Later(Generic[T]):
    """A value built once, by whichever thread asks first; the others wait for it."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._value = self._build()
        return value


class LaterPlaces:
    """The gazetteer (bot.understand.Places), built on first use."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self.later: Later[Any] = Later(build)

    def resolve(self, text: str, lang: str = "nl") -> GeoMatchLike | None:
        found: GeoMatchLike | None = self.later.get().resolve(text, lang)
        return found

    def find_in_text(self, text: str, lang: str = "nl") -> list[tuple[int, int, Any]]:
        found: list[tuple[int, int, Any]] = self.later.get().find_in_text(text, lang)
        return found

    def reverse(self, lat: float, lon: float, lang: str = "nl") -> GeoMatchLike:
        found: GeoMatchLike = self.later.get().reverse(lat, lon, lang)
        return found


class LaterRecommender:
    """The pipeline's recommender hook (bot.recommender.Recommender), built on first use in a
    thread so that the event loop keeps answering meanwhile."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self.later: Later[Any] = Later(build)

    async def __call__(
        self, query: dict[str, Any], offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        if self.later.built:
            recommender = self.later.get()
        else:
            recommender = await asyncio.to_thread(self.later.get)
        found: tuple[list[dict[str, Any]], bool] = await recommender(query, offset, limit)
        return found

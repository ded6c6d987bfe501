"""Parts built on first use are built once, also when threads and the loop ask together."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from bot.later import Later, LaterPlaces, LaterRecommender


def test_built_once_under_concurrent_first_use() -> None:
    builds: list[int] = []

    def build() -> dict[str, int]:
        builds.append(threading.get_ident())
        time.sleep(0.05)  # long enough for the other threads to arrive meanwhile
        return {"built": len(builds)}

    later = Later(build)
    results: list[dict[str, int]] = []
    threads = [threading.Thread(target=lambda: results.append(later.get())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and later.built
    assert all(r is results[0] for r in results)


async def test_recommender_is_built_off_the_loop() -> None:
    loop_thread = threading.get_ident()
    built_in: list[int] = []

    class Recommender:
        async def __call__(self, query: dict[str, Any], offset: int, limit: int) -> Any:
            return [{"id": query["id"], "offset": offset}], limit > 1

    def build() -> Recommender:
        built_in.append(threading.get_ident())
        return Recommender()

    hook = LaterRecommender(build)
    first, second = await asyncio.gather(hook({"id": 1}, 0, 2), hook({"id": 2}, 3, 1))
    assert first == ([{"id": 1, "offset": 0}], True)
    assert second == ([{"id": 2, "offset": 3}], False)
    assert built_in and built_in[0] != loop_thread and len(built_in) == 1


def test_places_resolve_through_the_gazetteer() -> None:
    from bot.geo.gazetteer import get_gazetteer

    places = LaterPlaces(get_gazetteer)
    assert not places.later.built
    match = places.resolve("Utrecht")
    assert match is not None and places.later.built
    assert places.reverse(match.lat, match.lon).place == match.place

"""Benchmarks: top 10 of 100 000 vacancies in process, and importing 100 000 rows.

Run (not part of the unit run; the file name keeps it out of default collection):

    .venv/bin/pytest tests/bench/bench_recommend.py -m bench -p no:randomly -q -s

Prints p50/p95/p99 of `quiz.ranking.recommend` over bot.recommender.Catalogue for 2 000
varied queries (random real PC4 locations, profiles, causes, hours, days, ages), wall-clock
and CPU time, and asserts the CPU-time p99 stays under 5 ms (wall-clock p99 equals it on an
idle machine; on a shared one it also measures waiting for a core). The import benchmark
times `orgs import` of a 100 000-row JSON file into the test database (SQLite, or Postgres
with VK_TEST_DATABASE_URL).
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.content import load_quiz
from bot.geo.gazetteer import get_gazetteer
from bot.orgs.demo import generate
from bot.recommender import Catalogue, prepare_query
from quiz.model import ACTIVITIES, CAUSES, DAYPARTS, WEEKDAYS
from quiz.ranking import Candidate, Query, recommend

N_VACANCIES = 100_000
N_QUERIES = 2_000
P99_BUDGET_MS = 5.0

pytestmark = pytest.mark.bench


def to_candidate(r: dict[str, Any]) -> Candidate:
    return Candidate(
        vacancy_id=r["vacancy_id"],
        organisation_id=r["organisation_id"],
        organisation=r["organisation_name"],
        title=r["title"],
        lat=r["lat"],
        lon=r["lon"],
        causes=tuple(r["causes"]),
        activities=tuple(r["activities"]),
        hours_min=r.get("hours_min"),
        hours_max=r.get("hours_max"),
        days=tuple(r.get("days") or ()),
        dayparts=tuple(r.get("dayparts") or ()),
        one_off=bool(r.get("one_off")),
        remote=bool(r.get("remote")),
        min_age=r.get("min_age"),
        vog_required=bool(r.get("vog_required")),
        description=r["description"],
        contact_email=r.get("contact_email"),
        url=r.get("url"),
        fictional=True,
        is_volunteer_centre=bool(r.get("is_volunteer_centre")),
        place=r.get("place"),
        municipality=r.get("municipality"),
    )


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    cands = [to_candidate(r) for r in generate(N_VACANCIES, seed=1)]
    cat = Catalogue(cands)
    gc.collect()
    gc.freeze()  # as bot.recommender.Recommender does after loading
    return cat


def queries(n: int, seed: int = 7) -> list[Query]:
    rnd = random.Random(seed)
    areas = get_gazetteer().areas
    out = []
    for _ in range(n):
        area = rnd.choice(areas)
        out.append(
            prepare_query(
                {
                    "lat": area.lat,
                    "lon": area.lon,
                    "radius_km": rnd.choice([5, 10, 10, 15, 25]),
                    "causes": rnd.sample(CAUSES, rnd.randint(0, 3)),
                    "activities": {a: rnd.randint(1, 3) for a in rnd.sample(ACTIVITIES, 3)},
                    "hours_per_week": rnd.choice([None, 1, 2, 4, 8]),
                    "age": rnd.choice([None, 15, 17, 30, 70]),
                    "days": rnd.sample(WEEKDAYS, rnd.randint(0, 3)),
                    "dayparts": rnd.sample(DAYPARTS, rnd.randint(0, 2)),
                    "commitment": rnd.choice([None, "one_off", "regular", "both"]),
                    "lang": rnd.choice(["nl", "en"]),
                }
            )
        )
    return out


def test_top10_of_100k_p99_under_5ms(catalogue: Catalogue, benchmark: Any) -> None:
    quiz = load_quiz()
    qs = queries(N_QUERIES)
    for q in qs[:50]:  # warm-up
        recommend(q, catalogue, quiz, 0, 10)
    wall: list[float] = []
    cpu: list[float] = []
    for q in qs:
        t0, c0 = time.perf_counter(), time.process_time()
        page = recommend(q, catalogue, quiz, 0, 10)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
        assert page.items
    wall_ms = sorted(x * 1000 for x in wall)
    cpu_ms = sorted(x * 1000 for x in cpu)

    def pct(xs: list[float], p: float) -> float:
        return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]

    print(
        f"\nrecommend top 10 of {catalogue.size} vacancies, {N_QUERIES} queries: "
        f"wall p50 {pct(wall_ms, 0.5):.2f} ms, p95 {pct(wall_ms, 0.95):.2f} ms, "
        f"p99 {pct(wall_ms, 0.99):.2f} ms, max {wall_ms[-1]:.2f} ms, "
        f"mean {statistics.fmean(wall_ms):.2f} ms; "
        f"cpu p99 {pct(cpu_ms, 0.99):.2f} ms"
    )
    it = iter(qs * 100)
    benchmark(lambda: recommend(next(it), catalogue, quiz, 0, 10))
    # CPU time is what the code costs; wall time also counts waiting for a core, which on a
    # shared, overloaded machine says more about the neighbours than about this code.
    assert pct(cpu_ms, 0.99) < P99_BUDGET_MS


def test_import_100k_rows(settings: Settings, tmp_path: Path, benchmark: Any) -> None:
    from bot.orgs.importer import import_file

    path = tmp_path / "vacancies.json"
    path.write_text(json.dumps(list(generate(N_VACANCIES, seed=2))), encoding="utf-8")
    stages: dict[str, float] = {}
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        stages[stage] = time.perf_counter() - start

    result = benchmark.pedantic(
        import_file, args=(settings.database_url, path, progress), rounds=1, iterations=1
    )
    print(f"\nimported {result.vacancies} rows; stage done at (s): {stages}")
    assert result.vacancies == N_VACANCIES + len(get_gazetteer().municipalities)

"""quiz.ranking: hard limits, soft fit, diversity, fallbacks and reasons (pure, no I/O)."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from bot.content import load_quiz
from quiz.model import ACTIVITIES, CAUSES, DAYPARTS, OFFERS, WEEKDAYS
from quiz.ranking import (
    DEFAULT_RADIUS_KM,
    Candidate,
    ListSource,
    Query,
    format_km,
    passes_hard_limits,
    radius_steps,
    recommend,
)

HOME = (52.0907, 5.1214)  # Utrecht
TEXTS = load_quiz()  # the reason phrases and labels come from the content


def at_km(north_km: float, east_km: float = 0.0) -> tuple[float, float]:
    """A point this many km north/east of HOME."""
    lat = HOME[0] + north_km / 111.195
    lon = HOME[1] + east_km / (111.195 * math.cos(math.radians(HOME[0])))
    return lat, lon


def vac(vid: str, km: float = 1.0, org: str | None = None, **kw: object) -> Candidate:
    lat, lon = at_km(km)
    base = Candidate(
        vacancy_id=vid,
        organisation_id=org or f"org-{vid}",
        organisation=f"Organisatie {org or vid}",
        title=f"Vacature {vid}",
        lat=lat,
        lon=lon,
        causes=("neighbourhood",),
        activities=("hands_on",),
        hours_min=1,
        hours_max=2,
        place="Utrecht",
        municipality="Utrecht",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def query(**kw: object) -> dict[str, object]:
    return {"lat": HOME[0], "lon": HOME[1], **kw}


def ids(items: list[dict[str, object]]) -> list[object]:
    return [i["vacancy_id"] for i in items]


def random_candidates(rnd: random.Random, n: int) -> list[Candidate]:
    out = []
    for i in range(n):
        km = rnd.uniform(0, 70)
        angle = rnd.uniform(0, 2 * math.pi)
        lat, lon = at_km(km * math.cos(angle), km * math.sin(angle))
        lo = rnd.choice([None, 1, 2, 4, 8])
        out.append(
            Candidate(
                vacancy_id=f"v{i:04d}",
                organisation_id=f"o{rnd.randint(0, n // 3)}",
                organisation="Org",
                title="T",
                lat=lat,
                lon=lon,
                causes=tuple(rnd.sample(CAUSES, rnd.randint(0, 2))),
                activities=tuple(rnd.sample(ACTIVITIES, rnd.randint(0, 3))),
                hours_min=lo,
                hours_max=None if lo is None else lo * 2,
                days=tuple(rnd.sample(WEEKDAYS, rnd.randint(0, 3))),
                dayparts=tuple(rnd.sample(DAYPARTS, rnd.randint(0, 2))),
                one_off=rnd.random() < 0.2,
                remote=rnd.random() < 0.05,
                min_age=rnd.choice([None, 12, 16, 18, 21]),
                vog_required=rnd.random() < 0.3,
                is_volunteer_centre=rnd.random() < 0.01,
                municipality=rnd.choice(["Utrecht", "Zeist", "Houten"]),
                offers=tuple(rnd.sample(OFFERS, rnd.randint(0, 3))),
            )
        )
    return out


def random_query(rnd: random.Random) -> dict[str, object]:
    return query(
        radius_km=rnd.choice([2, 5, 10, 25]),
        age=rnd.choice([None, 14, 17, 30, 70]),
        hours_per_week=rnd.choice([None, 1, 2, 4, 16]),
        causes=rnd.sample(CAUSES, rnd.randint(0, 3)),
        activities={a: rnd.randint(1, 3) for a in rnd.sample(ACTIVITIES, rnd.randint(0, 3))},
        days=rnd.sample(WEEKDAYS, rnd.randint(0, 3)),
        dayparts=rnd.sample(DAYPARTS, rnd.randint(0, 2)),
        commitment=rnd.choice([None, "one_off", "regular", "both"]),
        offers=rnd.sample(OFFERS, rnd.randint(0, 2)),
        max_hours=rnd.choice([None, None, 4]),
    )


# ----------------------------------------------------------------------------- hard limits


@pytest.mark.parametrize("seed", range(12))
def test_hard_limits_are_never_broken(seed: int) -> None:
    rnd = random.Random(seed)
    cands = random_candidates(rnd, 400)
    by_id = {c.vacancy_id: c for c in cands}
    source = ListSource(cands)
    for _ in range(5):
        qd = random_query(rnd)
        q = Query.from_dict(qd)
        page = recommend(qd, source, offset=0, limit=25)
        assert page.items, "never an empty answer while there is a centre or any work"
        for item in page.items:
            c = by_id[str(item["vacancy_id"])]
            if item["fallback"] == "centre":
                assert c.is_volunteer_centre
                continue
            assert not c.is_volunteer_centre
            # age and hours hold at every fallback level (hours: weekly work only)
            assert q.age is None or c.min_age is None or c.min_age <= q.age
            assert q.age is None or q.age >= 16 or c.min_age is not None
            assert q.max_hours is None or c.hours_min is None or c.hours_min <= q.max_hours
            assert (
                c.one_off
                or q.hours_per_week is None
                or c.hours_min is None
                or (c.hours_min <= q.hours_per_week)
            )
            if item["fallback"] is None:
                assert passes_hard_limits(q, c, item["distance_km"] and float(item["distance_km"]))
                assert not c.remote
                assert float(item["distance_km"]) <= q.radius_km + 0.05  # type: ignore[arg-type]
            elif item["fallback"] == "remote":
                assert c.remote


def test_local_results_stay_inside_the_radius_when_there_are_enough() -> None:
    cands = [vac(f"n{i}", km=0.5 + i, org=f"o{i}") for i in range(8)]
    cands += [vac("far", km=30)]
    page = recommend(query(radius_km=5), ListSource(cands), limit=10)
    assert "far" not in ids(page.items)
    assert all(float(i["distance_km"]) <= 5 for i in page.items)  # type: ignore[arg-type]


def test_too_young_or_too_little_time_is_filtered() -> None:
    cands = [
        vac("adult", km=1, min_age=18),
        vac("long", km=1.5, hours_min=8),
        vac("ok", km=2),
    ]
    page = recommend(query(age=16, hours_per_week=2), ListSource(cands), limit=10)
    assert ids(page.items) == ["ok"]


def test_one_off_work_is_not_filtered_by_weekly_hours() -> None:
    cands = [
        vac("day", km=1, one_off=True, hours_min=4, hours_max=4),
        vac("weekly", km=1.5, hours_min=4, hours_max=4),
    ]
    page = recommend(query(hours_per_week=1, commitment="one_off"), ListSource(cands), limit=10)
    assert ids(page.items) == ["day"]


def test_a_one_off_helper_with_one_hour_a_week_gets_a_four_hour_one_off_task() -> None:
    """Through the engine's own query: "Eén keer", and an hour a week at most."""
    cands = [
        vac("festival", km=2, one_off=True, hours_min=4, hours_max=4),
        vac("weekly", km=1, hours_min=2, hours_max=3),
    ]
    page = recommend(
        query(commitment="one_off", hours_per_week=1), ListSource(cands), TEXTS, limit=10
    )
    assert ids(page.items) == ["festival"]
    assert "eenmalig" in page.items[0]["reasons"]  # type: ignore[operator]


def test_little_time_shows_short_and_one_off_work_first() -> None:
    cands = [
        vac("weekly-long", km=0.5, hours_min=1, hours_max=4),
        vac("one-off", km=1.5, one_off=True, hours_min=3, hours_max=4),
        vac("weekly-short", km=1.0, hours_min=1, hours_max=1),
        vac("too-long", km=0.2, hours_min=2, hours_max=4),
    ]
    little = recommend(query(commitment="regular", hours_per_week=1), ListSource(cands), limit=10)
    assert ids(little.items) == ["weekly-short", "one-off", "weekly-long"]
    # With more time a weekly helper does not get the one-off task first.
    more = recommend(query(commitment="regular", hours_per_week=4), ListSource(cands), limit=10)
    assert ids(more.items)[-1] == "one-off"


def test_a_child_gets_only_work_that_allows_them_and_a_few_hours() -> None:
    cands = [
        vac("unknown-age", km=0.5),
        vac("adults", km=0.6, min_age=18),
        vac("long-day", km=0.7, min_age=12, one_off=True, hours_min=6, hours_max=8),
        vac("cleanup", km=1.0, min_age=12, one_off=True, hours_min=2, hours_max=3),
        vac("dogs", km=1.5, min_age=14, hours_min=1, hours_max=2),
    ]
    page = recommend(query(age=14, max_hours=4), ListSource(cands), limit=10)
    assert sorted(ids(page.items)) == ["cleanup", "dogs"]  # type: ignore[type-var]
    teen = recommend(query(age=16), ListSource(cands), limit=10)
    assert "adults" not in ids(teen.items) and "unknown-age" in ids(teen.items)


def test_what_the_work_offers_meets_the_motive() -> None:
    cands = [
        vac("plain", km=1.0),
        vac("career", km=1.5, offers=("work_experience", "learn")),
    ]
    page = recommend(query(offers=["work_experience"]), ListSource(cands), TEXTS, limit=10)
    assert ids(page.items)[0] == "career"
    assert "je doet er werkervaring op" in page.items[0]["reasons"]  # type: ignore[operator]


def test_an_adult_is_told_of_a_higher_minimum_age() -> None:
    page = recommend(query(), ListSource([vac("hospice", min_age=21)]), TEXTS, limit=10)
    assert "vanaf 21 jaar" in page.items[0]["reasons"]  # type: ignore[operator]


def test_vog_is_shown_not_hidden() -> None:
    cands = [vac("vog", km=1, vog_required=True), vac("free", km=2)]
    page = recommend(query(), ListSource(cands), limit=10)
    assert ids(page.items) == ["vog", "free"]
    assert page.items[0]["vog_required"] is True


# ----------------------------------------------------------------------------- soft fit


def test_cause_match_ranks_ahead_at_similar_distance() -> None:
    cands = [
        vac("plain", km=2.0, causes=("sport",)),
        vac("match", km=2.6, causes=("elderly",)),
    ]
    page = recommend(query(causes=["elderly"]), ListSource(cands), limit=2)
    assert ids(page.items) == ["match", "plain"]
    assert float(page.items[0]["score"]) > float(page.items[1]["score"])  # type: ignore[arg-type]


def test_activity_match_ranks_ahead_at_similar_distance() -> None:
    cands = [
        vac("plain", km=2.0, activities=("digital",)),
        vac("match", km=2.6, activities=("social", "hands_on")),
    ]
    page = recommend(query(activities={"social": 3, "caring": 1}), ListSource(cands), limit=2)
    assert ids(page.items) == ["match", "plain"]


def test_distance_decides_when_fit_is_equal() -> None:
    cands = [vac("far", km=6), vac("near", km=1), vac("mid", km=3)]
    assert ids(recommend(query(), ListSource(cands), limit=3).items) == ["near", "mid", "far"]


def test_days_and_commitment_count() -> None:
    cands = [
        vac("weekday", km=1, days=("monday",), dayparts=("evening",)),
        vac("saturday", km=1.2, days=("saturday",), dayparts=("morning",)),
        vac("oneoff", km=1.1, one_off=True, days=("monday",), dayparts=("evening",)),
    ]
    q = query(days=["saturday"], dayparts=["morning"], commitment="regular")
    assert ids(recommend(q, ListSource(cands), limit=3).items)[0] == "saturday"
    q = query(commitment="one_off")
    assert ids(recommend(q, ListSource(cands), limit=3).items)[0] == "oneoff"


# ----------------------------------------------------------------------------- diversity


def test_at_most_one_per_organisation_in_the_first_five() -> None:
    cands = [vac(f"big{i}", km=0.5 + i * 0.1, org="big") for i in range(10)]
    cands += [vac(f"small{i}", km=3 + i, org=f"small{i}") for i in range(6)]
    items = recommend(query(), ListSource(cands), limit=10).items
    first_five = [i["organisation_id"] for i in items[:5]]
    assert len(set(first_five)) == 5
    assert items[0]["vacancy_id"] == "big0"
    # the rest of the big organisation follows afterwards, none lost
    assert sum(1 for i in items if i["organisation_id"] == "big") >= 5


def test_not_all_one_cause_unless_chosen() -> None:
    cands = [vac(f"s{i}", km=0.5 + i * 0.1, causes=("sport",)) for i in range(8)]
    cands += [vac(f"c{i}", km=4 + i, causes=("culture",)) for i in range(3)]
    items = recommend(query(), ListSource(cands), limit=5).items
    assert sum(1 for i in items if str(i["vacancy_id"]).startswith("s")) == 3
    chosen = recommend(query(causes=["sport"]), ListSource(cands), limit=5).items
    assert all(str(i["vacancy_id"]).startswith("s") for i in chosen)


# ----------------------------------------------------------------------------- fallbacks


def centre(km: float = 3.0, municipality: str = "Utrecht") -> Candidate:
    return vac(
        f"centre-{municipality}",
        km=km,
        title="Persoonlijk advies",
        is_volunteer_centre=True,
        causes=("other",),
        activities=(),
        municipality=municipality,
    )


def test_radius_widens_step_by_step() -> None:
    assert radius_steps(10) == [10, 20, 40, 50]
    assert radius_steps(DEFAULT_RADIUS_KM)[0] == DEFAULT_RADIUS_KM
    cands = [vac("at15", km=15), vac("at35", km=35), vac("at60", km=60)]
    items = recommend(query(radius_km=10), ListSource(cands), TEXTS, limit=3).items
    assert ids(items) == ["at15", "at35"]  # 60 km is beyond the widest ring
    assert all(i["fallback"] == "wider" for i in items)
    assert any("dichterbij" in r for r in items[0]["reasons"])  # type: ignore[union-attr]


def test_remote_then_volunteer_centre() -> None:
    cands = [vac("online", km=200, remote=True, activities=("digital",)), centre()]
    items = recommend(query(), ListSource(cands), TEXTS, limit=3).items
    assert ids(items) == ["online", "centre-Utrecht"]
    assert [i["fallback"] for i in items] == ["remote", "centre"]
    assert items[0]["distance_km"] is None
    assert "vanuit huis" in items[0]["reasons"]  # type: ignore[operator]


def test_the_own_municipality_centre_is_preferred() -> None:
    cands = [centre(km=1, municipality="Zeist"), centre(km=8, municipality="Utrecht")]
    items = recommend(query(municipality="Utrecht"), ListSource(cands), limit=3).items
    assert ids(items) == ["centre-Utrecht"]
    items = recommend(query(), ListSource(cands), limit=3).items
    assert ids(items) == ["centre-Zeist"]  # unknown municipality: the nearest


def test_never_empty_when_only_a_centre_exists() -> None:
    page = recommend(query(age=12, hours_per_week=1), ListSource([centre()]), limit=3)
    assert ids(page.items) == ["centre-Utrecht"]
    assert page.more_available is False


def test_centre_comes_after_everything_else() -> None:
    cands = [vac(f"v{i}", km=i + 1, org=f"o{i}") for i in range(4)] + [centre()]
    first = recommend(query(), ListSource(cands), limit=3)
    assert "centre-Utrecht" not in ids(first.items) and first.more_available
    rest = recommend(query(), ListSource(cands), offset=3, limit=3)
    assert ids(rest.items) == ["v3", "centre-Utrecht"] and not rest.more_available


def test_without_location_only_remote_work() -> None:
    cands = [vac("local", km=1), vac("online", km=1, remote=True), centre()]
    items = recommend({"causes": ["sport"]}, ListSource(cands), limit=3).items
    assert ids(items) == ["online"]


# ----------------------------------------------------------------------------- paging


def test_pages_do_not_repeat_and_say_when_more_exist() -> None:
    rnd = random.Random(3)
    source = ListSource(random_candidates(rnd, 300))
    qd = query(radius_km=25)
    seen: list[object] = []
    offset = 0
    while True:
        page = recommend(qd, source, offset=offset, limit=3)
        seen += ids(page.items)
        if not page.more_available:
            break
        offset += 3
        assert offset < 400
    assert len(seen) == len(set(seen))
    full = recommend(qd, source, offset=0, limit=len(seen))
    assert ids(full.items) == seen


# ----------------------------------------------------------------------------- reasons


def test_reasons_in_dutch_and_english_from_the_content() -> None:
    c = vac(
        "r",
        km=4,
        causes=("elderly",),
        activities=("social",),
        days=("saturday",),
        dayparts=("morning",),
        hours_min=2,
        hours_max=4,
    )
    q = query(causes=["elderly"], activities={"social": 3}, days=["saturday"])
    reasons = recommend(q, ListSource([c]), TEXTS, limit=1).items[0]["reasons"]
    assert reasons == [
        "4 km bij je vandaan",
        f"past bij jouw kracht: {TEXTS.label('nl', 'social')}",
        f"voor {TEXTS.label('nl', 'elderly')}",
        TEXTS.t(
            "nl",
            "reason_when",
            day=TEXTS.label("nl", "saturday"),
            daypart=TEXTS.label("nl", "morning"),
        ),
        "2-4 uur per week",
    ]
    en = recommend({**q, "lang": "en"}, ListSource([c]), TEXTS, limit=1).items[0]["reasons"]
    assert en[0] == "4 km from you" and en[-1] == "2-4 hours a week"


def test_pure_ranking_without_content_says_no_reasons() -> None:
    items = recommend(query(), ListSource([vac("r", km=4)]), limit=1).items
    assert ids(items) == ["r"] and items[0]["reasons"] == []


def test_format_km() -> None:
    assert format_km(4.0) == "4"
    assert format_km(2.46) == "2.5"
    assert format_km(12.4) == "12"
    assert format_km(2.46, "nl") == "2,5"
    assert format_km(10.0, "nl") == "10"


def test_query_parsing_is_tolerant() -> None:
    q = Query.from_dict(
        {
            "lat": "52.1",
            "lon": 5.1,
            "radius_km": -3,
            "causes": ["sport", "nonsense", "sport"],
            "activities": ["social"],
            "days": "saturday",
            "age": True,
            "commitment": "sometimes",
        }
    )
    assert q.lat == 52.1 and q.radius_km == DEFAULT_RADIUS_KM
    assert q.causes == ("sport",) and q.activities == {"social": 1.0}
    assert q.days == ("saturday",) and q.age is None and q.commitment is None

"""The gazetteer on the shipped table: postcodes, places, aliases, typos, free text."""

from __future__ import annotations

import pytest

from bot.geo.distance import haversine_km
from bot.geo.gazetteer import GeoMatch, get_gazetteer


@pytest.fixture(scope="module")
def gaz():  # type: ignore[no-untyped-def]
    return get_gazetteer()


@pytest.mark.parametrize("text", ["3511 AB", "3511ab", "3511AB", "3511", " 3511 ab ", "NL-3511 AB"])
def test_postcodes_resolve_to_the_pc4_centroid(gaz, text: str) -> None:
    match = gaz.resolve(text)
    assert match is not None
    assert match.place == "Utrecht"
    assert match.municipality == "Utrecht"
    assert match.province == "Utrecht"
    assert match.kind in ("pc4", "pc6")
    assert match.postcode in ("3511", "3511AB")
    area = gaz.postcode_area("3511")
    assert (match.lat, match.lon) == (area.lat, area.lon)


def test_pc6_is_validated_with_stdnum(gaz) -> None:
    assert gaz.resolve("3511 AB").postcode == "3511AB"
    # SA, SD and SS are never issued: the letters are not a valid PC6.
    assert gaz.resolve("3511 SS") is None or gaz.resolve("3511 SS").postcode != "3511SS"
    assert gaz.resolve("0511 AB") is None


def test_unknown_pc4_falls_back_to_a_close_one_and_says_so(gaz) -> None:
    match = gaz.resolve("1000")  # PO boxes, no area of its own
    assert match is not None and match.place == "Amsterdam"
    assert match.note and "1000" in match.note


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("Utrecht", "Utrecht"),
        ("utrecht", "Utrecht"),
        ("AMSTERDAM", "Amsterdam"),
        ("Leeuwarden", "Leeuwarden"),
        ("Súdwest-Fryslân", "Súdwest-Fryslân"),
        ("sudwest fryslan", "Súdwest-Fryslân"),
        ("Sint Annaparochie", "St.-Annaparochie"),
        ("Westerkwartier", "Westerkwartier"),
    ],
)
def test_places_and_municipalities_ignore_case_and_accents(gaz, text: str, place: str) -> None:
    match = gaz.resolve(text)
    assert match is not None and match.place == place


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("Den Bosch", "'s-Hertogenbosch"),
        ("'s-Hertogenbosch", "'s-Hertogenbosch"),
        ("’s-Hertogenbosch", "'s-Hertogenbosch"),
        ("Den Haag", "'s-Gravenhage"),
        ("The Hague", "'s-Gravenhage"),
        ("A'dam", "Amsterdam"),
        ("Mokum", "Amsterdam"),
        ("Ljouwert", "Leeuwarden"),
    ],
)
def test_aliases(gaz, text: str, place: str) -> None:
    match = gaz.resolve(text)
    assert match is not None and match.place == place and match.note is None


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("Amersfort", "Amersfoort"),
        ("Utreg", "Utrecht"),
        ("Rotterdm", "Rotterdam"),
        ("Zwole", "Zwolle"),
        ("Apeldoorm", "Apeldoorn"),
    ],
)
def test_typos_resolve_and_say_what_was_assumed(gaz, text: str, place: str) -> None:
    match = gaz.resolve(text)
    assert match is not None and match.place == place and match.kind == "place"
    assert match.note and place in match.note


@pytest.mark.parametrize("text", ["xyzzy", "qwerty", "asdfgh", "Nergenshuizen", "", "   ", "12"])
def test_nonsense_does_not_resolve(gaz, text: str) -> None:
    assert gaz.resolve(text) is None


def test_suggestions_for_near_misses(gaz) -> None:
    assert gaz.suggest("qwerty")[:1] == ["Weert"]
    assert "Amersfoort" in gaz.suggest("Amersfort")
    assert len(gaz.suggest("Amersfort", limit=2)) <= 2
    assert gaz.suggest("") == []


def test_ambiguous_names_prefer_the_most_populous_and_say_so(gaz) -> None:
    match = gaz.resolve("Hoorn")
    assert match is not None
    assert match.municipality == "Hoorn"  # not the village on Terschelling
    assert match.note and "Hoorn" in match.note
    en = gaz.resolve("Hoorn", lang="en")
    assert en is not None and en.note and "more than one place" in en.note


def test_filler_words_around_a_place(gaz) -> None:
    match = gaz.resolve("ik woon in Zwolle")
    assert match is not None and match.place == "Zwolle"
    match = gaz.resolve("Ik woon in Groningen, 9711 AB")
    assert match is not None and match.postcode == "9711AB"


def test_reverse_keeps_the_point_and_names_the_nearest_area(gaz) -> None:
    match = gaz.reverse(52.0907, 5.1214)
    assert match.kind == "location"
    assert match.place == "Utrecht" and match.postcode is not None
    assert (match.lat, match.lon) == (52.0907, 5.1214)
    paris = gaz.reverse(48.8566, 2.3522)
    assert paris.note  # far outside the country: says so and snaps to the border
    assert haversine_km(paris.lat, paris.lon, 51.3, 3.5) < 60


def test_find_in_text_gives_offsets(gaz) -> None:
    text = "Ik woon in Den Bosch en werk in Utrecht, postcode 3511 AB."
    found = gaz.find_in_text(text)
    assert [(text[s:e], m.place) for s, e, m in found] == [
        ("Den Bosch", "'s-Hertogenbosch"),
        ("Utrecht", "Utrecht"),
        ("3511 AB", "Utrecht"),
    ]
    assert found[2][2].postcode == "3511AB"


@pytest.mark.parametrize(
    "text",
    [
        "ik ben best handig",
        "Een uur per week",
        "2 uur per week, 2000 euro",
        "Ik heet Adam",
        "het is heel leuk",
    ],
)
def test_find_in_text_ignores_ordinary_words_and_numbers(gaz, text: str) -> None:
    assert gaz.find_in_text(text) == []


def test_find_in_text_accepts_capitalised_word_like_places(gaz) -> None:
    found = gaz.find_in_text("Ik woon in Best")
    assert [m.place for _, _, m in found] == ["Best"]
    found = gaz.find_in_text("ik woon in a'dam")
    assert [m.place for _, _, m in found] == ["Amsterdam"]


def test_to_value_is_the_engine_value(gaz) -> None:
    value = gaz.resolve("3511").to_value()
    assert set(value) == {"place", "lat", "lon", "postcode", "municipality", "province"}
    assert value["postcode"] == "3511"
    assert isinstance(gaz.resolve("Utrecht"), GeoMatch)


def test_get_gazetteer_is_cached() -> None:
    assert get_gazetteer() is get_gazetteer()

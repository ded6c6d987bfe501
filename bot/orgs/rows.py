"""One import row -> a validated organisation + vacancy, or the reasons it is wrong.

The import contract (ARCHITECTURE.md): one row per vacancy, organisation columns repeated;
list fields are ";"-separated ids in CSV (JSON may also use arrays); unknown columns are
ignored. Optional extra columns: municipality, is_volunteer_centre, fictional,
allowed_origins (";"-separated origins for the web widget).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from stdnum.nl import postcode as nl_postcode

from bot.geo.gazetteer import GeoMatch
from quiz.model import ACTIVITIES, CAUSES, DAYPARTS, WEEKDAYS
from quiz.model import OFFERS as QUIZ_OFFERS

REQUIRED = ("vacancy_id", "organisation_id", "organisation_name", "title")
COLUMNS = (
    "vacancy_id",
    "organisation_id",
    "organisation_name",
    "title",
    "description",
    "causes",
    "activities",
    "postcode",
    "place",
    "lat",
    "lon",
    "hours_min",
    "hours_max",
    "days",
    "dayparts",
    "one_off",
    "remote",
    "min_age",
    "vog_required",
    "contact_email",
    "url",
)
OPTIONAL_COLUMNS = ("offers", "publish_end", "max_open_leads")
# A vacancy's own fields (the columns after the organisation's), as organisations edit them.
VACANCY_FIELDS = (*COLUMNS[COLUMNS.index("title") :], *OPTIONAL_COLUMNS)
EXTRA_COLUMNS = (
    "municipality",
    "is_volunteer_centre",
    "fictional",
    "allowed_origins",
    "organisation_url",  # the organisation's website, when it differs from the vacancy's url
)
# Set by the feed importers (bot/orgs/odi.py, bot/orgs/feeds.py), not by people.
PROVENANCE_COLUMNS = ("feed_id", "external_id", "unmapped", "modified")
# What the work gives a volunteer (ARCHITECTURE: the import's optional `offers`): the ids the
# quiz matches against a person's motive.
OFFERS: tuple[str, ...] = QUIZ_OFFERS

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$", re.IGNORECASE)
_TRUE = {"true", "1", "yes", "y", "ja", "j", "waar", "x"}
_FALSE = {"false", "0", "no", "n", "nee", "onwaar", ""}
# Roughly the Netherlands (with the Wadden and a margin); outside is a typo or swapped lat/lon.
LAT_RANGE = (50.6, 53.7)
LON_RANGE = (3.2, 7.3)


class GeoLookup(Protocol):
    """What rows need from the gazetteer (bot.geo.gazetteer.Gazetteer satisfies it)."""

    def resolve(self, text: str, lang: str = "nl") -> GeoMatch | None: ...

    def reverse(self, lat: float, lon: float, lang: str = "nl") -> GeoMatch: ...


@dataclass
class OrgRow:
    id: str
    name: str
    contact_email: str | None
    url: str | None
    place: str | None
    municipality: str | None
    allowed_origins: list[str]
    is_volunteer_centre: bool
    fictional: bool


@dataclass
class VacancyRow:
    id: str
    organisation_id: str
    title: str
    description: str
    causes: list[str]
    activities: list[str]
    postcode: str | None
    place: str | None
    municipality: str | None
    lat: float | None
    lon: float | None
    hours_min: float | None
    hours_max: float | None
    days: list[str]
    dayparts: list[str]
    one_off: bool
    remote: bool
    min_age: int | None
    vog_required: bool
    contact_email: str | None
    url: str | None
    offers: list[str] = field(default_factory=list)
    publish_end: date | None = None
    max_open_leads: int | None = None
    feed_id: str | None = None
    external_id: str | None = None
    unmapped: dict[str, Any] | None = None
    modified_at: datetime | None = None


@dataclass
class Parsed:
    org: OrgRow | None = None
    vacancy: VacancyRow | None = None
    errors: list[str] = field(default_factory=list)


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _Row:
    """Typed field access that collects errors instead of raising."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
        self.errors: list[str] = []

    def text(self, key: str, max_len: int, required: bool = False) -> str | None:
        value = _str(self.raw.get(key))
        if not value:
            if required:
                self.errors.append(f"{key} is missing")
            return None
        if len(value) > max_len:
            self.errors.append(f"{key} is longer than {max_len} characters")
            return None
        return value

    def ident(self, key: str) -> str | None:
        value = self.text(key, 64, required=True)
        if value is not None and not _ID.match(value):
            self.errors.append(
                f"{key} {value!r} may only hold letters, digits and . _ : - (at most 64)"
            )
            return None
        return value

    def number(self, key: str, lo: float, hi: float) -> float | None:
        value = self.raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            self.errors.append(f"{key} must be a number, got {value!r}")
            return None
        try:
            out = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else value
            out = float(out)
        except (TypeError, ValueError):
            self.errors.append(f"{key} must be a number, got {value!r}")
            return None
        if not math.isfinite(out) or not lo <= out <= hi:
            self.errors.append(f"{key} must be between {lo:g} and {hi:g}, got {out:g}")
            return None
        return out

    def flag(self, key: str) -> bool:
        value = self.raw.get(key)
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        text = _str(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        self.errors.append(f"{key} must be true or false, got {value!r}")
        return False

    def day(self, key: str) -> date | None:
        value = self.raw.get(key)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = _str(value)
        if not text:
            return None
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            self.errors.append(f"{key} must be a date like 2026-12-31, got {value!r}")
            return None

    def moment(self, key: str) -> datetime | None:
        value = self.raw.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        text = _str(value)
        if not text:
            return None
        try:
            out = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.errors.append(f"{key} must be a date or date-time (ISO 8601), got {value!r}")
            return None
        return out if out.tzinfo else out.replace(tzinfo=UTC)

    def mapping(self, key: str) -> dict[str, Any] | None:
        value = self.raw.get(key)
        if isinstance(value, str) and value.strip():
            import json

            try:
                value = json.loads(value)
            except ValueError:
                self.errors.append(f"{key} must be a JSON object")
                return None
        if value is None or value == "" or value == {}:
            return None
        if not isinstance(value, dict):
            self.errors.append(f"{key} must be a JSON object")
            return None
        return value

    def ids(self, key: str, allowed: Sequence[str]) -> list[str]:
        value = self.raw.get(key)
        items: list[str]
        if value is None:
            items = []
        elif isinstance(value, list):
            items = [_str(v) for v in value]
        else:
            items = [p.strip() for p in re.split(r"[;|]", _str(value))]
        out: list[str] = []
        for item in (i.lower() for i in items if i):
            if item not in allowed:
                self.errors.append(f"unknown {key} id {item!r} (known: {', '.join(allowed)})")
            elif item not in out:
                out.append(item)
        return out

    def origins(self, key: str) -> list[str]:
        value = self.raw.get(key)
        items = value if isinstance(value, list) else re.split(r"[;\s]+", _str(value))
        out: list[str] = []
        for item in (_str(i).rstrip("/") for i in items):
            if not item:
                continue
            if not _ORIGIN.match(item):
                self.errors.append(f"{key}: {item!r} is not an origin like https://example.nl")
            elif item.lower() not in out:
                out.append(item.lower())
        return out


def parse_row(raw: Mapping[str, Any], geo: GeoLookup) -> Parsed:
    """Validate one row; geocode it from postcode/place when lat/lon are absent."""
    r = _Row(raw)
    vid = r.ident("vacancy_id")
    oid = r.ident("organisation_id")
    oname = r.text("organisation_name", 200, required=True)
    title = r.text("title", 200, required=True)
    description = r.text("description", 5000) or ""
    causes = r.ids("causes", CAUSES)
    activities = r.ids("activities", ACTIVITIES)
    days = r.ids("days", WEEKDAYS)
    dayparts = r.ids("dayparts", DAYPARTS)
    one_off = r.flag("one_off")
    remote = r.flag("remote")
    vog = r.flag("vog_required")
    centre = r.flag("is_volunteer_centre")
    fictional = r.flag("fictional")
    hours_min = r.number("hours_min", 0, 80)
    hours_max = r.number("hours_max", 0, 80)
    if hours_min is not None and hours_max is not None and hours_min > hours_max:
        r.errors.append(f"hours_min ({hours_min:g}) is more than hours_max ({hours_max:g})")
    age = r.number("min_age", 0, 120)
    if age is not None and not float(age).is_integer():
        r.errors.append(f"min_age must be a whole number, got {age:g}")
    email = r.text("contact_email", 254)
    if email is not None and not _EMAIL.match(email):
        r.errors.append(f"contact_email {email!r} is not an e-mail address")
        email = None
    url = r.text("url", 500)
    if url is not None and not _URL.match(url):
        r.errors.append(f"url {url!r} must start with http:// or https://")
        url = None
    origins = r.origins("allowed_origins")
    org_url = r.text("organisation_url", 500)
    if org_url is not None and not _URL.match(org_url):
        r.errors.append(f"organisation_url {org_url!r} must start with http:// or https://")
    offers = r.ids("offers", OFFERS)
    publish_end = r.day("publish_end")
    max_leads = r.number("max_open_leads", 0, 100_000)
    if max_leads is not None and not float(max_leads).is_integer():
        r.errors.append(f"max_open_leads must be a whole number, got {max_leads:g}")
    feed_id = r.text("feed_id", 64)
    external_id = r.text("external_id", 500)
    unmapped = r.mapping("unmapped")
    modified_at = r.moment("modified")

    postcode = r.text("postcode", 12)
    if postcode is not None:
        compact = postcode.replace(" ", "").upper()
        if re.fullmatch(r"[1-9][0-9]{3}", compact):
            postcode = compact
        elif nl_postcode.is_valid(compact):
            postcode = nl_postcode.compact(compact)
        else:
            r.errors.append(f"postcode {postcode!r} is not a Dutch postcode (1234 AB or 1234)")
            postcode = None
    place = r.text("place", 100)
    municipality = r.text("municipality", 100)
    lat = r.number("lat", -90, 90)
    lon = r.number("lon", -180, 180)
    if (lat is None) != (lon is None):
        r.errors.append("lat and lon go together: give both or neither")
        lat = lon = None
    elif (
        lat is not None
        and lon is not None
        and not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1])
    ):
        r.errors.append(f"lat/lon {lat:g}, {lon:g} is outside the Netherlands")
        lat = lon = None
    if lat is None and not r.errors:
        where = postcode or place
        if where:
            match = geo.resolve(where)
            if match is None and postcode and place:
                match = geo.resolve(place)
            if match is None:
                r.errors.append(f"cannot find postcode/place {where!r} to geocode the row")
            else:
                lat, lon = match.lat, match.lon
                place = place or match.place
                municipality = municipality or match.municipality
        elif not remote:
            r.errors.append("no location: give lat and lon, a postcode or a place")
    elif lat is not None and lon is not None and not r.errors and not (municipality and place):
        near = geo.reverse(lat, lon)
        place = place or near.place
        municipality = municipality or near.municipality
    if r.errors:
        return Parsed(errors=r.errors)
    assert vid and oid and oname and title
    org = OrgRow(
        id=oid,
        name=oname,
        contact_email=email,
        url=org_url or url,
        place=place,
        municipality=municipality,
        allowed_origins=origins,
        is_volunteer_centre=centre,
        fictional=fictional,
    )
    vacancy = VacancyRow(
        id=vid,
        organisation_id=oid,
        title=title,
        description=description,
        causes=causes,
        activities=activities,
        postcode=postcode,
        place=place,
        municipality=municipality,
        lat=round(lat, 6) if lat is not None else None,
        lon=round(lon, 6) if lon is not None else None,
        hours_min=hours_min,
        hours_max=hours_max,
        days=days,
        dayparts=dayparts,
        one_off=one_off,
        remote=remote,
        min_age=int(age) if age is not None else None,
        vog_required=vog,
        contact_email=email,
        url=url,
        offers=offers,
        publish_end=publish_end,
        max_open_leads=int(max_leads) if max_leads is not None else None,
        feed_id=feed_id,
        external_id=external_id,
        unmapped=unmapped,
        modified_at=modified_at,
    )
    return Parsed(org=org, vacancy=vacancy)

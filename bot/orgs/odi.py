"""Documents in the open Volunteering Data Standard (JSON-LD) <-> our import rows.

Reading: Organisation -> Activity -> Role -> Session becomes one import row per role (see
bot/orgs/rows.py), so the same validation applies as to CSV/JSON files. Every vocabulary
term goes through bot/orgs/odi_vocab.py; a term it does not know is kept in the row's
`unmapped` (and written back on export) and reported, never guessed.

Writing: our vacancies become one Activity with one Role and one Session each, grouped per
organisation, with dataset metadata (licence, publisher, modified).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.orgs import odi_vocab as vocab
from quiz.model import DAYPARTS, WEEKDAYS

_POSTCODE = re.compile(r"\b([1-9][0-9]{3})\s?([A-Za-z]{2})\b")
_RANGE = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(?:-|–|to|tot)\s*(\d+(?:[.,]\d+)?)\s*[- ]?(?:hours?|uur)", re.I
)
_UP_TO = re.compile(r"(?:up to|tot|max(?:imaal)?)\s*(\d+(?:[.,]\d+)?)\s*[- ]?(?:hours?|uur)", re.I)
_HOURS = re.compile(r"(\d+(?:[.,]\d+)?)\s*[- ]?(?:hours?|uur)", re.I)
_ONE_OFF = re.compile(r"\b(one[- ]off|eenmalig|once)\b", re.I)


@dataclass
class OdiRead:
    """What one document yields: rows keyed by their record id, and what was not usable."""

    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    unknown: dict[str, set[str]] = field(default_factory=dict)
    licence: str | None = None
    publisher: str | None = None
    modified: str | None = None

    def unknown_terms(self) -> list[str]:
        return [f"{kind}: {t}" for kind in sorted(self.unknown) for t in sorted(self.unknown[kind])]


def is_odi(doc: Any) -> bool:
    """A JSON-LD document of the standard (vs. our own row format)."""
    if isinstance(doc, list):
        return bool(doc) and all(isinstance(d, dict) and _type(d) == "Organisation" for d in doc)
    if not isinstance(doc, dict):
        return False
    context = doc.get("@context")
    if isinstance(context, str) and "volunteeringdata" in context:
        return True
    return _type(doc) == "Organisation" or "graph" in doc or "@graph" in doc


def _type(node: Mapping[str, Any]) -> str | None:
    value = node.get("type", node.get("@type"))
    return value if isinstance(value, str) else None


def _id(node: Mapping[str, Any]) -> str | None:
    value = node.get("id", node.get("@id"))
    return str(value).strip() if isinstance(value, str | int) and str(value).strip() else None


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _terms(value: Any) -> list[str]:
    out: list[str] = []
    for item in _list(value):
        if isinstance(item, dict):
            item = _id(item)
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
    return out


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def vacancy_id_for(external_id: str) -> str:
    """Our id for a role: ours round-trips, anyone else's is hashed (stable across feeds)."""
    prefix = vocab.ID_PREFIX + "vacancy:"
    if external_id.startswith(prefix):
        return external_id[len(prefix) :]
    return "odi-" + _hash(external_id)[:20]


def organisation_id_for(external_id: str) -> str:
    prefix = vocab.ID_PREFIX + "organisation:"
    if external_id.startswith(prefix):
        return external_id[len(prefix) :]
    return "odi-o-" + _hash(external_id)[:16]


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def parse_commitment(text: str) -> tuple[float | None, float | None, bool, bool]:
    """(hours_min, hours_max, one_off, understood) from free text such as
    "One evening per week, 3-hour shift" or "2-4 hours per week"."""
    one_off = bool(_ONE_OFF.search(text))
    if m := _RANGE.search(text):
        return _number(m.group(1)), _number(m.group(2)), one_off, True
    if m := _UP_TO.search(text):
        return None, _number(m.group(1)), one_off, True
    if m := _HOURS.search(text):
        n = _number(m.group(1))
        return n, n, one_off, True
    return None, None, one_off, one_off


def commitment_text(hours_min: float | None, hours_max: float | None, one_off: bool) -> str:
    parts = ["One-off"] if one_off else []
    if hours_min is not None and hours_max is not None and hours_min != hours_max:
        parts.append(f"{hours_min:g}-{hours_max:g} hours per week")
    elif hours_min is not None or hours_max is not None:
        n = hours_min if hours_min is not None else hours_max
        assert n is not None
        parts.append(f"{n:g} hours per week" if hours_min is not None else f"up to {n:g} hours")
    return ", ".join(parts)


class _Mapper:
    """Maps term lists through the vocabulary, collecting what it does not know."""

    def __init__(self, read: OdiRead) -> None:
        self.read = read

    def map(
        self, kind: str, value: Any, table: Mapping[str, str], unmapped: dict[str, list[str]]
    ) -> list[str]:
        out: list[str] = []
        for term in _terms(value):
            name = vocab.local_name(term)
            ours = table.get(name) if name is not None else vocab.from_our_ns(kind, term)
            if ours is None:
                self.read.unknown.setdefault(kind, set()).add(term)
                if term not in unmapped.setdefault(kind, []):
                    unmapped[kind].append(term)
            elif ours not in out:
                out.append(ours)
        return out


def _location(sessions: list[Any]) -> tuple[dict[str, Any], list[str]]:
    """The first usable location (lat/lon, postcode, place) and all time slot terms."""
    loc: dict[str, Any] = {}
    times: list[str] = []
    for session in sessions:
        if not isinstance(session, dict):
            continue
        times.extend(_terms(session.get("time")))
        for place in _list(session.get("location")):
            if loc or not isinstance(place, dict):
                continue
            address = str(place.get("address") or "")
            if place.get("latitude") not in (None, "") and place.get("longitude") not in (None, ""):
                loc["lat"], loc["lon"] = place["latitude"], place["longitude"]
            if m := _POSTCODE.search(address):
                loc["postcode"] = f"{m.group(1)} {m.group(2).upper()}"
                rest = address[m.end() :].split(",")[0].strip()
                if rest:
                    loc["place"] = rest
            elif address and not any(ch.isdigit() for ch in address):
                loc["place"] = address.split(",")[-1].strip()
    return loc, times


def _time(
    times: list[str], unmapped: dict[str, list[str]], read: OdiRead
) -> tuple[list[str], list[str]]:
    days: set[str] = set()
    parts: set[str] = set()
    for term in times:
        name = vocab.local_name(term)
        slot = vocab.TIME_SLOTS.get(name or "")
        if slot is None:
            read.unknown.setdefault("time", set()).add(term)
            if term not in unmapped.setdefault("time", []):
                unmapped["time"].append(term)
            continue
        days.add(slot[0])
        parts.add(slot[1])
    # Every day (or every part of the day) is no restriction at all: store it as none.
    day_list = [] if len(days) == len(WEEKDAYS) else [d for d in WEEKDAYS if d in days]
    part_list = [] if len(parts) == len(DAYPARTS) else [p for p in DAYPARTS if p in parts]
    return day_list, part_list


def _organisations(doc: Any, read: OdiRead) -> list[dict[str, Any]]:
    if isinstance(doc, list):
        nodes = doc
    else:
        read.licence = _text(doc.get("license"))
        read.publisher = _text(doc.get("publisher"))
        read.modified = _text(doc.get("modified"))
        graph = doc.get("graph", doc.get("@graph"))
        nodes = _list(graph) if graph is not None else [doc]
    orgs: list[dict[str, Any]] = []
    for n, node in enumerate(nodes, start=1):
        if not isinstance(node, dict):
            read.errors.append((f"graph[{n}]", "not a JSON object"))
        elif _type(node) == "Organisation" or "activity" in node:
            orgs.append(node)
        elif _type(node) == "Activity" and isinstance(node.get("organisation"), dict):
            orgs.append({**node["organisation"], "activity": [node]})
        else:
            read.errors.append((_id(node) or f"graph[{n}]", "not an Organisation with activities"))
    return orgs


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = _id(value) or value.get("name")
    return str(value).strip() if value not in (None, "") else None


def read_document(doc: Any, feed_id: str | None = None) -> OdiRead:
    """Import rows (one per role) from a parsed JSON-LD document."""
    read = OdiRead()
    mapper = _Mapper(read)
    for o_index, org in enumerate(_organisations(doc, read), start=1):
        org_ext = _id(org) or f"name:{org.get('name') or o_index}"
        org_cause = org.get("cause")
        activities = _list(org.get("activity"))
        for a_index, activity in enumerate(activities):
            if not isinstance(activity, dict):
                read.errors.append((f"{org_ext}#activity-{a_index}", "not a JSON object"))
                continue
            act_ext = _id(activity) or f"{org_ext}#activity-{a_index}"
            roles = _list(activity.get("role")) or [{}]
            for r_index, role in enumerate(roles):
                ext = (_id(role) if isinstance(role, dict) else None) or f"{act_ext}#role-{r_index}"
                if not isinstance(role, dict):
                    read.errors.append((ext, "a role must be a JSON object"))
                    continue
                try:
                    row = _row(mapper, org, org_ext, org_cause, activity, role, ext, read)
                except (TypeError, ValueError) as exc:
                    read.errors.append((ext, str(exc)))
                    continue
                row["feed_id"] = feed_id
                read.rows.append((ext, row))
    return read


def _row(
    mapper: _Mapper,
    org: Mapping[str, Any],
    org_ext: str,
    org_cause: Any,
    activity: Mapping[str, Any],
    role: Mapping[str, Any],
    ext: str,
    read: OdiRead,
) -> dict[str, Any]:
    unmapped: dict[str, list[str]] = {}
    causes = mapper.map("cause", activity.get("cause", org_cause), vocab.CAUSES, unmapped)
    skills = mapper.map("skill", role.get("skill"), vocab.SKILLS, unmapped)
    offers = mapper.map("reward", role.get("reward"), vocab.REWARDS, unmapped)
    vog = False
    for term in _terms(role.get("requirement")):
        if vocab.REQUIREMENTS.get(vocab.local_name(term) or "") == "vog_required":
            vog = True
        else:
            read.unknown.setdefault("requirement", set()).add(term)
            unmapped.setdefault("requirement", []).append(term)
    sessions = _list(activity.get("session")) + _list(role.get("session"))
    loc, times = _location(sessions)
    days, dayparts = _time(times, unmapped, read)
    hours_min = hours_max = None
    one_off = False
    commitment = _text(role.get("commitment"))
    if commitment:
        hours_min, hours_max, one_off, understood = parse_commitment(commitment)
        if not understood:
            unmapped["commitment"] = [commitment]
    remote = role.get("allowsRemoteParticipation")
    min_age = role.get("minimumAge")
    row: dict[str, Any] = {
        "vacancy_id": vacancy_id_for(ext),
        "external_id": ext if len(ext) <= 500 else None,
        "organisation_id": organisation_id_for(org_ext),
        "organisation_name": _text(org.get("name")),
        "title": _text(role.get("title")) or _text(activity.get("title")),
        "description": _text(role.get("description")) or _text(activity.get("description")),
        "causes": causes,
        "activities": skills,
        "offers": offers,
        "vog_required": vog,
        "days": days,
        "dayparts": dayparts,
        "hours_min": hours_min,
        "hours_max": hours_max,
        "one_off": one_off,
        "remote": remote if isinstance(remote, bool) else remote in ("true", "True", "1"),
        "min_age": min_age if min_age not in (None, "") else None,
        "url": _text(role.get("applyLink")) or _text(org.get("website")),
        "organisation_url": _text(org.get("website")),
        "contact_email": _text(role.get("email")) or _text(org.get("email")),
        "publish_end": _text(role.get("publishEnd")) or _text(activity.get("publishEnd")),
        "max_open_leads": role.get("maxOpenLeads"),
        "modified": _text(role.get("modified")) or _text(activity.get("modified")) or read.modified,
        "is_volunteer_centre": bool(org.get("volunteerCentre")),
        "fictional": bool(org.get("fictional")),
        "unmapped": unmapped or None,
        **loc,
    }
    return row


# --------------------------------------------------------------------------- writing


def _iris(kind: str, ids: Iterable[str], terms: Mapping[str, str]) -> list[str]:
    return [vocab.term_iri(terms[i]) if i in terms else vocab.our_term(kind, i) for i in ids]


def _slots(days: list[str], dayparts: list[str]) -> list[str]:
    if not days and not dayparts:
        return []
    return [
        vocab.term_iri(f"{d.capitalize()}{p.capitalize()}")
        for d in (days or list(WEEKDAYS))
        for p in (dayparts or list(DAYPARTS))
    ]


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value) if value else None


def activity_node(v: Mapping[str, Any]) -> dict[str, Any]:
    """One vacancy (a row of `export_rows`) as an Activity with one Role and one Session."""
    unmapped: dict[str, list[str]] = dict(v.get("unmapped") or {})
    ext = v.get("external_id") or f"{vocab.ID_PREFIX}vacancy:{v['vacancy_id']}"
    role: dict[str, Any] = {
        "type": "Role",
        "id": ext,
        "title": v["title"],
        "allowsRemoteParticipation": bool(v["remote"]),
    }
    if v.get("description"):
        role["description"] = v["description"]
    commitment = commitment_text(v["hours_min"], v["hours_max"], bool(v["one_off"]))
    if unmapped.get("commitment"):
        commitment = unmapped["commitment"][0]
    if commitment:
        role["commitment"] = commitment
    if v.get("url"):
        role["applyLink"] = v["url"]
    if v.get("min_age") is not None:
        role["minimumAge"] = str(v["min_age"])
    requirement = ([vocab.term_iri(vocab.VOG_TERM)] if v["vog_required"] else []) + unmapped.get(
        "requirement", []
    )
    lists = {
        "requirement": requirement,
        "reward": _iris("reward", v.get("offers") or [], vocab.REWARD_TERMS)
        + unmapped.get("reward", []),
        "skill": _iris("skill", v["activities"], vocab.SKILL_TERMS) + unmapped.get("skill", []),
    }
    role.update({k: vals for k, vals in lists.items() if vals})
    if v.get("contact_email"):
        role["email"] = v["contact_email"]
    if v.get("max_open_leads") is not None:
        role["maxOpenLeads"] = v["max_open_leads"]
    location: dict[str, Any] = {}
    pc = v.get("postcode")
    address = " ".join(
        x for x in ((f"{pc[:4]} {pc[4:]}" if pc and len(pc) == 6 else pc), v.get("place")) if x
    )
    if address:
        location["address"] = address
    if v.get("lat") is not None and v.get("lon") is not None:
        location["latitude"] = str(v["lat"])
        location["longitude"] = str(v["lon"])
    session: dict[str, Any] = {}
    if location:
        session["location"] = location
    times = _slots(list(v["days"]), list(v["dayparts"])) + unmapped.get("time", [])
    if times:
        session["time"] = times
    node: dict[str, Any] = {
        "type": "Activity",
        "id": f"{vocab.ID_PREFIX}activity:{v['vacancy_id']}",
        "title": v["title"],
    }
    if v.get("description"):
        node["description"] = v["description"]
    causes = _iris("cause", v["causes"], vocab.CAUSE_TERMS) + unmapped.get("cause", [])
    if causes:
        node["cause"] = causes
    if v.get("publish_end"):
        node["publishEnd"] = _iso(v["publish_end"])
    if v.get("modified_at"):
        node["modified"] = _iso(v["modified_at"])
    node["role"] = [role]
    if session:
        node["session"] = [session]
    return node


def build_document(
    orgs: Sequence[Mapping[str, Any]],
    vacancies: Sequence[Mapping[str, Any]],
    *,
    licence: str,
    publisher: str,
    modified: date,
) -> dict[str, Any]:
    """A whole dataset: organisations (in id order) with their vacancies as activities."""
    by_org: dict[str, list[Mapping[str, Any]]] = {}
    for v in vacancies:
        by_org.setdefault(v["organisation_id"], []).append(v)
    graph: list[dict[str, Any]] = []
    for o in sorted(orgs, key=lambda o: o["id"]):
        mine = by_org.get(o["id"])
        if not mine:
            continue
        node: dict[str, Any] = {
            "type": "Organisation",
            "id": f"{vocab.ID_PREFIX}organisation:{o['id']}",
            "name": o["name"],
        }
        if o.get("url"):
            node["website"] = o["url"]
        if o.get("contact_email"):
            node["email"] = o["contact_email"]
        causes: list[str] = []
        for v in mine:
            causes += [c for c in v["causes"] if c not in causes]
        if causes:
            node["cause"] = _iris("cause", causes, vocab.CAUSE_TERMS)
        if o.get("is_volunteer_centre"):
            node["volunteerCentre"] = True
        if o.get("fictional"):
            node["fictional"] = True
        node["activity"] = [activity_node(v) for v in sorted(mine, key=lambda v: v["vacancy_id"])]
        graph.append(node)
    return {
        "@context": vocab.CONTEXT,
        "conformsTo": vocab.NS,
        "license": licence,
        "publisher": publisher,
        "modified": modified.isoformat(),
        "graph": graph,
    }

"""`orgs demo`: a realistic, clearly fictional set of organisations and vacancies.

Vacancies sit in real Dutch places (picked in proportion to the number of PC4 areas, our
population proxy), with causes in roughly the proportions CBS reports for Dutch volunteering,
plus one volunteer centre (vrijwilligerscentrale) per municipality as the recommender's
local fallback. Every organisation is marked fictional=True and its name says "(fictief)";
e-mail addresses and sites use the reserved .example domain. Templates: data/demo.json.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from bot.geo.gazetteer import get_gazetteer
from bot.geo.normalize import normalize

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.orgs.importer import ImportResult, Progress

DEFAULT_COUNT = 5000
DEFAULT_SEED = 2026
REUSE_ORGANISATION = 0.55  # chance a vacancy goes to an existing organisation nearby


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    text = resources.files("bot.orgs").joinpath("data", "demo.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalize(text)).strip("-")[:40] or "x"


def _fill(pattern: str, rnd: random.Random, place: str, data: dict[str, Any]) -> str:
    return pattern.format(
        place=place, noun=rnd.choice(data["nouns"]), part=rnd.choice(data["parts"])
    )


def generate(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> Iterator[dict[str, Any]]:
    """Import rows (the import contract plus municipality/is_volunteer_centre/fictional):
    `count` vacancies, then one volunteer centre per municipality."""
    data = templates()
    gaz = get_gazetteer()
    rnd = random.Random(seed)
    suffix = data["fictional_suffix"]
    note = data["description_note"]
    domain = data["email_domain"]
    cause_ids = list(data["causes"])
    cause_weights = [data["causes"][c]["weight"] for c in cause_ids]
    areas = gaz.areas
    orgs_by_key: dict[tuple[str, str], list[tuple[str, str]]] = {}
    org_by_name: dict[str, str] = {}
    n_orgs = 0
    for n in range(1, count + 1):
        cause = rnd.choices(cause_ids, cause_weights)[0]
        spec = data["causes"][cause]
        tpl = rnd.choice(spec["vacancies"])
        area = rnd.choice(areas)
        key = (cause, area.municipality)
        known = orgs_by_key.setdefault(key, [])
        if known and rnd.random() < REUSE_ORGANISATION:
            org_id, org_name = rnd.choice(known)
        else:
            org_name = _fill(rnd.choice(spec["orgs"]), rnd, area.place, data) + suffix
            if org_name in org_by_name:
                org_id = org_by_name[org_name]
            else:
                n_orgs += 1
                org_id = f"demo-o{n_orgs:06d}"
                org_by_name[org_name] = org_id
                known.append((org_id, org_name))
        site = slug(org_name.removesuffix(suffix))
        lo, hi = tpl["hours"]
        parts = list(tpl["dayparts"])
        if len(parts) > 1:
            parts = sorted(rnd.sample(parts, rnd.randint(1, len(parts))), key=parts.index)
        days = rnd.choice(tpl["days"])
        remote = bool(tpl["remote"])
        causes = [cause]
        if cause in ("care", "elderly") and rnd.random() < 0.3:
            causes.append("elderly" if cause == "care" else "care")
        yield {
            "vacancy_id": f"demo-v{n:07d}",
            "organisation_id": org_id,
            "organisation_name": org_name,
            "title": tpl["title"],
            "description": f"{tpl['description']} {note}",
            "causes": causes,
            "activities": list(tpl["activities"]),
            "offers": list(tpl.get("offers", [])),
            "postcode": area.pc4,
            "place": area.place,
            "municipality": area.municipality,
            "lat": round(area.lat + rnd.uniform(-0.008, 0.008), 5),
            "lon": round(area.lon + rnd.uniform(-0.012, 0.012), 5),
            "hours_min": lo,
            "hours_max": hi,
            "days": list(days),
            "dayparts": parts,
            "one_off": bool(tpl["one_off"]),
            "remote": remote,
            "min_age": tpl["min_age"],
            "vog_required": bool(tpl["vog"]),
            "contact_email": f"vrijwilligers@{site}.{domain}",
            "url": f"https://{site}.{domain}/vrijwilligers",
            "fictional": True,
        }
    centre = data["centre"]
    for muni in gaz.municipalities:
        name = centre["name"].format(municipality=muni.name) + suffix
        site = slug(f"vrijwilligerscentrale {muni.name}")
        org_id = f"demo-vc-{slug(muni.name)}"
        yield {
            "vacancy_id": f"{org_id}-advies",
            "organisation_id": org_id,
            "organisation_name": name,
            "title": centre["title"],
            "description": f"{centre['description']} {note}",
            "causes": ["other"],
            "activities": [],
            "place": muni.name,
            "municipality": muni.name,
            "lat": muni.lat,
            "lon": muni.lon,
            "one_off": True,
            "contact_email": f"info@{site}.{domain}",
            "url": f"https://{site}.{domain}",
            "is_volunteer_centre": True,
            "fictional": True,
        }


def load_demo(
    url: str,
    count: int = DEFAULT_COUNT,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> ImportResult:
    """Generate and import the demo set (upsert: running it twice changes nothing)."""
    from bot.orgs.importer import import_rows

    rows = list(generate(count, seed))
    return import_rows(url, enumerate(rows, start=1), progress, total=len(rows))


def has_vacancies(url: str) -> bool:
    from sqlalchemy import select

    from bot.store.db import get_sync_engine
    from bot.store.organisations import VACANCIES

    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(VACANCIES.c.id).limit(1)).first() is not None
    finally:
        engine.dispose()


def ensure_demo(settings: Settings, count: int | None = None) -> int:
    """Start-up hook: load the demo set when there are no vacancies yet (blocking; a few
    seconds at most). `count` defaults to settings.demo_count (VK_DEMO_COUNT; 0 = never).
    Returns the number of vacancies loaded, 0 when nothing was loaded."""
    n = settings.demo_count if count is None else count
    if n <= 0 or has_vacancies(settings.database_url):
        return 0
    return load_demo(settings.database_url, n).vacancies


async def ensure_demo_async(settings: Settings, count: int | None = None) -> int:
    """ensure_demo for async callers: runs in a worker thread."""
    return await asyncio.to_thread(ensure_demo, settings, count)

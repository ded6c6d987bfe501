"""`vrijwilligerskracht recommend --json`: rank vacancies for a query read from stdin."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

CONTRACT_KEYS = ("vacancy_id", "organisation_id", "title", "distance_km", "score", "reasons")
EXTRA_KEYS = ("organisation", "remote", "vog_required", "fictional", "fallback", "place")


def command(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Overrides the query's limit."),
    offset: int = typer.Option(0, "--offset", min=0, help="Skip this many results."),
) -> None:
    """Read {"lat"+"lon" | "postcode" | "place", "radius_km"?, "causes"?, "activities"?,
    "hours_per_week"?, "days"?, "age"?, "limit"?} as JSON on stdin; print the ranking."""
    try:
        query: Any = json.loads(sys.stdin.read() or "{}")
    except json.JSONDecodeError as exc:
        typer.echo(f"error: stdin is not JSON: {exc.msg} (line {exc.lineno})", err=True)
        raise typer.Exit(1) from None
    if not isinstance(query, dict):
        typer.echo("error: the query must be a JSON object", err=True)
        raise typer.Exit(1)
    from bot.recommender import prepare_query

    prepared = prepare_query(query)
    if not prepared.located:
        where = query.get("postcode") or query.get("place")
        if where:
            from bot.geo.gazetteer import get_gazetteer

            hints = get_gazetteer().suggest(str(where))
            hint = f" Did you mean: {', '.join(hints)}?" if hints else ""
            typer.echo(f"error: unknown place or postcode: {where!r}.{hint}", err=True)
        else:
            typer.echo('error: give "lat" and "lon", a "postcode" or a "place"', err=True)
        raise typer.Exit(1)
    n = limit or query.get("limit") or 10
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        typer.echo('error: "limit" must be a positive whole number', err=True)
        raise typer.Exit(1)

    from bot.config import get_settings
    from bot.content import default_quiz
    from bot.orgs.queries import load_candidates
    from bot.recommender import Catalogue
    from bot.store.migrate import upgrade
    from quiz.ranking import recommend

    url = get_settings().database_url
    upgrade(url)
    catalogue = Catalogue(load_candidates(url))
    page = recommend(prepared, catalogue, default_quiz(), offset=offset, limit=n)
    if as_json:
        rows = [{k: item[k] for k in (*CONTRACT_KEYS, *EXTRA_KEYS)} for item in page.items]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for i, item in enumerate(page.items, start=offset + 1):
        where = "remote" if item["remote"] else f"{item['distance_km']} km"
        typer.echo(f"{i}. {item['title']} — {item['organisation']} ({where}, {item['score']})")
        typer.echo(f"   {' · '.join(item['reasons'])}")
        if item["vog_required"]:
            typer.echo("   VOG")
    if page.more_available:
        typer.echo("(more available: use --offset)")

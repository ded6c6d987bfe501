"""`vrijwilligerskracht geo ...`: resolve postcodes, places and shared locations."""

from __future__ import annotations

import json

import typer

app = typer.Typer(help="geo", no_args_is_help=True)


def _out(match: object, as_json: bool) -> None:
    from bot.geo.gazetteer import GeoMatch

    assert isinstance(match, GeoMatch)
    if as_json:
        data = {
            "lat": match.lat,
            "lon": match.lon,
            "place": match.place,
            "municipality": match.municipality,
            "postcode": match.postcode,
            "province": match.province,
            "kind": match.kind,
            "note": match.note,
        }
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    code = f"{match.postcode} " if match.postcode else ""
    typer.echo(
        f"{code}{match.place} (gemeente {match.municipality}, {match.province}) "
        f"{match.lat:.4f}, {match.lon:.4f}"
    )
    if match.note:
        typer.echo(match.note)


@app.command("resolve")
def resolve(
    text: str = typer.Argument(..., help="Postcode (3511 AB, 3511), place or municipality."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    lang: str = typer.Option("nl", "--lang", help="Language of notes (nl, en)."),
) -> None:
    """Resolve a postcode or place name to a point; unknown text exits with code 1."""
    from bot.geo.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    match = gaz.resolve(text, lang=lang)
    if match is None:
        hints = gaz.suggest(text)
        hint = f" Did you mean: {', '.join(hints)}?" if hints else ""
        typer.echo(f"error: unknown place or postcode: {text!r}.{hint}", err=True)
        raise typer.Exit(1)
    _out(match, as_json)


@app.command("reverse")
def reverse(
    lat: float = typer.Argument(..., help="Latitude (WGS84)."),
    lon: float = typer.Argument(..., help="Longitude (WGS84)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Name a shared location after the nearest PC4 area."""
    from bot.geo.gazetteer import get_gazetteer

    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        typer.echo("error: latitude must be -90..90 and longitude -180..180", err=True)
        raise typer.Exit(1)
    _out(get_gazetteer().reverse(lat, lon), as_json)

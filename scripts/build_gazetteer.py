"""Build the shipped gazetteer table bot/geo/data/pc4.csv.gz from the GeoNames PC4 file.

Usage: .venv/bin/python scripts/build_gazetteer.py [SOURCE_CSV] [--out PATH]

The source is GeoNames postal code data (CC BY 4.0, https://www.geonames.org); its columns
are described in ../shared/data/geonames/README.md (there `province` holds the municipality
and `state` the province). The output keeps only what the bot needs — PC4, place,
municipality, province and the centroid rounded to 4 decimals (about 10 m) — so the shipped
file stays small. The gzip header carries no timestamp, so rebuilding gives identical bytes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "geonames" / "nl_postal_codes.csv"
DEFAULT_OUT = ROOT / "bot" / "geo" / "data" / "pc4.csv.gz"
COLUMNS = ("pc4", "place", "municipality", "province", "lat", "lon")


def read_source(path: Path) -> list[dict[str, str]]:
    """Rows of the GeoNames file mapped to our column names; bad rows stop the build."""
    out: list[dict[str, str]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            pc4 = (row.get("zipcode") or "").strip()
            if row.get("country_code") != "NL" or len(pc4) != 4 or not pc4.isdigit():
                raise SystemExit(f"{path}:{line}: not a Dutch PC4 row: {row}")
            try:
                lat = float(row["latitude"])
                lon = float(row["longitude"])
            except (KeyError, ValueError):
                raise SystemExit(f"{path}:{line}: bad latitude/longitude") from None
            if not (50.5 < lat < 53.8 and 3.2 < lon < 7.3):
                raise SystemExit(f"{path}:{line}: centroid {lat},{lon} is outside the Netherlands")
            out.append(
                {
                    "pc4": pc4,
                    "place": row["place"].strip(),
                    "municipality": (row.get("province") or row["place"]).strip(),
                    "province": (row.get("state") or "").strip(),
                    "lat": f"{lat:.4f}",
                    "lon": f"{lon:.4f}",
                }
            )
    # A PC4 area can hold several villages, even across a municipal border (one row each).
    seen: set[tuple[str, str, str]] = set()
    for r in out:
        key = (r["pc4"], r["place"], r["municipality"])
        if key in seen:
            raise SystemExit(f"{path}: duplicate row for PC4 {r['pc4']} {r['place']}")
        seen.add(key)
    return sorted(out, key=lambda r: r["pc4"])  # stable: source order within one PC4


def write_table(rows: list[dict[str, str]], out: Path) -> int:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=9, mtime=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows = read_source(args.source)
    size = write_table(rows, args.out)
    places = len({(r["place"], r["municipality"]) for r in rows})
    areas = len({r["pc4"] for r in rows})
    municipalities = len({r["municipality"] for r in rows})
    print(
        f"wrote {args.out} ({size} bytes): {len(rows)} rows, {areas} PC4 areas, {places} places, "
        f"{municipalities} municipalities",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

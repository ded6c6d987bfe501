"""`orgs import`: CSV or JSON files of vacancies into the database, all or nothing.

Every row is validated (and geocoded) before anything is written; any bad row fails the
whole file with every problem listed by line number. Writing is one transaction of bulk
upserts keyed by id, so re-importing a file updates what is there.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.geo.gazetteer import GeoMatch, get_gazetteer
from bot.orgs.rows import REQUIRED, OrgRow, VacancyRow, parse_row

CHUNK = 2000
MAX_ERRORS = 1000  # stop collecting after this many (the file is rejected anyway)

# progress(stage, done, total): stage is "reading", "checking" or "writing".
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportFailed(Exception):
    """The file was rejected; nothing was written."""

    def __init__(self, errors: list[RowError], source: str = "") -> None:
        self.errors = errors
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(f"{head}{len(errors)} problem(s); nothing imported")


@dataclass(frozen=True)
class ImportResult:
    organisations: int
    vacancies: int
    created: int
    updated: int
    # Vocabulary terms of a Volunteering Data Standard document that have no mapping:
    # kept with the vacancy (and exported again), reported here, never guessed.
    unknown_terms: tuple[str, ...] = ()


# --------------------------------------------------------------------------- reading


def read_csv(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows with the line each starts on (line 1 is the header)."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFailed([RowError(1, f"missing column(s): {', '.join(missing)}")])
    line = reader.line_num
    for record in reader:
        start = line + 1
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            extra = record[len(header) :]
            if any(cell.strip() for cell in extra):
                yield start, {"__error__": f"{len(record)} fields, the header has {len(header)}"}
                continue
        yield start, dict(zip(header, record, strict=False))


def read_json(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """A JSON array of objects (or {"vacancies": [...]}, or JSON Lines), with line numbers."""
    stripped = text.lstrip()
    if not stripped:
        return
    decoder = json.JSONDecoder()

    cursor = [0, 1]  # position, line: counting forward keeps this linear

    def line_of(pos: int) -> int:
        if pos < cursor[0]:
            cursor[0], cursor[1] = 0, 1
        cursor[1] += text.count("\n", cursor[0], pos)
        cursor[0] = pos
        return cursor[1]

    if stripped[0] == "{":
        try:
            whole, end = decoder.raw_decode(text, len(text) - len(stripped))
        except json.JSONDecodeError as exc:
            raise ImportFailed([RowError(exc.lineno, f"malformed JSON: {exc.msg}")]) from exc
        if text[end:].strip():  # JSON Lines: one object per line
            for n, raw_line in enumerate(text.splitlines(), start=1):
                if not raw_line.strip():
                    continue
                try:
                    obj = json.loads(raw_line)
                except json.JSONDecodeError as exc:
                    raise ImportFailed([RowError(n, f"malformed JSON: {exc.msg}")]) from exc
                yield n, obj if isinstance(obj, dict) else {"__error__": "not a JSON object"}
            return
        items = whole.get("vacancies") if isinstance(whole, dict) else None
        if not isinstance(items, list):
            raise ImportFailed([RowError(1, 'expected a list of rows or {"vacancies": [...]}')])
        # Re-scan to find where each item starts.
        start = text.index("[", text.index('"vacancies"'))
    else:
        if stripped[0] != "[":
            raise ImportFailed([RowError(1, "expected a JSON array of objects")])
        start = len(text) - len(stripped)
    pos = start + 1
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            raise ImportFailed([RowError(line_of(pos), "malformed JSON: the array is not closed")])
        if text[pos] == "]":
            return
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ImportFailed([RowError(exc.lineno, f"malformed JSON: {exc.msg}")]) from exc
        yield line_of(pos), obj if isinstance(obj, dict) else {"__error__": "not a JSON object"}
        pos = end


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ImportFailed([RowError(0, f"cannot read {path}: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise ImportFailed([RowError(0, f"{path} is not UTF-8 text")]) from exc


def _is_json(path: Path, text: str) -> bool:
    return path.suffix.lower() in (".json", ".jsonl", ".ndjson") or text.lstrip()[:1] in "[{"


def read_file(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    text = _read_text(path)
    return read_json(text) if _is_json(path, text) else read_csv(text)


def _json_items(text: str) -> list[Any] | None:
    """The rows of a plain JSON document, parsed in one go (fast); None for anything else
    (JSON Lines, malformed JSON), which the line-tracking reader handles."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict) and isinstance(data.get("vacancies"), list):
        data = data["vacancies"]
    return data if isinstance(data, list) else None


# --------------------------------------------------------------------------- checking


class _CachedGeo:
    """The gazetteer with a per-import cache: many rows share a postcode or place."""

    def __init__(self) -> None:
        self._gaz = get_gazetteer()
        self.resolve = lru_cache(maxsize=20000)(self._resolve)
        self.reverse = lru_cache(maxsize=20000)(self._reverse)

    def _resolve(self, text: str, lang: str = "nl") -> GeoMatch | None:
        return self._gaz.resolve(text, lang)

    def _reverse(self, lat: float, lon: float, lang: str = "nl") -> GeoMatch:
        return self._gaz.reverse(lat, lon, lang)


def check_rows(
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    progress: Progress | None = None,
    total: int = 0,
) -> tuple[list[OrgRow], list[VacancyRow]]:
    """Validate every row; raise ImportFailed listing all problems, else return the rows."""
    geo = _CachedGeo()
    errors: list[RowError] = []
    orgs: dict[str, tuple[int, OrgRow]] = {}
    vacancies: dict[str, tuple[int, VacancyRow]] = {}
    first_line: dict[str, int] = {}  # every vacancy_id seen, valid row or not
    org_names: dict[str, tuple[int, str]] = {}  # organisation id -> first line and name
    done = 0
    for line, raw in rows:
        done += 1
        if progress is not None and done % 500 == 0:
            progress("checking", done, total)
        if len(errors) >= MAX_ERRORS:
            continue
        if "__error__" in raw:
            errors.append(RowError(line, str(raw["__error__"])))
            continue
        parsed = parse_row(raw, geo)
        raw_id = str(raw.get("vacancy_id") or "").strip()
        if raw_id and raw_id in first_line:
            parsed.errors.insert(
                0, f"vacancy_id {raw_id!r} already used on line {first_line[raw_id]}"
            )
        elif raw_id:
            first_line[raw_id] = line
        raw_org = str(raw.get("organisation_id") or "").strip()
        raw_name = str(raw.get("organisation_name") or "").strip()
        if raw_org and raw_name:
            seen_name = org_names.setdefault(raw_org, (line, raw_name))
            if seen_name[1] != raw_name:
                parsed.errors.append(
                    f"organisation {raw_org!r} is named {raw_name!r} here but "
                    f"{seen_name[1]!r} on line {seen_name[0]}"
                )
        if parsed.errors:
            errors.extend(RowError(line, e) for e in parsed.errors)
            continue
        assert parsed.org is not None and parsed.vacancy is not None
        v, o = parsed.vacancy, parsed.org
        vacancies[v.id] = (line, v)
        known = orgs.get(o.id)
        if known is None:
            orgs[o.id] = (line, o)
        else:
            _merge_org(known[1], o)
    if progress is not None:
        progress("checking", done, total or done)
    if errors:
        errors.sort(key=lambda e: e.line)
        raise ImportFailed(errors)
    return [o for _, o in orgs.values()], [v for _, v in vacancies.values()]


def _merge_org(into: OrgRow, other: OrgRow) -> None:
    """Organisation columns repeat per row; fill what the first row left empty."""
    into.contact_email = into.contact_email or other.contact_email
    into.url = into.url or other.url
    into.place = into.place or other.place
    into.municipality = into.municipality or other.municipality
    into.is_volunteer_centre = into.is_volunteer_centre or other.is_volunteer_centre
    into.fictional = into.fictional or other.fictional
    for origin in other.allowed_origins:
        if origin not in into.allowed_origins:
            into.allowed_origins.append(origin)


# --------------------------------------------------------------------------- writing


def _upsert(conn: Any, table: Any, rows: list[dict[str, Any]], keep: tuple[str, ...]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keep}
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy_upsert(conn, table, rows, keep)
        return
    conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=update), rows)


def _copy_upsert(conn: Any, table: Any, rows: list[dict[str, Any]], keep: tuple[str, ...]) -> None:
    """Postgres: COPY into a temporary table, then one INSERT ... ON CONFLICT from it —
    many times faster than row-by-row statements for large files."""
    import sqlalchemy as sa

    names = [c.name for c in table.columns]
    json_cols = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    cols = ", ".join(f'"{n}"' for n in names)
    sets = ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in names if n not in keep)
    tmp = f"import_{table.name}"
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            f'CREATE TEMP TABLE "{tmp}" (LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DROP'
        )
        with cur.copy(f'COPY "{tmp}" ({cols}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row([json.dumps(r[n]) if n in json_cols else r[n] for n in names])
        cur.execute(
            f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{tmp}" '
            f"ON CONFLICT (id) DO UPDATE SET {sets}"
        )
        cur.execute(f'DROP TABLE "{tmp}"')


def vacancy_values(v: VacancyRow, now: datetime, source_hash: str | None = None) -> dict[str, Any]:
    """The table row for a checked vacancy: an import (re)opens it and counts as confirmed."""
    return {
        **vars(v),
        "modified_at": v.modified_at or now,
        "last_confirmed_at": now,
        "confirm_asked_at": None,
        "closed_at": None,
        "closed_reason": None,
        "duplicate_of": None,
        "source_hash": source_hash,
        "created_at": now,
        "updated_at": now,
    }


def write_rows(
    url: str,
    orgs: list[OrgRow],
    vacancies: list[VacancyRow],
    progress: Progress | None = None,
) -> ImportResult:
    """Upsert everything in one transaction (bulk, chunked)."""
    from sqlalchemy import select

    from bot.clock import now as clock_now
    from bot.store.db import get_sync_engine
    from bot.store.organisations import ORGANISATIONS, VACANCIES

    now = clock_now()
    org_rows = [{**vars(o), "created_at": now, "updated_at": now} for o in orgs]
    vac_rows = [vacancy_values(v, now) for v in vacancies]
    total = len(org_rows) + len(vac_rows)
    engine = get_sync_engine(url)
    try:
        with engine.begin() as conn:
            existing: set[str] = set()
            ids = [v.id for v in vacancies]
            for i in range(0, len(ids), 5000):
                chunk = ids[i : i + 5000]
                existing.update(
                    conn.execute(select(VACANCIES.c.id).where(VACANCIES.c.id.in_(chunk))).scalars()
                )
            done = 0
            for table, rows in ((ORGANISATIONS, org_rows), (VACANCIES, vac_rows)):
                for i in range(0, len(rows), CHUNK):
                    chunk_rows = rows[i : i + CHUNK]
                    _upsert(conn, table, chunk_rows, keep=("id", "created_at"))
                    done += len(chunk_rows)
                    if progress is not None:
                        progress("writing", done, total)
    finally:
        engine.dispose()
    from bot.recommender import invalidate_catalogues

    invalidate_catalogues(url)
    return ImportResult(
        organisations=len(org_rows),
        vacancies=len(vac_rows),
        created=len(vac_rows) - len(existing),
        updated=len(existing),
    )


def import_rows(
    url: str,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    progress: Progress | None = None,
    total: int = 0,
) -> ImportResult:
    """Check all rows, then write them; ImportFailed (nothing written) on any bad row."""
    orgs, vacancies = check_rows(rows, progress, total)
    return write_rows(url, orgs, vacancies, progress)


def import_odi(
    url: str, doc: Any, source: str = "", progress: Progress | None = None
) -> ImportResult:
    """Import a Volunteering Data Standard document, all or nothing like any file.

    Problems are reported per record (numbered by role, named by its @id)."""
    from dataclasses import replace

    from bot.orgs.odi import read_document

    read = read_document(doc)
    errors = [RowError(0, f"{rid}: {msg}") for rid, msg in read.errors]
    rows = [(n, raw) for n, (_, raw) in enumerate(read.rows, start=1)]
    if progress is not None:
        progress("reading", len(rows), len(rows))
    try:
        orgs, vacancies = check_rows(rows, progress, total=len(rows))
    except ImportFailed as exc:
        errors += [
            RowError(e.line, f"{read.rows[e.line - 1][0]}: {e.message}")
            if 0 < e.line <= len(read.rows)
            else e
            for e in exc.errors
        ]
    if errors:
        raise ImportFailed(errors, source)
    result = write_rows(url, orgs, vacancies, progress)
    return replace(result, unknown_terms=tuple(read.unknown_terms()))


def import_file(url: str, path: Path, progress: Progress | None = None) -> ImportResult:
    """Import a CSV, JSON or JSON-LD (Volunteering Data Standard) file; ImportFailed names
    the file and the line (or record) of every bad row."""
    from bot.orgs.odi import is_odi

    text = ""
    try:
        text = _read_text(path)
        if path.suffix.lower() == ".jsonld" or text.lstrip()[:1] == "{":
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                if path.suffix.lower() == ".jsonld":
                    raise ImportFailed(
                        [RowError(exc.lineno, f"malformed JSON: {exc.msg}")]
                    ) from exc
                doc = None
            if doc is not None and is_odi(doc):
                return import_odi(url, doc, str(path), progress)
        items = _json_items(text) if _is_json(path, text) else None
        if items is not None:
            # Rows are numbered by item here; lines are looked up only if something is wrong.
            rows: list[tuple[int, dict[str, Any]]] = [
                (i, obj if isinstance(obj, dict) else {"__error__": "not a JSON object"})
                for i, obj in enumerate(items, start=1)
            ]
        else:
            rows = list(read_json(text) if _is_json(path, text) else read_csv(text))
    except ImportFailed as exc:
        raise ImportFailed(exc.errors, str(path)) from None
    if progress is not None:
        progress("reading", len(rows), len(rows))
    try:
        return import_rows(url, rows, progress, total=len(rows))
    except ImportFailed as exc:
        errors = exc.errors
        if items is not None:
            lines = [line for line, _ in read_json(text)]
            errors = [
                RowError(lines[e.line - 1] if 0 < e.line <= len(lines) else e.line, e.message)
                for e in errors
            ]
        raise ImportFailed(errors, str(path)) from None

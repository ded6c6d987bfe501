"""The built widget script, loaded once and kept in memory with its gzip form and ETag.

The script is built from `src/` by `npm run build` (esbuild) and committed, so serving it needs
no Node at run time.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
WIDGET_JS = HERE / "dist" / "widget.js"
PAGES = HERE / "pages"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str


def make_asset(body: bytes, media_type: str) -> Asset:
    digest = hashlib.sha256(body).hexdigest()[:20]
    gz = gzip.compress(body, compresslevel=9, mtime=0)
    return Asset(body=body, gzipped=gz, etag=f'"{digest}"', media_type=media_type)


_loaded: dict[Path, tuple[int, Asset]] = {}


def _file_asset(path: Path) -> Asset:
    """The file as an Asset, read again only when it changed (a rebuild while serving)."""
    mtime = path.stat().st_mtime_ns
    hit = _loaded.get(path)
    if hit is None or hit[0] != mtime:
        hit = (mtime, make_asset(path.read_bytes(), "text/javascript; charset=utf-8"))
        _loaded[path] = hit
    return hit[1]


def widget_script() -> Asset:
    return _file_asset(WIDGET_JS)


def page_script(name: str) -> Asset:
    return _file_asset(PAGES / name)


@lru_cache
def page_file(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")

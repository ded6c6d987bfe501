"""The widget as served: size, caching, the demo and embed pages, and static safety checks of
its source (no HTML parsing of text anywhere)."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from bot.channels.widget.assets import HERE, WIDGET_JS
from bot.channels.widget.routes import render_page
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[3]
SRC = HERE / "src"
MAX_GZIP = 15 * 1024


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://vk.test"
    ) as c:
        yield c


async def test_widget_js_is_served_gzipped_within_15_kb(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/widget.js", headers={"accept-encoding": "gzip"}) as r:
        raw = b"".join([chunk async for chunk in r.aiter_raw()])
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert len(raw) <= MAX_GZIP, f"widget.js is {len(raw)} bytes gzipped (limit {MAX_GZIP})"
    assert gzip.decompress(raw) == WIDGET_JS.read_bytes()
    print(f"widget.js: {len(gzip.decompress(raw))} bytes, {len(raw)} bytes gzipped")


async def test_widget_js_revalidates_with_its_etag(client: httpx.AsyncClient) -> None:
    first = await client.get("/widget.js")
    assert first.headers["cache-control"].startswith("public")
    again = await client.get("/widget.js", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


async def test_demo_page_is_an_organisation_site_with_the_widget(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert re.search(r'<script src="/widget.js" data-org="demo"[^>]*data-teaser=', r.text)
    assert '<html lang="nl">' in r.text


async def test_embed_page_shows_the_snippet_base_and_a_preview(client: httpx.AsyncClient) -> None:
    r = await client.get("/embed")
    assert r.status_code == 200
    assert 'data-base="http://vk.test"' in r.text
    assert 'id="preview"' in r.text
    assert '<script src="/widget.js" data-manual>' in r.text
    js = await client.get("/embed.js")
    assert js.status_code == 200
    assert "Vrijwilligerskracht" in js.text


def test_page_values_are_html_escaped() -> None:
    page = render_page("embed.html", {"base": '"><script>alert(1)</script>', "org": "a&b"})
    assert "<script>alert(1)</script>" not in page
    assert "&quot;&gt;&lt;script&gt;" in page
    assert 'value="a&amp;b"' in page


def test_source_never_parses_text_as_html() -> None:
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
        r"createContextualFragment|DOMParser|setAttribute\(\s*['\"]on"
    )
    for path in SRC.glob("*.js"):
        hits = forbidden.findall(path.read_text(encoding="utf-8"))
        assert not hits, f"{path.name}: {hits}"


def test_only_one_global_is_defined() -> None:
    text = (SRC / "main.js").read_text(encoding="utf-8")
    assigned = set(re.findall(r"window\[?\.?(\w+)\]?\s*=(?!=)", text))
    assert assigned <= {"NS"}, assigned  # window[NS] = {...}: the one namespace
    assert "const NS = 'Vrijwilligerskracht'" in text


def test_ui_strings_exist_in_dutch_and_english() -> None:
    text = (SRC / "strings.js").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"\n  (\w\w): \{(.*?)\n  \}", text, re.S))
    keys = {lang: set(re.findall(r"\n    (\w+):", body)) for lang, body in blocks.items()}
    assert set(keys) == {"nl", "en"}
    assert keys["nl"] == keys["en"]
    assert len(keys["nl"]) > 15


def test_built_script_is_up_to_date_with_its_source() -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "esbuild").exists():
        if os.environ.get("CI") == "true" and node is not None:
            pytest.fail("node_modules missing in CI: run `npm ci`")
        pytest.skip("node or node_modules/esbuild not installed (npm ci)")
    result = subprocess.run(
        [node, str(HERE / "build.mjs"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr + result.stdout

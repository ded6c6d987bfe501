"""GET /widget.js (the widget), GET / (demo site) and GET /embed (how to embed it)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

# Imported by create_app only, so FastAPI may load here; it also needs these at run time to
# read the endpoints' annotations.
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from bot.channels.widget.assets import Asset, page_file, page_script, widget_script

if TYPE_CHECKING:
    from bot.config import Settings

# Our own pages run under a strict policy: it also shows the widget works on sites that use one.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
DEMO_ORG = "demo"


def render_page(name: str, values: dict[str, str]) -> str:
    """Fill `{{key}}` placeholders in a page template, HTML-escaped."""
    text = page_file(name)
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return text


def serve_asset(request: Request, asset: Asset, cache: str) -> Response:
    headers = {
        "ETag": asset.etag,
        "Cache-Control": cache,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["widget"])
    page_headers = {
        "Content-Security-Policy": PAGE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }

    @router.get("/widget.js", summary="The embeddable chat widget")
    async def widget_js(request: Request) -> Response:
        return serve_asset(request, widget_script(), "public, max-age=300")

    @router.get("/embed.js", include_in_schema=False)
    async def embed_js(request: Request) -> Response:
        return serve_asset(request, page_script("embed.js"), "public, max-age=300")

    @router.get("/demo.js", include_in_schema=False)
    async def demo_js(request: Request) -> Response:
        return serve_asset(request, page_script("demo.js"), "public, max-age=300")

    @router.get("/", response_class=HTMLResponse, summary="Demo site with the widget")
    async def demo_page() -> Response:
        body = render_page("demo.html", {"org": DEMO_ORG})
        return HTMLResponse(body, headers=page_headers)

    @router.get("/embed", response_class=HTMLResponse, summary="How to embed the widget")
    async def embed_page(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        body = render_page("embed.html", {"base": base, "org": DEMO_ORG})
        return HTMLResponse(body, headers=page_headers)

    return router

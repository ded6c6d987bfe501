"""Chat webhooks reached by one dictionary lookup instead of the router's walk.

Every message of every channel arrives on one of a few fixed POST paths. Starlette's router
tries each route's pattern in turn (with FastAPI's per-route matching), which cost more CPU per
message than reading the update. This middleware sits innermost, inside the edge guards, the
outage guard and CORS, so those still apply; what it skips is the router and FastAPI's
HTTPException handling, which plain Starlette endpoints (all the channels') do not use. Any
other request goes on to the router as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from starlette.routing import Route

if TYPE_CHECKING:
    from fastapi import APIRouter
    from starlette.types import ASGIApp, Receive, Scope, Send


def exact_posts(routers: Iterable[APIRouter]) -> dict[str, ASGIApp]:
    """Path -> endpoint app of every plain POST route (no path parameters) in `routers`."""
    found: dict[str, ASGIApp] = {}
    for router in routers:
        for route in router.routes:
            if (
                type(route) is Route
                and route.methods is not None
                and "POST" in route.methods
                and not route.param_convertors
            ):
                found[route.path] = route.app
    return found


class DirectPosts:
    """ASGI middleware: a POST to a known webhook path goes straight to its endpoint."""

    def __init__(self, app: ASGIApp, routes: dict[str, ASGIApp]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.routes.get(scope["path"])
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)

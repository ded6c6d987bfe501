"""uvicorn's server with a slower heartbeat.

uvicorn wakes ten times a second to see whether it should stop and, every tenth time, to
refresh the Date header. On an idle or lightly loaded machine each wake-up costs more CPU
than the check (the caches have gone cold), and a replica that waits for radio listeners is
idle most of the time. This server wakes once a second, and at once when told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import FrameType

import uvicorn

HEARTBEAT_S = 1.0
_TICKS_PER_DATE = 10  # uvicorn refreshes the Date header when its counter is a multiple


class Server(uvicorn.Server):
    """`uvicorn.Server`, waking once a second instead of ten times."""

    _stop: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._stop is not None:  # a signal handler: wake the loop from its wait
            loop, event = self._stop
            loop.call_soon_threadsafe(event.set)

    async def main_loop(self) -> None:
        event = asyncio.Event()
        self._stop = (asyncio.get_running_loop(), event)
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), HEARTBEAT_S)
            counter = (counter + _TICKS_PER_DATE) % 864_000
            should_exit = await self.on_tick(counter)


def run(app: object, **config: object) -> None:
    """`uvicorn.run` for an app object, with this server."""
    Server(uvicorn.Config(app, **config)).run()  # type: ignore[arg-type]

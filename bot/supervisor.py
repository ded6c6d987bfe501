"""`serve --workers N`: the app's code is imported once, then the workers are forked.

Spawned workers (uvicorn's default) each start a fresh interpreter and import the whole
application again, one after the other competing for the same cores: seconds before the first
answer. Forked workers inherit the imported modules and the loaded quiz and start in parallel
at once; they share one listening socket. Preparation (demo data, the language model) runs once
in this process, beside them (bot.startup.prepare_beside_workers), started after the fork so no
thread is copied into a worker. A worker that dies is replaced; SIGTERM/SIGINT stop them all.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _serve_in_child(sock: socket.socket, access_log: bool) -> None:
    """The worker: build the app (modules are imported already) and serve until told to stop."""
    import uvicorn

    from bot.http_server import Server
    from bot.startup import worker_app

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    config = uvicorn.Config(
        worker_app(), access_log=access_log, log_level="warning", timeout_graceful_shutdown=20
    )
    Server(config).run(sockets=[sock])


def run(
    host: str,
    port: int,
    workers: int,
    access_log: bool,
    beside: Callable[[], Any],
) -> None:
    """Fork `workers` processes serving on host:port; `beside()` runs here once they are off."""
    from bot.startup import worker_app

    worker_app()  # imports and caches (quiz, templates) once, before forking; no connections
    sock = listen(host, port)
    children: set[int] = set()
    stopping = False

    def fork() -> None:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 0
            try:
                _serve_in_child(sock, access_log)
            except BaseException:
                log.exception("worker failed")
                code = 1
            finally:
                os._exit(code)
        children.add(pid)

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                children.discard(pid)

    for _ in range(workers):
        fork()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    beside()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries for us
            continue
        children.discard(pid)
        if not stopping:
            log.warning("worker %d stopped (status %d); starting a new one", pid, status)
            time.sleep(0.5)
            fork()
    sock.close()

"""Prometheus metrics of the message pipeline and the HTTP edge.

With several worker processes, `serve` sets PROMETHEUS_MULTIPROC_DIR before the workers start
and `/metrics` then aggregates all of them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

TURNS = Counter("vk_turns", "Inbound messages handled by the pipeline", ["channel", "outcome"])
LATENCY = Histogram(
    "vk_turn_seconds",
    "Time to handle one inbound message (lock, engine, storage)",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
ERRORS = Counter("vk_errors", "Failures by channel and kind", ["channel", "kind"])
REJECTED = Counter("vk_rejected_requests", "Requests refused with a 4xx", ["channel", "reason"])
IGNORED = Counter(
    "vk_updates_ignored",
    "Signed platform updates acknowledged but not used (malformed or unsupported)",
    ["channel", "reason"],
)
FLOOD = Counter(
    "vk_flood_refused", "Messages refused by flood control (bot/flood.py)", ["channel", "reason"]
)


_children: dict[str, tuple[Counter, Counter, Histogram]] = {}


def observe_turn(channel: str, seconds: float, duplicate: bool) -> None:
    children = _children.get(channel)
    if children is None:
        # Labelled children are looked up once per channel: this runs on every message.
        children = (
            TURNS.labels(channel, "processed"),
            TURNS.labels(channel, "duplicate"),
            LATENCY.labels(channel),
        )
        _children[channel] = children
    processed, duplicates, latency = children
    (duplicates if duplicate else processed).inc()
    latency.observe(seconds)


def error(channel: str, kind: str) -> None:
    ERRORS.labels(channel, kind).inc()


def rejected(channel: str, reason: str) -> None:
    REJECTED.labels(channel, reason).inc()


def ignored(channel: str, reason: str) -> None:
    IGNORED.labels(channel, reason).inc()


def flood(channel: str, reason: str) -> None:
    FLOOD.labels(channel, reason).inc()


def render() -> tuple[bytes, str]:
    """The exposition text (all workers' values when running multi-process)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST

"""The loopback fuzzer with a small fixed budget and seed (the full run is
`python -m tests.fuzz.http_fuzzer --requests 20000`; figures in the README, "Limits")."""

from __future__ import annotations

import os

from tests.fuzz.http_fuzzer import run

BUDGET = 1500
SEED = 1


def test_hostile_requests_get_no_5xx_and_leave_the_server_healthy() -> None:
    db = "postgres" if os.environ.get("VK_TEST_DATABASE_URL") else "sqlite"
    summary = run(BUDGET, SEED, db=db, concurrency=6, warmup=300)
    assert summary.requests == BUDGET
    assert summary.server_errors == 0, summary.failures[:5]
    assert summary.healthy and summary.conversation_ok
    assert summary.growth <= 0.10, summary.to_dict()
    # Every edge was reached, and refused what it had to.
    kinds = summary.by_kind
    assert {"rest", "telegram", "whatsapp", "page", "admin", "cors"} <= set(kinds)
    assert kinds["rest"][400] and kinds["rest"][422] and kinds["telegram"][403]

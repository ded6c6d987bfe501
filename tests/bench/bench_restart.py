"""How fast `serve --workers 2` answers again after a crash (kill -9), with a trained model and
the demo data in place: the procedure of tests/bot/commands/test_serve_restart.py, reported.

    .venv/bin/python -m tests.bench.bench_restart [--restarts 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bot.config import Settings
from tests.bot.commands.test_serve_restart import restart_timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--restarts", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vk-restart-") as tmp:
        root = Path(tmp)
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{root / 'bench.db'}",
            secret_key="bench",
            model_dir=root / "nlu",
        )
        timings = restart_timings(settings, root, args.restarts)
    print(
        f"serve --workers 2, start to first answer after kill -9: "
        f"min {min(timings):.2f} s, median {statistics.median(timings):.2f} s, "
        f"max {max(timings):.2f} s ({len(timings)} restarts)"
    )


if __name__ == "__main__":
    main()

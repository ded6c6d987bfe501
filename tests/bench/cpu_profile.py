"""Run a module under cProfile with the main thread's CPU clock. The default clock is wall time,
which on a shared machine charges other processes' time and the event loop's idle waits to
whatever runs; a process clock charges the other threads' work (the database driver's, the
background preparation's) to whatever the main thread was doing.

    python -m tests.bench.cpu_profile OUT.prof -m bot.cli serve ...

The profile is written when the program ends, also by SIGINT.
"""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    out, flag, module, *rest = sys.argv[1:]
    if flag != "-m":
        raise SystemExit(__doc__)
    sys.argv = [module, *rest]
    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        profile.disable()
        profile.dump_stats(out)


if __name__ == "__main__":
    main()

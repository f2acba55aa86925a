"""server.py with every worker process under cProfile (bench/intake.py --profile FILE).

    python bench/profiled_server.py FILE [server.py arguments]

Each worker writes FILE.<pid> when it stops (``--workers 2``: one file per worker);
times are the process's CPU time, not wall-clock time.
"""
import cProfile
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from overlay import cli  # noqa: E402

OUT = sys.argv.pop(1)
_run_worker = cli.run_worker


def run_worker(*args, **kwargs):
    profile = cProfile.Profile(time.process_time)  # CPU time: a busy machine inflates wall time
    try:
        profile.runcall(_run_worker, *args, **kwargs)
    finally:
        profile.dump_stats(f'{OUT}.{os.getpid()}')


cli.run_worker = run_worker  # _supervise and _run_single look it up when they run
cli.main()

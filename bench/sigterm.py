"""SIGTERM during a burst: how long ``python server.py`` takes to exit, and how each request ended.

    python bench/sigterm.py [--requests 500] [--after 50] [--rounds 3] [--listeners 20] [--smoke]

Each round starts the server on the shipped demo channel (embedded backend, a temporary
data dir), connects Socket.IO listeners as overlays would, fires the requests at once
(one connection each, tests/burst.py), sends SIGTERM once ``--after`` answers have come
back, and prints the time from SIGTERM to exit, the exit status and the outcomes.
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import smoke_mode  # noqa: E402
from tests.burst import OUTCOMES, burst, donation_request  # noqa: E402
from tests.support import MOD_TOKEN, OVERLAY_KEY, Listener, ServerProcess, free_port  # noqa: E402
from tests.test_processes import write_config  # noqa: E402


async def one_round(n: int, after: int, listeners: int, verbose: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        srv = await ServerProcess(write_config(Path(tmp)), free_port()).start()
        clients = [await Listener().connect(srv.url, "/overlay", channel="demo", key=OVERLAY_KEY)
                   for _ in range(listeners)]
        sent: dict[str, float] = {}

        def on_answer(count: int) -> None:
            if count >= after and "t" not in sent:
                sent["t"] = time.perf_counter()
                srv.proc.send_signal(signal.SIGTERM)

        requests = [donation_request(srv.port, MOD_TOKEN, i) for i in range(n)]
        outcomes, statuses = await burst(srv.port, requests, on_answer=on_answer)
        code = await asyncio.to_thread(srv.proc.wait, 60)
        exit_s = time.perf_counter() - sent["t"]
        for c in clients:
            await c.close()
        print(f"exit {code} in {exit_s:.2f} s after SIGTERM; "
              + ", ".join(f"{k} {outcomes[k]}" for k in OUTCOMES) + f"; statuses {dict(statuses)}", flush=True)
        if verbose:
            print(srv.output()[-3000:])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=500)
    p.add_argument("--after", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--listeners", type=int, default=20)
    p.add_argument("--log", action="store_true", help="print the end of the server's log")
    a = smoke_mode.parse(p, {"requests": 20, "after": 5, "rounds": 1, "listeners": 2})
    for _ in range(a.rounds):
        asyncio.run(one_round(a.requests, a.after, a.listeners, a.log))


main()

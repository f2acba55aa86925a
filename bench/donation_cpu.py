"""CPU time of one donation's own work in this process, without I/O: screen and record
it, count it (match, totals, alert queue, events), encode its events once for the log
and into the Socket.IO packet of each namespace. A busy machine slows wall-clock figures by a factor
that changes from run to run; the CPU time of a fixed loop moves much less.

    python bench/donation_cpu.py [--donations 3000] [--backlog 500] [--rounds 5] [--smoke]

Prints µs of CPU per donation (the best and the median of the rounds) for an empty
queue and a queue of ``--backlog`` waiting alerts, in the channel of config.yaml.
Run it from another checkout (``cd /tmp/old && python /path/to/bench/donation_cpu.py``)
to compare two versions: it imports ``overlay`` from the current directory first.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.getcwd())

import smoke_mode  # noqa: E402
from overlay.config import load_config  # noqa: E402
from overlay.domain import donations  # noqa: E402
from overlay.domain.state import ChannelState  # noqa: E402
from overlay.realtime import fastemit  # noqa: E402
from socketio.packet import Packet  # noqa: E402

Encoded = getattr(fastemit, "Encoded", None)


def _packet(ev, namespace: str) -> str:
    """The Socket.IO packet as the broadcast makes it (before Encoded: encoded by python-socketio)."""
    if Encoded is None:
        return Packet(2, namespace=namespace, data=[ev.type, ev.data]).encode()
    return fastemit._packet_text(Packet, ev.type, Encoded(ev.data, ev.data_json), namespace)


def _state_with_backlog(cfg, backlog: int) -> ChannelState:
    state = ChannelState.initial(cfg)
    state.alerts["paused"] = True  # the backlog stays waiting, as with a stream's pause
    for i in range(backlog):
        rec = donations.new_record(cfg, donations.DonationInput(amount="5.00", donor_name=f"Backlog {i}"), 0)
        state = donations.accept_donation(cfg, state, rec, 0).state
    return state


def _round(cfg, state: ChannelState, n: int) -> float:
    started = time.process_time()
    for i in range(n):
        inp = donations.DonationInput(amount=f"{5 + i % 50}.{i % 100:02d}", donor_name=f"Donor {i % 977}",
                                      message="Bravo pour le stream, continue comme ça !", external_id=f"x{i}")
        rec = donations.new_record(cfg, inp, 1_700_000_000_000 + i)
        change = donations.accept_donation(cfg, state, rec, 1_700_000_000_000 + i)
        for ev in change.events:
            ev.to_json()  # the log (and the Redis message)
            for ns in (("/overlay", "/dashboard") if ev.audience == "overlay" else ("/dashboard",)):
                _packet(ev, ns)
        state = change.state
    return (time.process_time() - started) / n * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--donations", type=int, default=3000)
    p.add_argument("--backlog", type=int, default=500)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--config", default="config.yaml")
    a = smoke_mode.parse(p, {"donations": 100, "backlog": 20, "rounds": 1})
    cfg = load_config(a.config).channels[0]
    for backlog in (0, a.backlog):
        base = _state_with_backlog(cfg, backlog)
        runs = [_round(cfg, base, a.donations) for _ in range(a.rounds)]
        print(f"queue {backlog:>4}: {min(runs):7.1f} µs CPU per donation (best of {a.rounds}), "
              f"median {statistics.median(runs):.1f}")


if __name__ == "__main__":
    main()

"""CPU time of the embedded store's group commit, per channel: the SQLite part a donation
spread over many channels pays (its channel's checks, rows and state) without HTTP or the
event loop. A busy machine slows wall-clock figures; the CPU time of a fixed loop moves much less.

    python bench/group_write.py [--channels 20] [--groups 150] [--rounds 5] [--team] [--smoke]

Each group is one donation on each of --channels channels, written as the store's group
commit does (one transaction, one fsync) on a fresh SQLite file; prints µs of process CPU
per channel part (the best and the median of the rounds; the fsync's own system time is in
it). Run it from another checkout (``cd /tmp/old && python /path/to/bench/group_write.py``)
to compare two versions: it imports ``overlay`` from the current directory first.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())

import smoke_mode  # noqa: E402
from overlay.config import load_config  # noqa: E402
from overlay.domain import donations  # noqa: E402
from overlay.store.embedded import EmbeddedStore  # noqa: E402

NOW = 1_800_000_000_000


async def _round(cfg, channels: int, groups: int, team: bool) -> float:
    with tempfile.TemporaryDirectory() as folder:
        cfgs = [cfg.model_copy(update={"id": f"c{i:05d}"}) for i in range(channels)]
        store = EmbeddedStore(Path(folder))
        await store.open(cfgs)
        try:
            states = {c.id: await store.load(c) for c in cfgs}
            if team:  # every channel a member of one team: each part also moves the team's totals
                await store.rebuild_team_totals("bench", [c.id for c in cfgs], {c.id for c in cfgs})
            spent = 0.0
            for g in range(groups):
                items = []
                for c in cfgs:
                    rec = donations.new_record(c, donations.DonationInput(amount="5.00", donor_name="Bench"), NOW + g)
                    change = donations.accept_donation(c, states[c.id], rec, NOW + g)
                    states[c.id] = change.state
                    items.append((c.id, [change], ()))
                started = time.process_time()
                outcomes = store._write_many(items)  # what the SQLite thread runs for one group
                spent += time.process_time() - started
                if not all(o == (True, states[c.id].seq) for o, c in zip(outcomes, cfgs)):
                    raise SystemExit(f"a part did not commit: {outcomes}")
        finally:
            await store.close()
    return spent / (groups * channels) * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--channels", type=int, default=20, help="channels in a group (default 20)")
    p.add_argument("--groups", type=int, default=150)
    p.add_argument("--team", action="store_true", help="the channels are the members of one team")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--config", default="config.yaml")
    a = smoke_mode.parse(p, {"channels": 3, "groups": 5, "rounds": 1})
    cfg = load_config(a.config).channels[0]
    runs = [asyncio.run(_round(cfg, a.channels, a.groups, a.team)) for _ in range(a.rounds)]
    team = " (one team)" if a.team else ""
    print(f"{a.channels} channels a group{team}: {min(runs):7.1f} µs CPU per channel part (best of {a.rounds}), "
          f"median {statistics.median(runs):.1f}")


if __name__ == "__main__":
    main()

"""Redis time of the commit script per channel part: what a donation spread over many
channels costs the Redis (which shares the server's core in bench/channels.py), without HTTP
or the event loop. A busy machine moves the figure less than a wall-clock rate.

    python bench/redis_commit.py [--channels 50] [--groups 100] [--rounds 5] [--smoke]

Each group is one donation on each of --channels channels, committed as the server's group
commit does (one script call for the group) to a private redis-server; prints µs of Redis
time per channel part (``INFO commandstats``: the script calls' usec over the parts), the
best and the median of the rounds. Run it from another checkout (``cd /tmp/old && python
/path/to/bench/redis_commit.py``) to compare two versions: it imports ``overlay`` from the
current directory first.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.getcwd())

import smoke_mode  # noqa: E402
from intake_setup import Redis  # noqa: E402
from overlay.config import load_config  # noqa: E402
from overlay.domain import donations  # noqa: E402
from overlay.store.redis import RedisStore  # noqa: E402

NOW = 1_800_000_000_000


async def _round(cfg, url: str, channels: int, groups: int) -> float:
    cfgs = [cfg.model_copy(update={"id": f"c{i:05d}"}) for i in range(channels)]
    store = RedisStore(url)
    await store.redis.flushdb()
    await store.open(cfgs)
    try:
        states = {c.id: await store.load(c) for c in cfgs}

        async def group(g: int) -> None:
            changes = []
            for c in cfgs:
                rec = donations.new_record(c, donations.DonationInput(amount="5.00", donor_name="Bench"), NOW + g)
                change = donations.accept_donation(c, states[c.id], rec, NOW + g)
                states[c.id] = change.state
                changes.append((c.id, change))
            outcomes = await asyncio.gather(*(store.commit_batch(channel, [ch]) for channel, ch in changes))
            if not all(ok for ok, _ in outcomes):
                raise SystemExit(f"a part did not commit: {outcomes}")

        await group(0)  # the scripts loaded, every channel written once
        await store.redis.config_resetstat()
        for g in range(1, groups + 1):
            await group(g)
        stats = await store.redis.info("commandstats")
        usec = sum(stats.get(f"cmdstat_{name}", {}).get("usec", 0) for name in ("evalsha", "eval"))
    finally:
        await store.close()
    return usec / (groups * channels)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--channels", type=int, default=50, help="channels in a group (default 50)")
    p.add_argument("--groups", type=int, default=100)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--config", default="config.yaml")
    a = smoke_mode.parse(p, {"channels": 3, "groups": 5, "rounds": 1})
    if shutil.which("redis-server") is None:
        smoke_mode.skipped("redis_commit.py", "no redis-server", ci_installs=True)
        return
    cfg = load_config(a.config).channels[0]
    with tempfile.TemporaryDirectory() as folder:
        redis = Redis(folder, None)
        try:
            runs = [asyncio.run(_round(cfg, redis.url, a.channels, a.groups)) for _ in range(a.rounds)]
        finally:
            redis.stop()
    print(f"{a.channels} channels a group: {min(runs):6.1f} µs of Redis per channel part (best of {a.rounds}), "
          f"median {statistics.median(runs):.1f}")


if __name__ == "__main__":
    main()

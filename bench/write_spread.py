"""Process CPU per donation of the write path alone, one channel against many: what
bench/channels.py's ratio loses in the writers and the store, without HTTP, and steadier than
a rate on a shared machine (CPU time moves less than wall-clock time when others take the core).

    python bench/write_spread.py [--channels 1000] [--senders 50] [--seconds 3] [--rounds 3]
                                 [--backend redis|embedded|both] [--smoke]

In this process: the store (a private redis-server with an append-only file, as in
channels.py, or an embedded store in a temporary folder), one ``ChannelWriter`` per channel
and --senders coroutines, each submitting one donation at a time (the operation the API's
``donate`` submits, without incentives or a team), round-robin over the channels. The garbage
collector is set up as the server sets it up (``overlay.cli.tune_gc``). Per backend: µs of this
process's CPU per donation (the SQLite thread included), for all senders on one channel and
spread over --channels, the median of the rounds; their ratio (one channel's CPU over the
spread's, what the write path alone would allow of one channel's rate); on Redis also the
Redis main thread's CPU per donation. Run it from another checkout (``cd /tmp/old && python
/path/to/bench/write_spread.py``) to compare two versions: it imports ``overlay`` from the
current directory first.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())

import smoke_mode  # noqa: E402
from channels import write_config  # noqa: E402
from intake_setup import Redis  # noqa: E402
from overlay.cli import GC_THRESHOLDS  # noqa: E402
from overlay.config import load_config  # noqa: E402
from overlay.domain import donations  # noqa: E402
from overlay.store.embedded import EmbeddedStore  # noqa: E402
from overlay.store.redis import RedisStore  # noqa: E402
from overlay.store.writer import ChannelWriter  # noqa: E402

MESSAGE = "Allez, on pousse jusqu'à l'objectif !"  # bench/intake_senders.py's


async def _redis_cpu(store) -> float:
    if not isinstance(store, RedisStore):
        return 0.0
    info = await store.redis.info("cpu")
    return info["used_cpu_user_main_thread"] + info["used_cpu_sys_main_thread"]


async def _run(make_store, cfgs, senders: int, seconds: float) -> tuple[float, float, int]:
    """(µs of process CPU per donation, µs of Redis CPU per donation, donations) in the window."""
    store = make_store()
    await store.open(cfgs)
    writers = [ChannelWriter(c, store) for c in cfgs]
    for w in writers:
        await w.current()  # every channel's state read before the window
    done, stop = 0, False

    async def sender(first: int) -> None:
        nonlocal done
        k = first
        while not stop:
            w = writers[k % len(writers)]
            k += senders
            rec = donations.new_record(w.cfg, donations.DonationInput(amount="5.00", donor_name="Bench donor",
                                                                      message=MESSAGE), int(time.time() * 1000))

            async def op(state, now, reads, rec=rec, cfg=w.cfg):
                return donations.accept_donation(cfg, state, rec, now)
            await w.submit(op)
            done += 1

    try:
        gc.collect()
        gc.freeze()  # what the server does once started
        tasks = [asyncio.create_task(sender(i)) for i in range(senders)]
        await asyncio.sleep(min(0.5, seconds))  # warm: groups formed, connections open
        d0, c0, r0 = done, time.process_time(), await _redis_cpu(store)
        await asyncio.sleep(seconds)
        d1, c1, r1 = done, time.process_time(), await _redis_cpu(store)
        stop = True
        await asyncio.gather(*tasks)
    finally:
        for w in writers:
            w.close()
        await store.close()
        gc.unfreeze()
    n = max(d1 - d0, 1)
    return (c1 - c0) / n * 1e6, (r1 - r0) / n * 1e6, n


def measure(backend: str, args, cfg, folder: str) -> dict:
    redis = Redis(folder, None) if backend == "redis" else None
    data = Path(folder) / "data"
    runs: dict[str, list[tuple[float, float, int]]] = {"1 channel": [], f"{args.channels} channels": []}
    try:
        for r in range(args.rounds):
            for label, count in (("1 channel", 1), (f"{args.channels} channels", args.channels)):
                cfgs = [cfg.model_copy(update={"id": f"r{r}n{count}c{i:05d}"}) for i in range(count)]
                if redis is not None:
                    make_store = lambda: RedisStore(redis.url)  # noqa: E731
                else:
                    shutil.rmtree(data, ignore_errors=True)
                    make_store = lambda: EmbeddedStore(data)  # noqa: E731
                runs[label].append(asyncio.run(_run(make_store, cfgs, args.senders, args.seconds)))
    finally:
        if redis is not None:
            redis.stop()
    return {label: (statistics.median(x[0] for x in rs), statistics.median(x[1] for x in rs),
                    sum(x[2] for x in rs)) for label, rs in runs.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--channels", type=int, default=1000)
    p.add_argument("--senders", type=int, default=50)
    p.add_argument("--seconds", type=float, default=3.0, help="window of each run (default 3)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--backend", choices=("embedded", "redis", "both"), default="both")
    a = smoke_mode.parse(p, {"channels": 5, "senders": 3, "seconds": 0.3, "rounds": 1})
    gc.set_threshold(*GC_THRESHOLDS)
    backends = ["embedded", "redis"] if a.backend == "both" else [a.backend]
    if "redis" in backends and shutil.which("redis-server") is None:
        smoke_mode.skipped("write_spread.py on Redis", "no redis-server", ci_installs=True)
        backends.remove("redis")
    with tempfile.TemporaryDirectory() as folder:
        config = os.path.join(folder, "config.yaml")
        write_config(config, os.path.join(folder, "data"), 1, 1)  # channels.py's channel settings
        cfg = load_config(config).channels[0]
        for backend in backends:
            found = measure(backend, a, cfg, folder)
            (one, one_redis, _), (spread, spread_redis, _) = found.values()
            print(f"== {backend}: µs of CPU per donation, median of {a.rounds} rounds of {a.seconds:g} s, "
                  f"{a.senders} senders")
            for label, (cpu, redis_cpu, n) in found.items():
                extra = f"; Redis {redis_cpu:5.1f}" if backend == "redis" else ""
                print(f"{label:<15} {cpu:6.1f}{extra}  ({n} donations)")
            with_redis = f"; with Redis's CPU: {(one + one_redis) / (spread + spread_redis):.2f}x" \
                if backend == "redis" else ""
            print(f"ratio {one / spread:.2f}x (one channel's CPU per donation over the spread's: what the write "
                  f"path alone allows of one channel's rate){with_redis}")


if __name__ == "__main__":
    main()

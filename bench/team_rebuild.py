"""Team totals in the store: a member's commit with and without a big team, and a rebuild.

    python bench/team_rebuild.py --members 10000 --commits 300

For each backend (embedded SQLite in a throw-away folder, then a private redis-server), the
store alone, no HTTP: N member channels with a committed state each; then

- commit: the mean time of one member's commit (its totals move) before the channel is in
  any team, and after it is in a team of N members: the same if the aggregate is O(1);
- rebuild: how long ``rebuild_team_totals`` takes for the N members (twice: the first also
  builds the per-channel membership, the second replaces it).

It imports ``overlay`` from the current directory first, so it measures that version.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())

import intake_setup  # noqa: E402
import smoke_mode  # noqa: E402
from overlay.config import load_config  # noqa: E402
from overlay.domain.state import OVERLAY, Change, ChannelState  # noqa: E402
from overlay.store.embedded import EmbeddedStore  # noqa: E402
from overlay.store.redis import STATE, RedisStore  # noqa: E402

HERE = Path(__file__).resolve().parent


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--members', '-n', type=int, default=10_000, help='members of the team (default 10000)')
    p.add_argument('--commits', type=int, default=300, help='commits timed each way (default 300)')
    p.add_argument('--backend', choices=('embedded', 'redis', 'both'), default='both')
    return smoke_mode.parse(p, {'members': 20, 'commits': 5}, argv)


async def time_commits(store, cfg, state: ChannelState, n: int) -> tuple[float, ChannelState]:
    started = time.perf_counter()
    for _ in range(n):
        change = Change.begin(state, int(time.time() * 1000))
        change.state.totals['raised'] += 100
        change.state.totals['count'] += 1
        change.emit('progress', OVERLAY, {})
        ok, _ = await store.commit_batch(cfg.id, [change])
        assert ok
        state = change.state
    return (time.perf_counter() - started) / n * 1000, state


async def run(store, cfg, members: list[str], commits: int, fill) -> dict:
    state = await store.load(cfg)
    await fill(state)
    alone, state = await time_commits(store, cfg, state, commits)
    rebuilds = []
    for _ in range(2):
        started = time.perf_counter()
        await store.rebuild_team_totals('bench', members, set(members))
        rebuilds.append((time.perf_counter() - started) * 1000)
    in_team, state = await time_commits(store, cfg, state, commits)
    totals = await store.team_totals('bench')
    expected = (len(members) - 1) * 500 + state.totals['raised']
    assert totals is not None and totals['raised'] == expected, (totals, expected)
    return {'commit_alone_ms': alone, 'commit_in_team_ms': in_team, 'rebuild_ms': rebuilds}


async def embedded(cfg, members: list[str], commits: int, folder: str) -> dict:
    store = EmbeddedStore(Path(folder))
    await store.open([cfg])

    async def fill(state: ChannelState) -> None:
        others = state.copy()
        others.totals = {'raised': 500, 'matched': 0, 'count': 1}
        with sqlite3.connect(store.path) as db:  # the others' states, written as the store writes them
            db.executemany('INSERT OR REPLACE INTO channel_state VALUES (?, 1, ?)',
                           [(m, others.to_json()) for m in members[1:]])
    try:
        return await run(store, cfg, members, commits, fill)
    finally:
        await store.close()


async def redis(cfg, members: list[str], commits: int, url: str) -> dict:
    store = RedisStore(url)
    await store.open([cfg])

    async def fill(state: ChannelState) -> None:
        others = state.copy()
        others.totals = {'raised': 500, 'matched': 0, 'count': 1}
        body = others.to_json()
        async with store.redis.pipeline(transaction=False) as pipe:
            for m in members[1:]:
                pipe.set(store.keys(m)[STATE], body)
            await pipe.execute()
    try:
        return await run(store, cfg, members, commits, fill)
    finally:
        await store.close()


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(str(HERE / 'bench-config.yaml')).channels[0]
    members = [cfg.id] + [f'm{i:05d}' for i in range(1, args.members)]
    results = {}
    with tempfile.TemporaryDirectory(prefix='overlay-team-rebuild-') as folder:
        if args.backend in ('embedded', 'both'):
            results['embedded'] = asyncio.run(embedded(cfg, members, args.commits, folder))
        if args.backend in ('redis', 'both'):
            server = intake_setup.Redis(folder, None)
            try:
                results['redis'] = asyncio.run(redis(cfg, members, args.commits, server.url))
            finally:
                server.stop()
    for backend, r in results.items():
        print(f'== {backend} == team of {args.members}')
        print(f'commit, in no team     {r["commit_alone_ms"]:7.2f} ms')
        print(f'commit, in the team    {r["commit_in_team_ms"]:7.2f} ms')
        print(f'rebuild                {r["rebuild_ms"][0]:7.0f} ms, again {r["rebuild_ms"][1]:.0f} ms')


if __name__ == '__main__':
    main()

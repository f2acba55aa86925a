"""Intake under load: C concurrent donation POSTs while N overlays watch.

    python bench/intake.py --senders 50 --seconds 10 --overlays 1000 --backend redis

Starts the real server (python server.py, generated config, private data
folder, private Redis for --backend redis) pinned to --server-core, runs the
senders (bench/intake_senders.py) and the overlays (bench/intake_overlays.py)
pinned to --client-core, checks that every overlay got every accepted
donation exactly once in seq order, prints the figures and one JSON line, and
stops everything. --bare repeats the same senders against a bare aiohttp
handler (bench/bare_intake.py) and prints ours/bare.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
import uuid

import aiohttp

import intake_overlays
import intake_setup
import intake_stats
import smoke_mode
import wsload
from intake_senders import Senders
from intake_setup import CHANNEL, OVERLAY_KEY, TOKEN

AMOUNT = '5.00'
BACKLOG_AMOUNT = '1000.00'  # over alerts.min_amount even with --no-alerts
CHECK_TIMEOUT_S = 60


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--senders', '-c', type=int, default=1, help='concurrent senders C (default 1)')
    p.add_argument('--seconds', '-s', type=float, default=10.0, help='measuring window S (default 10)')
    p.add_argument('--overlays', '-n', type=int, default=1, help='overlay connections N, 0 to 10,000 (default 1)')
    p.add_argument('--backend', choices=('embedded', 'redis'), default='embedded')
    p.add_argument('--workers', type=int, choices=(1, 2), default=1, help='server processes (redis only)')
    p.add_argument('--server-core', default='0', help='taskset CPU list for the server and Redis (default 0)')
    p.add_argument('--client-core', type=int, default=1, help='CPU for senders and overlays (default 1)')
    p.add_argument('--no-pin', action='store_true', help='do not pin anything')
    p.add_argument('--backlog', type=int, default=0, help='alerts waiting before measuring (pause, post K, resume)')
    p.add_argument('--no-alerts', action='store_true',
                   help='measured donations stay under alerts.min_amount: the queue keeps its length')
    p.add_argument('--bare', action='store_true', help='also run the senders against bench/bare_intake.py')
    p.add_argument('--profile', metavar='FILE', help='each server worker under cProfile, stats to FILE.<pid>')
    p.add_argument('--label', default='', help='free text copied into the JSON line')
    args = smoke_mode.parse(p, {'seconds': 1.0, 'senders': 2, 'overlays': 3}, argv)
    if args.workers > 1 and args.backend != 'redis':
        p.error('--workers 2 needs --backend redis')
    if not 0 <= args.overlays <= 10_000 or not 1 <= args.senders <= 1000 or not 0 < args.seconds <= 600:
        p.error('bounds: 0 <= overlays <= 10000, 1 <= senders <= 1000, 0 < seconds <= 600')
    if args.no_pin or len(os.sched_getaffinity(0)) < 2:
        args.server_core = args.client_core = None
    return args


class Overlays:
    """N overlay connections in worker processes (spawned, pinned to the client core)."""

    def __init__(self, port: int, n: int, core: int | None):
        procs = max(1, -(-n // 5000)) if n else 0
        ctx = multiprocessing.get_context('spawn')
        auth = {'channel': CHANNEL, 'key': OVERLAY_KEY}
        self.pipes, self.procs = [], []
        for i in range(procs):
            count = n // procs + (1 if i < n % procs else 0)
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=intake_overlays.worker_main, daemon=True, args=(
                theirs, '127.0.0.1', port, count, auth, max(1, 128 // procs), core))
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    def pids(self):
        return [os.getpid()] + [p.pid for p in self.procs]

    def ask(self, cmd, arg=None):
        for pipe in self.pipes:
            pipe.send((cmd, arg))
        return [pipe.recv() for pipe in self.pipes]

    def close(self):
        if self.pipes:
            self.ask('close')
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()


async def channel_state(base: str) -> dict:
    async with aiohttp.ClientSession() as s:
        async with s.get(f'{base}/api/v1/channels/{CHANNEL}/state',
                         headers={'Authorization': f'Bearer {TOKEN}'}) as r:
            return await r.json()


async def alerts_action(base: str, action: str) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.post(f'{base}/api/v1/channels/{CHANNEL}/alerts/{action}',
                          headers={'Authorization': f'Bearer {TOKEN}'}) as r:
            if r.status != 200:
                raise RuntimeError(f'alerts/{action} answered {r.status}')


async def wait_healthy(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while True:
            try:
                async with s.get(f'{base}/healthz') as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError('server not healthy in time')
            await asyncio.sleep(0.1)


def prefill(base: str, count: int, run_id: str) -> None:
    """K alerts waiting: pause, post K donations, resume (the queue then drains at 1/s)."""
    asyncio.run(alerts_action(base, 'pause'))
    done = asyncio.run(Senders(base, CHANNEL, TOKEN, run_id + '-backlog').prefill(count, BACKLOG_AMOUNT))
    if done.errors:
        raise RuntimeError(f'backlog: {done.errors}')
    asyncio.run(alerts_action(base, 'resume'))


def measure_ours(args) -> dict:
    run_id = uuid.uuid4().hex[:8]
    with intake_setup.Setup(args, bare=False) as setup:
        base = f'http://127.0.0.1:{setup.target.port}'
        asyncio.run(wait_healthy(base))
        if args.backlog:
            prefill(base, args.backlog, run_id)
        overlays = Overlays(setup.target.port, args.overlays, args.client_core)
        try:
            connect = overlays.ask('connect')
            connect_errors = [e for _, errs in connect for e in errs]
            queue_before = asyncio.run(channel_state(base))['alerts']['queue_length']
            cpu = intake_stats.CpuMeter(setup.pids(), overlays.pids(), intake_stats.cores_of(args))
            outcome = asyncio.run(Senders(base, CHANNEL, TOKEN, run_id).run(
                args.senders, args.seconds, AMOUNT))
            cpu.stop()
            expected = intake_stats.accepted(outcome)
            checks = overlays.ask('check', (expected, CHECK_TIMEOUT_S)) if args.overlays else []
            queue_after = asyncio.run(channel_state(base))['alerts']['queue_length']
        finally:
            overlays.close()
    figures = intake_stats.summarize(outcome, checks, args.overlays)
    figures.update(queue_before=queue_before, queue_after=queue_after,
                   connect_errors=len(connect_errors), **cpu.figures())
    figures['server_cpu_ms_per_donation'] = intake_stats.per_donation(figures)
    if connect_errors:
        print(f'overlay connect errors: {len(connect_errors)}, e.g. {connect_errors[0]}', file=sys.stderr)
    return figures


def measure_bare(args) -> dict:
    with intake_setup.Setup(args, bare=True) as setup:
        base = f'http://127.0.0.1:{setup.target.port}'
        asyncio.run(wait_healthy(base))
        cpu = intake_stats.CpuMeter(setup.pids(), [os.getpid()], intake_stats.cores_of(args))
        outcome = asyncio.run(Senders(base, CHANNEL, TOKEN, 'bare').run(
            args.senders, args.seconds, AMOUNT))
        cpu.stop()
    figures = intake_stats.summarize(outcome, [], 0)
    figures.update(cpu.figures())
    figures['server_cpu_ms_per_donation'] = intake_stats.per_donation(figures)
    return figures


def main(argv=None):
    args = parse_args(argv)
    wsload.raise_nofile()
    if args.client_core is not None:
        os.sched_setaffinity(0, {args.client_core})
    print(intake_stats.describe_run(args), flush=True)
    ours = measure_ours(args)
    intake_stats.report('ours', ours)
    result = {'args': {k: v for k, v in vars(args).items()}, 'ours': ours}
    if args.bare:
        bare = measure_bare(args)
        intake_stats.report('bare aiohttp handler (no overlays)', bare)
        result['bare'] = bare
        result['ratio'] = intake_stats.ratio(ours, bare)
        print(f'ours/bare: accepted/s {result["ratio"]["accepted_per_s"]:.3f}, '
              f'p99 201 {result["ratio"]["p99_ms"]:.2f}x')
    print(json.dumps(result, separators=(',', ':')), flush=True)
    return 1 if ours['delivery_ok'] is False else 0


if __name__ == '__main__':
    sys.exit(main())

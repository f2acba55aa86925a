"""Many channels: the same donation load on 1 channel, spread over N, spread over one team.

    python bench/channels.py --channels 1000 --senders 50 --seconds 8

For each backend (embedded, then a private Redis), one server process with N channels
(written in a generated config.yaml: teams need config channels, and the config loads
10,000 channels in well under a second) pinned to --server-core, and on --client-core
the senders of bench/intake.py, each POST going to the next channel round-robin:

- 1 channel: every sender on c00000;
- N channels: spread over c00000..c{N-1} (in no team);
- team: spread over the --team members of one team, t00000..t{team-1}: channels of their own,
  so that the N-channel run measures channels and this one what a team adds.

Each load runs --rounds times, in turn with the others (a shared machine's speed drifts
between runs). Printed per backend: accepted/s, 201 p50/p99 and CPU of the median round,
[the slowest-fastest round], and each load's ratio to one channel: the median of the rounds'
ratios, each to the 1-channel run of its own round. Then:

- memory per idle channel: server RSS growth / N after one state read on each channel
  (each read creates the channel's service and loads its state);
- idle-process CPU (Redis): a second server process on the same Redis with no clients,
  while the first serves N channels at --rate donations/s: the idle one's CPU %.
"""
import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import time
import uuid

import aiohttp

import intake_setup
import intake_stats
import smoke_mode
import targets
import wsload
from intake import wait_healthy
from intake_senders import Senders

AMOUNT = '5.00'
TOKEN = intake_setup.TOKEN
TOUCH_CONCURRENCY = 16


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--channels', '-n', type=int, default=1000, help='channels N (default 1000)')
    p.add_argument('--senders', '-c', type=int, default=50, help='concurrent senders (default 50)')
    p.add_argument('--seconds', '-s', type=float, default=8.0, help='window of each run (default 8)')
    p.add_argument('--rate', type=float, default=500.0, help='donations/s during the idle-process run (default 500)')
    p.add_argument('--team', type=int, default=100, help='members of the team, channels besides the N (default 100)')
    p.add_argument('--rounds', '-r', type=int, default=3,
                   help='rounds of the loads, one after the other (default 3): each figure is the median '
                        "round's, each ratio the median of the rounds' (a shared machine's speed drifts)")
    p.add_argument('--backend', choices=('embedded', 'redis', 'both'), default='both')
    p.add_argument('--no-warmup', action='store_true',
                   help='time each run from cold: no donation per channel before its window (a '
                        'channel written for the first time in a while pays its state read and, on '
                        'Redis, its subscription)')
    p.add_argument('--idle-only', action='store_true',
                   help='Redis only: just the idle-process CPU run (no load runs, no memory figure)')
    p.add_argument('--server-core', default='0', help='taskset CPU list for the server(s) and Redis (default 0)')
    p.add_argument('--client-core', type=int, default=1, help='CPU for the senders (default 1)')
    p.add_argument('--no-pin', action='store_true', help='do not pin anything')
    p.add_argument('--only', choices=('single', 'spread', 'team'), action='append',
                   help='run only these loads (repeatable; default all three)')
    p.add_argument('--profile', metavar='FILE',
                   help='server under cProfile (bench/profiled_server.py): FILE.<pid> when it stops')
    args = smoke_mode.parse(p, {'channels': 5, 'senders': 2, 'seconds': 0.5, 'rate': 20.0, 'rounds': 1}, argv)
    if not 1 <= args.team <= 10_000:
        p.error('bounds: 1 <= team <= 10000')
    if not 1 <= args.channels <= 10_000 or not 1 <= args.senders <= 1000 or not 0 < args.seconds <= 60:
        p.error('bounds: 1 <= channels <= 10000, 1 <= senders <= 1000, 0 < seconds <= 60')
    if not 1 <= args.rounds <= 20:
        p.error('bounds: 1 <= rounds <= 20')
    if args.no_pin or len(os.sched_getaffinity(0)) < 2:
        args.server_core = args.client_core = None
    args.workers, args.no_alerts = 1, True  # what intake_setup.Setup reads
    return args


def channel_id(i: int) -> str:
    return f'c{i:05d}'


def member_id(i: int) -> str:
    return f't{i:05d}'


def write_config(path: str, data_dir: str, n: int, team: int) -> None:
    """N channels and a team of ``team`` more (the moderator token shared: the senders need one header)."""
    lines = ['server: {host: 127.0.0.1, port: 8080}',
             f'storage: {{redis_url: null, data_dir: "{data_dir}"}}', 'channels:']
    for channel in [*map(channel_id, range(n)), *map(member_id, range(team))]:
        lines.append(f'  - {{id: {channel}, name: "Bench {channel}", currency: EUR, '
                     f'overlay_key: bench-key-{channel}, moderator_tokens: [{TOKEN}], '
                     f'alerts: {{min_amount: "1000.00", duration_ms: 1000, gap_ms: 0}}}}')
    members = ', '.join(map(member_id, range(team)))
    lines += ['teams:', f'  - {{id: bench-team, name: "Bench team", goal: "100000", channels: [{members}]}}']
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')


class ManyChannelsSetup(intake_setup.Setup):
    def _write_config(self) -> str:
        path = os.path.join(self.folder.name, 'config.yaml')
        write_config(path, os.path.join(self.folder.name, 'data'), self.args.channels, self.args.team)
        return path


class SpreadSenders(Senders):
    """intake.py's senders, each POST to the next channel of ``channels``; ``rate`` paces them."""

    def __init__(self, base_url: str, channels: list[str], run_id: str, rate: float | None = None):
        super().__init__(base_url, channels[0], TOKEN, run_id)
        self.urls = itertools.cycle([f'{base_url}/api/v1/channels/{c}/donations' for c in channels])
        self.rate = rate

    @property
    def url(self):
        return next(self.urls)

    @url.setter
    def url(self, _value):
        pass  # Senders.__init__ sets one URL; ours cycle

    async def post(self, session, amount, outcome):
        if self.rate:  # each sender its share of the rate; a slow answer is not made up for
            started = time.monotonic()
            res = await super().post(session, amount, outcome)
            await asyncio.sleep(max(0.0, self.senders / self.rate - (time.monotonic() - started)))
            return res
        return await super().post(session, amount, outcome)

    async def run(self, senders, seconds, amount):
        self.senders = senders
        return await super().run(senders, seconds, amount)


async def warm_up(base: str, channels: list[str]) -> int:
    """One donation per channel before a timed run (its writer loaded and, on Redis, subscribed:
    a campaign's steady state); the number refused."""
    failed = 0
    todo = iter(channels)
    async with aiohttp.ClientSession(headers={'Authorization': f'Bearer {TOKEN}'}) as s:
        async def one():
            nonlocal failed
            for channel in todo:
                async with s.post(f'{base}/api/v1/channels/{channel}/donations',
                                  json={'amount': AMOUNT, 'donor_name': 'warm-up', 'source': 'bench'}) as r:
                    await r.read()
                    failed += r.status != 201
        await asyncio.gather(*(one() for _ in range(TOUCH_CONCURRENCY)))
    return failed


async def touch_all(base: str, n: int) -> int:
    """One state read per channel; the number that failed."""
    failed = 0
    todo = iter(range(n))
    async with aiohttp.ClientSession(headers={'Authorization': f'Bearer {TOKEN}'}) as s:
        async def one():
            nonlocal failed
            for i in todo:
                async with s.get(f'{base}/api/v1/channels/{channel_id(i)}/state') as r:
                    await r.read()
                    failed += r.status != 200
        await asyncio.gather(*(one() for _ in range(TOUCH_CONCURRENCY)))
    return failed


def load_runs(args, base: str, setup) -> dict:
    """Each load, --rounds times in turn (1 channel, N channels, team; again...): the median
    round's figures per load, with every round's rate and each load's ratio to the single
    channel of its own round (``ratios``; ``ratio`` their median)."""
    spread = [channel_id(i) for i in range(args.channels)]
    runs = {'1 channel': [channel_id(0)], f'{args.channels} channels': spread,
            f'team of {args.team}': [member_id(i) for i in range(args.team)]}
    if args.only:
        runs = {label: channels for (label, channels), kind in zip(runs.items(), ('single', 'spread', 'team'))
                if kind in args.only}
    rounds: dict[str, list[dict]] = {label: [] for label in runs}
    for r in range(args.rounds):
        for label, channels in runs.items():
            if r == 0 and not args.no_warmup and asyncio.run(warm_up(base, channels)):
                raise SystemExit(f'{label}: warm-up donations refused')
            rounds[label].append(load_run(args, base, setup, channels))
    out = {}
    for label, figures in rounds.items():
        median = sorted(figures, key=lambda f: f['accepted_per_s'])[len(figures) // 2]
        out[label] = {**median, 'rounds': [f['accepted_per_s'] for f in figures],
                      'errors': sum(f['errors'] for f in figures)}
        if '1 channel' in rounds:
            ratios = [f['accepted_per_s'] / one['accepted_per_s']
                      for f, one in zip(figures, rounds['1 channel'])]
            out[label]['ratios'] = ratios
            out[label]['ratio'] = statistics.median(ratios)
    return out


def load_run(args, base: str, setup, channels: list[str]) -> dict:
    cpu = intake_stats.CpuMeter(setup.pids(), [os.getpid()], intake_stats.cores_of(args))
    redis_cpu = intake_stats.CpuMeter([setup.redis.proc.pid] if setup.redis else [], [], {})
    outcome = asyncio.run(SpreadSenders(base, channels, uuid.uuid4().hex[:8]).run(
        args.senders, args.seconds, AMOUNT))
    cpu.stop()
    redis_cpu.stop()
    f = intake_stats.summarize(outcome, [], 0)
    f.update(cpu.figures())
    f['server_cpu_ms_per_donation'] = intake_stats.per_donation(f)
    f['redis_cpu_ms_per_donation'] = intake_stats.per_donation({**f, **redis_cpu.figures()})
    return f


def idle_process_cpu(args, setup) -> dict:
    """A second server on the same Redis, no clients, while the first serves the N channels."""
    idle = targets.Target('idle', setup.target.command, None)
    idle.start(timeout=60)
    try:
        base = f'http://127.0.0.1:{setup.target.port}'
        asyncio.run(wait_healthy(f'http://127.0.0.1:{idle.port}'))
        pids = targets._tree(idle.proc.pid)
        cpu = intake_stats.CpuMeter(pids, [os.getpid()], {})
        spread = [channel_id(i) for i in range(args.channels)]
        outcome = asyncio.run(SpreadSenders(base, spread, uuid.uuid4().hex[:8], args.rate).run(
            args.senders, args.seconds, AMOUNT))
        cpu.stop()
    finally:
        idle.stop()
    f = intake_stats.summarize(outcome, [], 0)
    return {'idle_cpu_pct': cpu.figures()['server_cpu'] * 100, 'served_per_s': f['accepted_per_s']}


def measure(args, backend: str) -> dict:
    args.backend = backend
    with ManyChannelsSetup(args, bare=False) as setup:
        base = f'http://127.0.0.1:{setup.target.port}'
        asyncio.run(wait_healthy(base, timeout=120))
        result: dict = {}
        if not args.idle_only:
            rss0 = setup.target.rss_bytes()
            failed = asyncio.run(touch_all(base, args.channels))
            rss1 = setup.target.rss_bytes()
            result = {'runs': load_runs(args, base, setup), 'touch_failed': failed,
                      'rss_per_idle_channel_kb': (rss1 - rss0) / args.channels / 1024}
        if backend == 'redis':
            result['idle'] = idle_process_cpu(args, setup)
    return result


def report(backend: str, result: dict) -> None:
    print(f'== {backend} ==')
    if 'runs' in result:
        report_runs(backend, result)
    if 'idle' in result:
        i = result['idle']
        print(f'idle process CPU {i["idle_cpu_pct"]:.1f} % (a process with no clients) while another serves '
              f'{i["served_per_s"]:.0f}/s over the N channels')
    print(flush=True)


def report_runs(backend: str, result: dict) -> None:
    for label, f in result['runs'].items():
        ratio = f' ({f["ratio"]:.2f}x)' if 'ratio' in f else ''
        spread = f' [{min(f["rounds"]):.0f}-{max(f["rounds"]):.0f}]' if len(f['rounds']) > 1 else ''
        print(f'{label:<16} {f["accepted_per_s"]:8.1f}/s{ratio}{spread}  p50 {intake_stats._ms(f["p50_ms"])}, '
              f'p99 {intake_stats._ms(f["p99_ms"])}, errors {f["errors"]} {f["error_kinds"] or ""}; '
              f'server CPU {intake_stats._ms(f["server_cpu_ms_per_donation"])}/donation'
              + (f' (Redis {intake_stats._ms(f["redis_cpu_ms_per_donation"])})' if backend == 'redis' else ''))
    print(f'memory per idle channel {result["rss_per_idle_channel_kb"]:.1f} KiB '
          f'(state reads failed: {result["touch_failed"]})')


def main(argv=None):
    args = parse_args(argv)
    wsload.raise_nofile()
    if args.client_core is not None:
        os.sched_setaffinity(0, {args.client_core})
    print(f'channels: {args.channels} channels, {args.senders} senders, {args.seconds:g} s per run; '
          f'load average {os.getloadavg()[0]:.1f}', flush=True)
    backends = ('embedded', 'redis') if args.backend == 'both' else (args.backend,)
    if args.idle_only:
        backends = ('redis',)
    results = {}
    for backend in backends:
        results[backend] = measure(args, backend)
        report(backend, results[backend])
    print(json.dumps({'args': vars(args), 'results': results, 'load_average': os.getloadavg()},
                     separators=(',', ':')), flush=True)
    bad = any(f['errors'] for r in results.values() for f in r.get('runs', {}).values())
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

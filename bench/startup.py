"""Start-up with many channels: from process start to the listening line and to /healthz 200.

    python bench/startup.py --config-channels 10 --stored-channels 9990

For each backend (embedded, then a private Redis): a generated config.yaml with
--config-channels channels, and --stored-channels channels written beforehand through the
store (as the admin API writes them), then ``server.py`` started --runs times. Printed per
backend: seconds to the port listening and to /healthz answering 200 (best and median), the
server's CPU seconds by then (what a busy machine inflates least), and how many lines it printed.
"""
import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time

import intake_setup
import smoke_mode
import targets
from intake import wait_healthy

ROOT = intake_setup.ROOT
sys.path.insert(0, ROOT)

from overlay.channel_records import record_of  # noqa: E402
from overlay.config import ChannelSettings  # noqa: E402
from overlay.store.embedded import EmbeddedStore  # noqa: E402
from overlay.store.redis import RedisStore  # noqa: E402



def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--config-channels', type=int, default=10, help='channels in config.yaml (default 10)')
    p.add_argument('--stored-channels', type=int, default=9990,
                   help='channels stored through the store, as the admin API does (default 9990)')
    p.add_argument('--runs', type=int, default=3, help='start-ups per backend (default 3)')
    p.add_argument('--backend', choices=('embedded', 'redis', 'both'), default='both')
    args = smoke_mode.parse(p, {'config_channels': 3, 'stored_channels': 20, 'runs': 1}, argv)
    if args.config_channels < 1 or args.stored_channels < 0 or args.runs < 1:
        p.error('bounds: config-channels >= 1, stored-channels >= 0, runs >= 1')
    return args


def channel(i: int, prefix: str) -> dict:
    return {'id': f'{prefix}{i:05d}', 'name': f'Bench {i}', 'currency': 'EUR',
            'overlay_key': f'bench-key-{prefix}{i:05d}', 'moderator_tokens': [intake_setup.TOKEN]}


def write_config(path: str, data_dir: str, n: int, redis_url: str | None) -> None:
    redis = f'"{redis_url}"' if redis_url else 'null'
    lines = ['server: {host: 127.0.0.1, port: 8080, admin_tokens: [bench-admin-token]}',
             f'storage: {{redis_url: {redis}, data_dir: "{data_dir}"}}', 'channels:']
    for i in range(n):
        c = channel(i, 'c')
        lines.append(f'  - {{id: {c["id"]}, name: "{c["name"]}", currency: EUR, overlay_key: {c["overlay_key"]}, '
                     f'moderator_tokens: [{intake_setup.TOKEN}]}}')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')


async def store_channels(data_dir: str, redis_url: str | None, n: int) -> None:
    store = RedisStore(redis_url) if redis_url else EmbeddedStore(data_dir)
    await store.open([])
    try:
        stamp = '2026-01-01T00:00:00Z'
        for i in range(n):
            cfg = ChannelSettings.model_validate(channel(i, 's'))
            await store.put_channel(cfg.id, record_of(cfg, disabled=False, created_at=stamp, updated_at=stamp,
                                                      version=1), create=True)
    finally:
        await store.close()


def one_start(config: str, redis_url: str | None, log_path: str) -> dict:
    port = targets.free_port()
    argv = [sys.executable, os.path.join(ROOT, 'server.py'), '--config', config, '--port', str(port)]
    if redis_url:
        argv += ['--redis', redis_url]
    started = time.monotonic()
    with open(log_path, 'w', encoding='utf-8') as log:  # a file: a full pipe would stall the server
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while not targets._listening(port):
            if proc.poll() is not None:
                raise RuntimeError(f'the server exited during start-up:\n{_tail(log_path)}')
            if time.monotonic() - started > 120:
                raise RuntimeError('the server did not listen in 120 s')
            time.sleep(0.005)
        listening = time.monotonic() - started
        asyncio.run(wait_healthy(f'http://127.0.0.1:{port}', timeout=120))
        healthy = time.monotonic() - started
        cpu = _cpu_seconds(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    with open(log_path, encoding='utf-8') as f:
        lines = sum(1 for line in f if ' INFO ' not in line and ' WARNING ' not in line)
    return {'listening_s': listening, 'healthy_s': healthy, 'cpu_s': cpu, 'lines': lines}


def _cpu_seconds(pid: int) -> float:
    """CPU the server used so far (user + system): what a busy machine does not inflate."""
    with open(f'/proc/{pid}/stat', encoding='ascii') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def _tail(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return ''.join(f.readlines()[-20:])


def measure(args, backend: str) -> dict:
    with tempfile.TemporaryDirectory(prefix='startup-bench-') as folder:
        redis = intake_setup.Redis(folder, None) if backend == 'redis' else None
        try:
            url = redis.url if redis else None
            data_dir = os.path.join(folder, 'data')
            config = os.path.join(folder, 'config.yaml')
            write_config(config, data_dir, args.config_channels, url)
            asyncio.run(store_channels(data_dir, url, args.stored_channels))
            runs = [one_start(config, url, os.path.join(folder, 'server.log')) for _ in range(args.runs)]
        finally:
            if redis:
                redis.stop()
    return {key: {'best': min(r[key] for r in runs), 'median': statistics.median(r[key] for r in runs)}
            for key in ('listening_s', 'healthy_s', 'cpu_s', 'lines')}


def main(argv=None):
    args = parse_args(argv)
    total = args.config_channels + args.stored_channels
    print(f'startup: {total} channels ({args.config_channels} in config.yaml, {args.stored_channels} stored), '
          f'{args.runs} run(s); load average {os.getloadavg()[0]:.1f}', flush=True)
    for backend in ('embedded', 'redis') if args.backend == 'both' else (args.backend,):
        f = measure(args, backend)
        print(f'{backend:<9} listening {f["listening_s"]["best"]:.2f} s (median {f["listening_s"]["median"]:.2f}), '
              f'/healthz 200 {f["healthy_s"]["best"]:.2f} s (median {f["healthy_s"]["median"]:.2f}), '
              f'CPU {f["cpu_s"]["best"]:.2f} s; '
              f'{f["lines"]["median"]:.0f} lines printed', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

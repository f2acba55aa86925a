"""What storage.redis_min_replicas costs: the same intake with 0 and with 1 replica confirming.

    cd bench && python min_replicas.py --senders 1 --seconds 10
    cd bench && python min_replicas.py --senders 20 --seconds 10

For each setting: a fresh Redis primary (append-only, fsync every second, as bench/intake.py)
and one replica on this machine, the real server (python server.py) on the primary, C
senders posting donations back to back for S seconds (bench/intake_senders.py). Prints
201s per second, 201 latency p50/p99, and CPU per donation in ms: server + both Redis, and the primary
Redis alone (what one channel's writes cost the one Redis core they all share), which moves less than the rates when other processes share the cores.
On one machine the replica is a loopback hop away: across hosts add one network
round trip per commit batch (WAIT waits for the replica's acknowledgement).
"""
import argparse
import asyncio
import json
import os
import shlex
import subprocess
import sys
import time
import uuid

import intake_stats
import smoke_mode
import targets
from intake_senders import Senders
from intake_setup import CHANNEL, CONFIG, ROOT, TOKEN, Redis


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--senders', '-c', type=int, default=1)
    p.add_argument('--seconds', '-s', type=float, default=10.0)
    return smoke_mode.parse(p, {'seconds': 1.0, 'senders': 1}, argv)


class Replica:
    def __init__(self, folder, primary_port):
        self.port = targets.free_port()
        self.proc = subprocess.Popen(
            ['redis-server', '--port', str(self.port), '--bind', '127.0.0.1', '--dir', folder, '--save', '',
             '--appendonly', 'yes', '--appendfsync', 'everysec', '--replicaof', '127.0.0.1', str(primary_port)],
            stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while b'master_link_status:up' not in self._info():
            if time.monotonic() > deadline:
                raise RuntimeError('the replica did not sync')
            time.sleep(0.05)

    def _info(self):
        run = subprocess.run(['redis-cli', '-p', str(self.port), 'INFO', 'replication'], capture_output=True)
        return run.stdout

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def run_one(args, min_replicas: int) -> dict:
    import tempfile
    with tempfile.TemporaryDirectory(prefix='overlay-replicas-') as folder:
        primary = Redis(folder, None)
        replica_dir = os.path.join(folder, 'replica')
        os.mkdir(replica_dir)
        replica = Replica(replica_dir, primary.port)
        config = CONFIG.replace('{data_dir}', os.path.join(folder, 'data')).replace('{alert_min}', '1000.00')
        config = config.replace('storage: {redis_url: null,',
                                f'storage: {{redis_url: "{primary.url}", redis_min_replicas: {min_replicas},')
        path = os.path.join(folder, 'config.yaml')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(config)
        server = targets.Target('ours', f'exec {shlex.quote(sys.executable)} '
                                f'{shlex.quote(os.path.join(ROOT, "server.py"))} --config {shlex.quote(path)} '
                                '--port {port}', None)
        server.start(timeout=60)
        try:
            senders = Senders(f'http://127.0.0.1:{server.port}', CHANNEL, TOKEN, uuid.uuid4().hex[:8])
            # server_cpu: the server with both Redis; client_cpu (here): the primary Redis alone
            meter = intake_stats.CpuMeter(targets._tree(server.proc.pid) + [primary.proc.pid, replica.proc.pid],
                                          [primary.proc.pid], {})
            outcome = asyncio.run(senders.run(args.senders, args.seconds, '5.00'))
            meter.stop()
        finally:
            server.stop()
            replica.stop()
            primary.stop()
    figures = intake_stats.summarize(outcome, [], 0) | meter.figures()
    return {'min_replicas': min_replicas, 'senders': args.senders, 'accepted_per_s': figures['accepted_per_s'],
            'p50_ms': figures['p50_ms'], 'p99_ms': figures['p99_ms'], 'errors': figures['error_kinds'],
            'server_cpu_ms_per_donation': intake_stats.per_donation(figures),
            'primary_cpu_ms_per_donation': intake_stats.per_donation({**figures, 'server_cpu': figures['client_cpu']})}


def main(argv=None):
    args = parse_args(argv)
    rows = [run_one(args, n) for n in (0, 1)]
    for r in rows:
        print(f"min_replicas={r['min_replicas']} senders={r['senders']}: {r['accepted_per_s']:.0f} 201/s, "
              f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
              f"CPU per donation: server + Redis {r['server_cpu_ms_per_donation']:.2f} ms, "
              f"primary Redis {r['primary_cpu_ms_per_donation']:.3f} ms; errors {r['errors']}")
    print(json.dumps(rows))


if __name__ == '__main__':
    main()

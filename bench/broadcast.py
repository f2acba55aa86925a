"""Broadcast latency, connect rate and memory: our server vs socket.io (Node).

    python bench/broadcast.py --ours "python bench/stub_server.py --port {port}"

For each N, each server is started fresh on core 0; N raw overlay
connections (bench/wsload.py) are opened from core 1 on /overlay; then each
round POSTs a donation and times, per client, from just before the POST to
the kernel's receive timestamp of the `donation` frame on that client's
socket. Last, every client drops at once while donations keep being POSTed:
the slowest POST is the stall the disconnects cause. Only the public interface
is used: the Socket.IO endpoint and POST /api/v1/channels/{ch}/donations.
"""
import argparse
import http.client
import json
import math
import multiprocessing
import os
import statistics
import sys
import threading
import time

import smoke_mode
import targets
import wsload

FIGURES = [  # key, label, unit
    ('connect_s', 'connect N clients', 's'),
    ('conn_per_s', 'connections per second', '/s'),
    ('rss_per_conn', 'RSS per idle connection', 'KiB'),
    ('first', 'first receipt (median of rounds)', 'ms'),
    ('p50', 'p50 receipt (all receipts)', 'ms'),
    ('p99', 'p99 receipt (all receipts)', 'ms'),
    ('last', 'last receipt (median of rounds)', 'ms'),
    ('last_max', 'last receipt (worst round)', 'ms'),
    ('last_user', 'last receipt, client loop (median)', 'ms'),
    ('post_ms', 'POST answered (median)', 'ms'),
    ('missed', 'receipts missing (all rounds)', ''),
    ('leave_post', 'worst POST while N clients leave', 'ms'),
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--ours', action='append', default=[],
                   help='shell command starting our server; {port} is '
                   'substituted (repeatable)')
    p.add_argument('--label', action='append', default=[],
                   help='name of each --ours, in order')
    p.add_argument('--no-node', action='store_true')
    p.add_argument('-n', '--clients', type=int, nargs='+',
                   default=[1, 1000, 10000])
    p.add_argument('--rounds', type=int, help='default: 200 / 30 / 15')
    p.add_argument('--channel', default='demo')
    p.add_argument('--key', default='k')
    p.add_argument('--token', default='t')
    p.add_argument('--client-procs', type=int, help='default: N / 5000')
    p.add_argument('--concurrency', type=int, default=128,
                   help='connection handshakes in flight, all processes')
    p.add_argument('--server-core', type=int, default=0)
    p.add_argument('--client-core', type=int, default=1)
    p.add_argument('--timeout', type=float, default=10.0)
    p.add_argument('--leave-seconds', type=float, default=3.0,
                   help='donations keep coming this long after the clients went')
    args = smoke_mode.parse(p, {'clients': [2], 'rounds': 3, 'client_procs': 1, 'leave_seconds': 0.5})
    if not args.ours:
        args.ours = [f'{sys.executable} bench/stub_server.py --port {{port}}']
    return args


def make_targets(args):
    cores = os.sched_getaffinity(0)
    if not {args.server_core, args.client_core} <= cores or \
            args.server_core == args.client_core:
        print('warning: cores not available, not pinning', file=sys.stderr)
        args.server_core = args.client_core = None
    labels = args.label + [f'ours{i + 1}' if len(args.ours) > 1 else 'ours'
                           for i in range(len(args.label), len(args.ours))]
    found = [targets.Target(label, cmd, args.server_core)
             for label, cmd in zip(labels, args.ours)]
    if not args.no_node:
        found.append(targets.Target('node', targets.node_command(),
                                    args.server_core))
    return found


class Clients:
    """N overlay connections spread over worker processes."""

    def __init__(self, target, n, args):
        procs = args.client_procs or max(1, math.ceil(n / 5000))
        auth = {'channel': args.channel, 'key': args.key}
        ctx = multiprocessing.get_context('spawn')
        self.pipes, self.procs = [], []
        for i in range(procs):
            count = n // procs + (1 if i < n % procs else 0)
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=wsload.worker_main, daemon=True, args=(
                theirs, '127.0.0.1', target.port, count, auth,
                max(1, args.concurrency // procs), args.client_core))
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    def ask(self, cmd, arg=None):
        for pipe in self.pipes:
            pipe.send((cmd, arg))
        return [pipe.recv() for pipe in self.pipes]

    def close(self):
        self.ask('close')
        for proc in self.procs:
            proc.join(10)


def post_donation(conn, args):
    body = json.dumps({'amount': '5.00'})
    conn.request('POST', f'/api/v1/channels/{args.channel}/donations', body,
                 {'Authorization': f'Bearer {args.token}',
                  'Content-Type': 'application/json'})
    resp = conn.getresponse()
    resp.read()
    if resp.status != 201:
        raise RuntimeError(f'POST answered {resp.status}')


def run_rounds(clients, target, n, args):
    rounds = args.rounds or (200 if n == 1 else 30 if n <= 1000 else 15)
    conn = http.client.HTTPConnection('127.0.0.1', target.port, timeout=30)
    results = []
    for i in range(rounds + 2):  # two warm-up rounds
        clients.ask('arm')
        started = time.time_ns()
        post_donation(conn, args)
        posted = time.time_ns()
        receipts = [r for part in clients.ask('collect', args.timeout)
                    for r in part]
        if i >= 2:
            results.append((started, posted, receipts))
        time.sleep(0.05 if n == 1 else 0.3)
    conn.close()
    return results


def measure(target, n, args):
    target.start()
    try:
        time.sleep(0.5)
        rss_before = target.rss_bytes()
        clients = Clients(target, n, args)
        try:
            outcome = clients.ask('connect')
            connect_s = max(took for took, _ in outcome)
            errors = [e for _, part in outcome for e in part]
            if errors:
                print(f'  {target.label}: {len(errors)} connect errors, '
                      f'e.g. {errors[0]}', file=sys.stderr)
            time.sleep(1.0)
            rss = target.rss_bytes() - rss_before
            rounds = run_rounds(clients, target, n, args)
        finally:
            leave_post = post_while(clients.close, target, args)
    finally:
        target.stop()
    figures = summarize(rounds)
    figures.update(connect_s=connect_s, conn_per_s=n / connect_s,
                   rss_per_conn=rss / n / 1024, leave_post=leave_post)
    return figures


def post_while(during, target, args):
    """The slowest donation POST (ms) while `during()` runs and LEAVE_WINDOW_S after:
    all N clients dropping at once (a stream ends, a network blip) must not stall
    the server that answers donations."""
    worst, stop = [0.0], threading.Event()

    def send():
        conn = http.client.HTTPConnection('127.0.0.1', target.port, timeout=60)
        while not stop.is_set():
            started = time.perf_counter()
            post_donation(conn, args)
            worst[0] = max(worst[0], time.perf_counter() - started)
            time.sleep(0.01)
        conn.close()
    sender = threading.Thread(target=send)
    sender.start()
    try:
        during()
        time.sleep(args.leave_seconds)
    finally:
        stop.set()
        sender.join()
    return worst[0] * 1000


def summarize(rounds):
    def ms(t, start):
        return (t - start) / 1e6
    firsts, lasts, users, posts, pooled, missed = [], [], [], [], [], 0
    for started, posted, receipts in rounds:
        got = [r for r in receipts if r is not None]
        missed += len(receipts) - len(got)
        posts.append(ms(posted, started))
        if not got:
            continue
        kernel = sorted(ms(k, started) for k, _ in got)
        firsts.append(kernel[0])
        lasts.append(kernel[-1])
        users.append(max(ms(u, started) for _, u in got))
        pooled.extend(kernel)
    pooled.sort()

    def pct(q):
        return pooled[min(len(pooled) - 1, int(q * len(pooled)))]
    return {'first': statistics.median(firsts), 'p50': pct(0.50),
            'p99': pct(0.99), 'last': statistics.median(lasts),
            'last_max': max(lasts), 'last_user': statistics.median(users),
            'post_ms': statistics.median(posts), 'missed': missed}


def report(n, labels, table):
    print(f'\n== N = {n} clients ==')
    head = f'{"figure":38}' + ''.join(f'{x:>12}' for x in labels)
    ratios = [x for x in labels if x != 'node'] if 'node' in labels else []
    print(head + ''.join(f' {x + "/node":>15}' for x in ratios))
    for key, name, unit in FIGURES:
        cells = ''.join(f'{table[x][key]:>12.2f}' for x in labels)
        for x in ratios:
            node = table['node'][key]
            cells += f' {table[x][key] / node:>15.2f}' if node else f' {"-":>15}'
        print(f'{name + (" [" + unit + "]" if unit else ""):38}{cells}')
    sys.stdout.flush()


def main():
    args = parse_args()
    wsload.raise_nofile()
    found = make_targets(args)
    if args.client_core is not None:
        os.sched_setaffinity(0, {args.client_core})
    for target in found:
        print(f'{target.label}: {target.command}')
    for n in args.clients:
        table = {t.label: measure(t, n, args) for t in found}
        report(n, [t.label for t in found], table)


if __name__ == '__main__':
    main()

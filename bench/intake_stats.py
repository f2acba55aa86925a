"""Figures for bench/intake.py: rates, percentiles, delivery check, CPU, the report."""
import os

TICK = os.sysconf('SC_CLK_TCK')


def pct(values, q):
    """Nearest-rank percentile of a sorted list (None when empty)."""
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


def accepted(outcome):
    """Every donation the senders were answered 201 for, as [(seq, id)] in seq order."""
    return sorted((r.seq, r.donation_id) for r in outcome.results + outcome.late
                  if r.status == 201)


def summarize(outcome, checks, overlays):
    answered = [r for r in outcome.results + outcome.late if r.status == 201]
    in_window = sum(1 for r in outcome.results if r.status == 201)
    latency = sorted((r.answered_ns - r.sent_ns) / 1e6 for r in answered)
    latest = {}
    for part in checks:
        for seq, ns in part['latest'].items():
            latest[seq] = max(ns, latest.get(seq, 0))
    # 201 at the sender -> donation frame at the last overlay (kernel timestamp);
    # negative when the broadcast went out before the response was read
    fanout = sorted((latest[r.seq] - r.answered_ns) / 1e6 for r in answered if r.seq in latest)
    bad = sum(part['bad'] for part in checks)
    example = next((part['example'] for part in checks if part['example']), None)
    return {
        'accepted': in_window, 'accepted_after_window': len(answered) - in_window,
        'accepted_per_s': in_window / outcome.elapsed_s,
        'p50_ms': pct(latency, 0.50), 'p99_ms': pct(latency, 0.99),
        'max_ms': latency[-1] if latency else None,
        'fanout_p50_ms': pct(fanout, 0.50), 'fanout_p99_ms': pct(fanout, 0.99),
        'fanout_max_ms': fanout[-1] if fanout else None,
        'errors': sum(outcome.errors.values()), 'error_kinds': outcome.errors,
        'overlays': overlays, 'overlays_bad': bad, 'overlay_example': example,
        'delivery_ok': None if not overlays else bad == 0,
    }


def _cpu_ticks(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def _core_ticks(core):
    """(busy, total) ticks of one CPU from /proc/stat."""
    with open('/proc/stat') as f:
        for line in f:
            if line.startswith(f'cpu{core} '):
                vals = [int(v) for v in line.split()[1:]]
                idle = vals[3] + vals[4]
                return sum(vals) - idle, sum(vals)
    return 0, 0


class CpuMeter:
    """CPU used by the server side (server processes + Redis) and by this harness's own
    processes (senders + overlays), in cores, and how busy the client core was."""

    def __init__(self, server_pids, client_pids, cores):
        self.groups = {'server_cpu': server_pids, 'client_cpu': client_pids}
        self.cores = cores  # {'server_core_busy': 0, 'client_core_busy': 1}: other helpers' load shows here
        self.start = {pid: _cpu_ticks(pid) for pids in self.groups.values() for pid in pids}
        self.core_start = {name: _core_ticks(core) for name, core in cores.items()}
        self.t0 = os.times().elapsed
        self.result = {}

    def stop(self):
        wall = os.times().elapsed - self.t0
        self.result['window_s'] = wall
        for name, pids in self.groups.items():
            used = sum(_cpu_ticks(pid) - self.start[pid] for pid in pids)
            self.result[name] = used / TICK / wall
        for name, core in self.cores.items():
            busy, total = _core_ticks(core)
            db, dt = busy - self.core_start[name][0], total - self.core_start[name][1]
            self.result[name] = db / dt if dt else None

    def figures(self):
        return self.result


def per_donation(f):
    """Server-side CPU per accepted donation: unlike accepted/s, it barely moves when
    other processes take part of the server's core."""
    total = f['accepted'] + f['accepted_after_window']
    return f['server_cpu'] * f['window_s'] * 1000 / total if total else None


def cores_of(args):
    """Which cores to watch: the pinned ones, when the server has exactly one."""
    if args.client_core is None:
        return {}
    found = {'client_core_busy': args.client_core}
    if args.server_core.isdigit():
        found['server_core_busy'] = int(args.server_core)
    return found


def ratio(ours, bare):
    return {key: ours[key] / bare[key] if ours[key] and bare[key] else None
            for key in ('accepted_per_s', 'p50_ms', 'p99_ms')}


def describe_run(args):
    return (f'intake: {args.senders} sender(s), {args.seconds:g} s, {args.overlays} overlay(s), '
            f'{args.backend}, {args.workers} worker(s), backlog {args.backlog}'
            f'{", no alerts" if args.no_alerts else ""}; server core {args.server_core}, '
            f'client core {args.client_core}')


def _ms(value):
    return '-' if value is None else f'{value:.1f} ms'


def report(label, f):
    print(f'== {label} ==')
    print(f'accepted           {f["accepted"]} in window ({f["accepted_per_s"]:.1f}/s), '
          f'{f["accepted_after_window"]} answered after it')
    print(f'201 latency        p50 {_ms(f["p50_ms"])}, p99 {_ms(f["p99_ms"])}, max {_ms(f["max_ms"])}')
    if f['overlays']:
        print(f'fan-out delay      p50 {_ms(f["fanout_p50_ms"])}, p99 {_ms(f["fanout_p99_ms"])}, '
              f'max {_ms(f["fanout_max_ms"])}  (201 read -> last of {f["overlays"]} overlays)')
        verdict = 'yes' if f['delivery_ok'] else f'NO: {f["overlays_bad"]} overlays wrong, e.g. {f["overlay_example"]}'
        print(f'every overlay got every donation once, in seq order: {verdict}')
    print(f'errors             {f["errors"]} {f["error_kinds"] or ""}')
    if 'queue_before' in f:
        print(f'alert queue        {f["queue_before"]} before, {f["queue_after"]} after')
    print(f'CPU                server side {f["server_cpu"]:.2f} cores, load client {f["client_cpu"]:.2f} cores; '
          f'server side {_ms(f["server_cpu_ms_per_donation"])} of CPU per accepted donation')
    if 'client_core_busy' in f:
        print(f'cores busy         server core {f.get("server_core_busy", 0):.0%}, '
              f'client core {f["client_core_busy"]:.0%} (every process on the machine)')
    print(flush=True)

"""What bench/intake.py runs against: a generated config, a private Redis, the server.

Everything lives in one temporary folder and on free loopback ports; the
machine's own Redis (127.0.0.1:6379) is never used.
"""
import os
import shlex
import subprocess
import sys
import tempfile
import time

import targets

ROOT = os.path.dirname(targets.BENCH)
CHANNEL = 'demo'
OVERLAY_KEY = 'bench-overlay-key'
TOKEN = 'bench-moderator-token'

# Alerts as short as the config allows (1 s, no gap), so a queue drains as fast
# as it can. The match cap is out of reach so every donation is matched.
CONFIG = f"""\
server: {{host: 127.0.0.1, port: 8080}}
storage: {{redis_url: null, data_dir: "{{data_dir}}"}}
channels:
  - id: {CHANNEL}
    name: "Intake bench"
    currency: EUR
    locale: fr_FR
    overlay_key: {OVERLAY_KEY}
    moderator_tokens: [{TOKEN}]
    campaign: {{title: "Bench", goal: "100000.00"}}
    match: {{sponsor: "TikTok", multiplier: "2", cap: "50000000.00"}}
    alerts: {{min_amount: "{{alert_min}}", duration_ms: 1000, gap_ms: 0}}
"""


class Redis:
    """A private redis-server on a free port, append-only file fsynced every
    second (a common production setting), in the run's folder."""

    def __init__(self, folder: str, core: str | None):
        self.port = targets.free_port()
        self.url = f'redis://127.0.0.1:{self.port}/0'
        argv = ['redis-server', '--port', str(self.port), '--bind', '127.0.0.1',
                '--dir', folder, '--save', '', '--appendonly', 'yes',
                '--appendfsync', 'everysec']
        if core is not None:
            argv = ['taskset', '-c', core] + argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while not targets._listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('redis-server did not start')
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Setup:
    """The server under test (ours or bare) and whatever it needs; a context manager."""

    def __init__(self, args, bare: bool):
        self.args, self.bare = args, bare
        self.folder = tempfile.TemporaryDirectory(prefix='overlay-intake-')
        self.redis = None
        self.target = None

    def __enter__(self):
        a, py = self.args, shlex.quote(sys.executable)
        if self.bare:
            cmd = f'{py} {shlex.quote(os.path.join(targets.BENCH, "bare_intake.py"))} --port {{port}}'
        else:
            # --profile: each worker under cProfile, written to FILE.<pid> when it stops
            script = shlex.quote(os.path.join(ROOT, 'server.py'))
            if getattr(a, 'profile', None):
                script = f'{shlex.quote(os.path.join(targets.BENCH, "profiled_server.py"))} {shlex.quote(a.profile)}'
            cmd = f'{py} {script} --config ' + \
                shlex.quote(self._write_config()) + ' --port {port}'
            if a.backend == 'redis':
                self.redis = Redis(self.folder.name, a.server_core)
                cmd += f' --redis {self.redis.url}'
            if a.workers > 1:
                cmd += f' --workers {a.workers}'
        self.target = targets.Target('bare' if self.bare else 'ours', cmd, None)
        if a.server_core is not None:
            self.target.command = f'exec taskset -c {a.server_core} {cmd}'
        try:
            self.target.start(timeout=60)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _write_config(self) -> str:
        data = os.path.join(self.folder.name, 'data')
        # --no-alerts: the measured donations stay under alerts.min_amount
        alert_min = '1000.00' if self.args.no_alerts else '1.00'
        text = CONFIG.replace('{data_dir}', data).replace('{alert_min}', alert_min)
        path = os.path.join(self.folder.name, 'config.yaml')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path

    def pids(self) -> list[int]:
        """Server tree, then Redis: whose CPU time counts as the server side."""
        found = targets._tree(self.target.proc.pid) if self.target and self.target.proc else []
        return found + ([self.redis.proc.pid] if self.redis else [])

    def __exit__(self, *exc):
        if self.target is not None:
            self.target.stop()
        if self.redis is not None:
            self.redis.stop()
        self.folder.cleanup()

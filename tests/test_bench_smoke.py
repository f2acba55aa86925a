"""Every benchmark still runs: each bench/ entry point in its smoke mode (``--smoke``: tiny sizes,
a few seconds), as a subprocess. A crash fails; the figures are printed, never judged (CI may be
several times slower than the machine a figure was taken on). bench/smoke_mode.py says what a
script may skip; under CI=true only what the test command does not install (GStreamer)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

BENCH = ROOT / "bench"
STUB = "{python} bench/stub_server.py --port {port}"
# script -> the argument lists it runs with, each after --smoke ({python}: this interpreter,
# {tmp}: a temporary folder); together they start every helper below at least once.
SMOKE: dict[str, list[list[str]]] = {
    "donation_cpu.py": [[]],
    "group_write.py": [[], ["--team"]],
    "redis_commit.py": [[]],
    "write_spread.py": [[]],
    "sigterm.py": [[]],
    "piper_tts.py": [[]],
    "widget_latency.py": [[]],
    "broadcast.py": [["--label", "fast", "--ours", STUB, "--label", "untuned", "--ours", STUB + " --untuned",
                      "--label", "bare", "--ours", STUB + " --bare"]],
    "connprofile.py": [["--tracemalloc", "--cprofile"], ["--floor", "socketio"]],
    "intake.py": [["--bare", "--profile", "{tmp}/profile"], ["--backend", "redis", "--workers", "2", "--backlog", "5"]],
    "min_replicas.py": [[]],
    "live_bench.py": [[]],
    "live_forwarding.py": [[]],
    "live_storm.py": [[]],
    "channels.py": [[], ["--idle-only"]],
    "team_rebuild.py": [[]],
    "startup.py": [[]],
}
# Imported by the scripts above, or started by them (the floors, the profiled server, the
# GStreamer viewers): each runs inside one of the smoke runs, never on its own.
HELPERS = {"smoke_mode.py", "targets.py", "wsload.py", "intake_overlays.py", "intake_senders.py",
           "intake_setup.py", "intake_stats.py", "stub_server.py", "bare_intake.py", "profiled_server.py",
           "gst_viewers.py"}
RUNS = [(script, extra) for script, runs in SMOKE.items() for extra in runs]
# Generous: a smoke run takes seconds on a quiet machine; a busy CI core may be ten times slower.
TIMEOUT_S = 240


def test_every_bench_script_has_a_smoke_run_or_is_a_helper() -> None:
    scripts = {p.name for p in BENCH.glob("*.py")}
    assert scripts - HELPERS == set(SMOKE), "a new bench script needs its smoke run here (or is a helper)"


@pytest.mark.timeout(TIMEOUT_S + 30)
@pytest.mark.parametrize("script,extra", RUNS, ids=[" ".join([s, *e]) for s, e in RUNS])
def test_bench_script_runs_in_smoke_mode(script: str, extra: list[str], tmp_path: Path) -> None:
    extra = [a.replace("{python}", sys.executable).replace("{tmp}", str(tmp_path)) for a in extra]
    run = subprocess.run([sys.executable, str(BENCH / script), "--smoke", *extra], cwd=ROOT,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"}, capture_output=True, text=True,
                         timeout=TIMEOUT_S)
    print(run.stdout)  # the figures, for -rP / -s
    if run.returncode != 0:
        pytest.fail(f"exit {run.returncode}\n--- stdout\n{run.stdout[-4000:]}\n--- stderr\n{run.stderr[-4000:]}")

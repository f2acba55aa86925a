"""``python server.py`` on the shipped config.yaml: what its first lines say about secrets and teams."""
from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
from pathlib import Path

from overlay.config import load_config
from tests.support import ROOT, WAIT, ServerProcess, free_port, until

DEMO_ENV = ("OVERLAY_DEMO_KEY", "OVERLAY_DEMO_MOD", "OVERLAY_DEMO_STREAM_KEY")
WARNING = ("WARNING: channel demo still uses change-me secrets "
           "(overlay_key, moderator_tokens[0], live.stream_key)")


def shipped_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text((ROOT / "config.yaml").read_text().replace("data_dir: ./data", f"data_dir: {tmp_path / 'data'}"))
    return path


async def started(tmp_path: Path, **env: str) -> str:
    server = ServerProcess(shipped_config(tmp_path), free_port())
    for name in DEMO_ENV:
        server.env.pop(name, None)
    server.env.update(env)
    try:
        await server.start()
        return server.output()
    finally:
        server.stop()


async def test_the_demo_secrets_are_named_and_warned_about(tmp_path: Path) -> None:
    out = await started(tmp_path)
    assert "Channel demo: moderator token the config file's default (set OVERLAY_DEMO_MOD to choose your own)" in out
    assert any(line.startswith(WARNING) for line in out.splitlines())
    assert "\033[" not in out  # a log file is no terminal: no colour codes in it
    assert "Team restos (Team Restos): http://127.0.0.1:" in out


async def test_secrets_from_the_environment_are_named_and_not_warned_about(tmp_path: Path) -> None:
    out = await started(tmp_path, OVERLAY_DEMO_KEY="k" * 24, OVERLAY_DEMO_MOD="m" * 24, OVERLAY_DEMO_STREAM_KEY="s" * 24)
    assert "Channel demo: moderator token from the environment: OVERLAY_DEMO_MOD" in out
    assert "WARNING" not in out and "m" * 24 not in out


async def test_the_warning_is_red_on_a_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in DEMO_ENV}
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "--config", str(shipped_config(tmp_path)),
                             "--port", str(free_port())], cwd=ROOT, env=env, stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    seen = bytearray()

    async def read() -> bool:
        seen.extend(await asyncio.get_running_loop().run_in_executor(None, os.read, master, 4096))
        return b"\033[1;31mWARNING: channel demo" in seen and b"\033[0m" in seen.split(b"WARNING", 1)[1]

    try:
        await until(read, what="the red warning on the terminal", timeout=WAIT)
    finally:
        proc.kill()
        proc.wait(timeout=WAIT)
        os.close(master)


def test_the_shipped_team_holds_the_demo_channel() -> None:
    config = load_config(ROOT / "config.yaml", env={})
    assert [(t.id, list(t.channels)) for t in config.teams] == [("restos", ["demo"])]

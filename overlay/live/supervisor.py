"""Starts the live process (process.py) and starts it again whenever it dies.

A thread, not a task: with ``--workers N`` the parent that supervises runs no event
loop, and with one worker the loop belongs to the web app. The web processes find
the live process at ``socket_path`` (link.py); it is known before the workers fork.
"""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from overlay.config import Config

log = logging.getLogger("overlay.live.whip")
STOP_TIMEOUT_S = 5.0
RESTART_DELAY_S = (0.5, 10.0)  # first wait before a restart, and the cap as failures repeat
STABLE_S = 30.0  # a process that ran this long resets the wait to the first one


def live_settings(config: Config, socket_path: str) -> dict[str, Any] | None:
    """What the live process needs, or None when no channel streams to this server."""
    channels = {c.id: {"stream_key": c.live.stream_key, "max_viewers": c.live.max_viewers}
                for c in config.channels if c.live is not None and c.live.served_here}
    if not channels:
        return None
    return {"socket": socket_path, "channels": channels, "public_url": config.server.public_url,
            "ice_servers": list(config.server.ice_servers)}


class LiveSupervisor:
    def __init__(self, config: Config) -> None:
        self._dir = tempfile.mkdtemp(prefix="overlay-live-")
        self.socket_path = str(Path(self._dir) / "live.sock")
        self._settings = live_settings(config, self.socket_path)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._thread = threading.Thread(target=self._run, name="live-supervisor", daemon=True)
        self.restarts = 0

    @classmethod
    def for_config(cls, config: Config) -> LiveSupervisor | None:
        return cls(config) if live_settings(config, "") is not None else None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; removes the socket's folder."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None:
            _end(proc)
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT_S)
        shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._proc.pid if self._proc is not None else None

    def _run(self) -> None:
        delay = RESTART_DELAY_S[0]
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self._run_once()
            if self._stopping.is_set():
                return
            delay = RESTART_DELAY_S[0] if time.monotonic() - started > STABLE_S else delay
            log.error("live process exited with status %s; starting it again in %.1f s", code, delay)
            self.restarts += 1
            self._stopping.wait(delay)
            delay = min(delay * 2, RESTART_DELAY_S[1])

    def _run_once(self) -> int:
        Path(self.socket_path).unlink(missing_ok=True)  # a killed process leaves its socket behind
        with self._lock:
            if self._stopping.is_set():
                return 0
            # its own session: a Ctrl-C in the terminal reaches us, and we stop it, rather
            # than both at once (which would read as a crash and start it again)
            proc = self._proc = subprocess.Popen(
                [sys.executable, "-m", "overlay.live.process"], stdin=subprocess.PIPE, text=True,
                start_new_session=True)
        try:
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(self._settings) + "\n")
            proc.stdin.flush()  # stdin stays open: its end tells the live process we are gone
        except OSError:
            pass  # it died at once; wait() says how
        return proc.wait()


def _end(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdin is not None:
        proc.stdin.close()

"""``python server.py`` with live video in its own process: optional, supervised, one for all workers."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.live.peers import publish
from tests.support import AUTH, OVERLAY_KEY, ROOT, Listener, ServerProcess, free_port, until
from tests.test_processes import write_config

STREAM_KEY = "sk-process-test"
LIVE = {"live": {"stream_key": STREAM_KEY}}
SDP = {"Content-Type": "application/sdp"}


def live_processes(parent: int) -> list[int]:
    """Pids of the live processes the server process `parent` started."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and b"overlay.live.process" in cmdline:
            found.append(int(entry.name))
    return found


async def whip_error(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    """POST a bad offer without the key: 401 once live works, 503 live_unavailable if it cannot."""
    async with http.post(f"{url}/whip/demo", data="v=0\r\n", headers=SDP) as r:
        return r.status, (await r.json())["error"]["code"]


def test_the_web_process_never_imports_aiortc() -> None:
    code = "import sys, overlay.cli, overlay.app; print(sorted(m for m in ('aiortc', 'av', 'aioice') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_without_aiortc_everything_but_live_works_and_live_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "broken" / "aiortc"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('this aiortc is broken on purpose')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(broken.parent), os.environ.get("PYTHONPATH", "")])}
    srv = await ServerProcess(write_config(tmp_path, **LIVE), free_port(), env=env).start()
    try:
        listener = await Listener().connect(srv.url, "/overlay", channel="demo", key=OVERLAY_KEY)
        await listener.wait_for("state")
        async with aiohttp.ClientSession() as http:
            # The first request waits for the live process to start, then gets its reason.
            status, code = await whip_error(http, srv.url)
            async with http.post(f"{srv.url}/whep/demo", data="v=0\r\n", headers=SDP) as r:
                assert r.status == 503
                error = (await r.json())["error"]
            assert (status, code) == (503, "live_unavailable") and error["code"] == "live_unavailable"
            assert "aiortc" in error["message"] and "broken on purpose" in error["message"]
            async with http.post(f"{srv.url}/api/v1/channels/demo/donations", json={"amount": "5"}, headers=AUTH) as r:
                assert r.status == 201
            await listener.wait_for("donation")
            async with http.get(f"{srv.url}/overlay/demo/alert?key={OVERLAY_KEY}") as r:
                assert r.status == 200
            async with http.get(f"{srv.url}/live/demo") as r:
                assert r.status == 200  # the page and its overlays still work; the video says offline
            page = await _dashboard_live(http, srv.url)
            assert "broken on purpose" in page["error"]
        await listener.close()
        assert srv.signal(signal.SIGTERM) == 0
        errors = [line for line in srv.output().splitlines() if " ERROR " in line]
        assert len(errors) == 1 and "live video disabled" in errors[0], errors
    finally:
        srv.stop()


async def _dashboard_live(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.post(f"{url}/dashboard/demo/login", data={"token": AUTH["Authorization"][7:]},
                         headers={"Origin": url}, allow_redirects=False) as r:
        cookie = re.match(r"(overlay_session_demo=[^;]+);", r.headers["Set-Cookie"]).group(1)
    async with http.get(f"{url}/dashboard/demo", headers={"Cookie": cookie}) as r:
        html = await r.text()
    found = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))["live"]


async def test_the_live_process_is_restarted_when_it_dies_and_stopped_with_the_server(tmp_path: Path) -> None:
    srv = await ServerProcess(write_config(tmp_path, **LIVE), free_port()).start()
    try:
        async with aiohttp.ClientSession() as http:
            await until(lambda: whip_error(http, srv.url), lambda r: r == (401, "unauthorized"),
                        what="live video to be up")
            (first,) = live_processes(srv.proc.pid)
            os.kill(first, signal.SIGKILL)
            await until(lambda: _pids(srv.proc.pid), lambda pids: len(pids) == 1 and first not in pids,
                        what="a new live process")
            await until(lambda: whip_error(http, srv.url), lambda r: r == (401, "unauthorized"),
                        what="live video to be back")
            publisher = await publish(http, srv.url, "demo", STREAM_KEY)
            await until(lambda: _status(http, srv.url), lambda s: s["live"], what="the publisher")
            await publisher.pc.close()
        (second,) = live_processes(srv.proc.pid)
        assert srv.signal(signal.SIGTERM) == 0
        assert not Path(f"/proc/{second}").exists(), "the live process outlived the server"
        assert "live process exited" in srv.output()
    finally:
        srv.stop()


async def _pids(parent: int) -> list[int]:
    return live_processes(parent)


async def _status(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.get(f"{url}/live/demo/status") as r:
        return await r.json()


async def _fresh_statuses(url: str, count: int) -> list[bool]:
    seen = []
    for _ in range(count):
        async with aiohttp.ClientSession() as fresh:
            seen.append((await _status(fresh, url))["live"])
    return seen


async def test_workers_share_one_live_process(tmp_path: Path, redis_url: str) -> None:
    srv = await ServerProcess(write_config(tmp_path, redis_url, **LIVE), free_port(), "--workers", "2").start()
    try:
        async with aiohttp.ClientSession() as http:
            await until(lambda: whip_error(http, srv.url), lambda r: r == (401, "unauthorized"),
                        what="live video to be up")
            assert len(live_processes(srv.proc.pid)) == 1
            publisher = await publish(http, srv.url, "demo", STREAM_KEY)
            try:
                # Fresh connections land on either worker; each worker hears of the publisher from
                # the live process on its own, so wait until ten fresh connections in a row say live.
                await until(lambda: _fresh_statuses(srv.url, 10), lambda seen: all(seen),
                            what="every worker to know the stream is live")
            finally:
                await publisher.pc.close()
        assert srv.signal(signal.SIGTERM) == 0
    finally:
        srv.stop()

"""A browser source outlives a server restart: it reconnects by itself, gets what it missed,
and shows the next alert, without a reload. The server is ``python server.py``, stopped
with SIGTERM and started again on the same port and data folder, as a streamer would."""
from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import aiohttp

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.test_widgets import ALERT_NAME, CHANNEL, CONNECTED
from tests.support import AUTH, OVERLAY_KEY, ServerProcess, channel_dict, free_port

# The back-off doubles from 1 s up to 30 s with full jitter; a restart of a few seconds is
# over within the first few attempts, but leave room for the unlucky draw and a slow machine.
RECONNECT_S = 90


def write_config(tmp_path: Path, port: int, **channel: Any) -> Path:
    config = {"server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
              "storage": {"redis_url": None, "data_dir": str(tmp_path / "data")},
              "channels": [channel_dict(**{**CHANNEL, **channel})]}
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


async def donate(http: aiohttp.ClientSession, url: str, **body: Any) -> None:
    async with http.post(f"{url}/api/v1/channels/demo/donations", json=body, headers=AUTH) as r:
        assert r.status == 201, await r.text()


async def test_overlay_reconnects_after_a_restart_and_shows_the_next_alert(tmp_path: Path, new_page: Any) -> None:
    port = free_port()
    config = write_config(tmp_path, port)
    first = await ServerProcess(config, port).start()
    second = ServerProcess(config, port)
    try:
        page, _ = await new_page(first.url)
        await page.goto(f"{first.url}/overlay/demo/scene?key={OVERLAY_KEY}")
        await page.wait_for_function(CONNECTED)
        async with aiohttp.ClientSession() as http:
            await donate(http, first.url, amount="5.00", donor_name="Before")
            await page.wait_for_function(ALERT_NAME, arg={"name": "Before"})
            async with http.post(f"{first.url}/api/v1/channels/demo/alerts/skip", headers=AUTH) as r:
                assert r.status == 200

            assert first.signal(signal.SIGTERM) == 0
            await page.wait_for_function("() => !window.overlay.client.connected")
            await second.start()
            # Below the alert minimum: it only enters the ticker. Whether the overlay is back
            # already (a live event) or not yet (a replay after last_seq), it must show up.
            await donate(http, second.url, amount="0.50", donor_name="During")
            await page.wait_for_function("() => window.overlay.client.connected", timeout=RECONNECT_S * 1000)
            await page.wait_for_function("() => document.querySelector('.ticker__name')?.textContent === 'During'")

            await donate(http, second.url, amount="15.00", donor_name="After the restart")
            await page.wait_for_function(ALERT_NAME, arg={"name": "After the restart"})
        await animations_done(page)
        await page.screenshot(path=screenshot_path("widget-after-restart"))
    finally:
        stop(first, second)


def stop(*servers: ServerProcess | None) -> None:
    for server in servers:
        if server is None:
            continue
        server.stop()
        if server.proc is not None and server.proc.stdout is not None:
            server.proc.stdout.close()  # ServerProcess leaves its pipe open (a ResourceWarning)

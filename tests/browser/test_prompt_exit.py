"""Ctrl-C (SIGINT) and SIGTERM stop ``python server.py`` within its 5 s grace while overlays
(a browser source on its websocket, a client on long-polling) and a dashboard are open.

The browser's Socket.IO client ignores engine.io's ``close`` packet on a websocket, so only a
real browser shows whether an open overlay holds the shutdown."""
from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.dashboard_support import log_in
from tests.browser.test_overlay_restart import write_config
from tests.browser.test_widgets import CONNECTED
from tests.support import OVERLAY_KEY, WAIT, Listener, ServerProcess, free_port

GRACE_S = 5  # what the server promises (docs/deployment.md), not a speed target


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_a_stop_signal_exits_0_within_the_grace_with_clients_open(tmp_path: Path, new_page: Any,
                                                                        sig: signal.Signals) -> None:
    port = free_port()
    srv = await ServerProcess(write_config(tmp_path, port), port).start()
    polling = Listener()
    try:
        overlay, _ = await new_page(srv.url)
        await overlay.goto(f"{srv.url}/overlay/demo/scene?key={OVERLAY_KEY}")
        await overlay.wait_for_function(CONNECTED)  # its client tries the websocket first
        dashboard, _ = await new_page(srv.url)
        await log_in(dashboard, srv.url)
        await polling.client.connect(srv.url, namespaces=["/overlay"], auth={"channel": "demo", "key": OVERLAY_KEY},
                                     transports=["polling"], wait_timeout=WAIT)
        await polling.wait_for("state")

        assert srv.proc is not None
        started = time.monotonic()
        srv.proc.send_signal(sig)
        code = await asyncio.to_thread(srv.proc.wait, WAIT)
        took = time.monotonic() - started
        assert code == 0, srv.output()[-2000:]
        assert took < GRACE_S, f"exited {took:.1f} s after {sig.name}: {srv.output()[-2000:]}"
    finally:
        await polling.close()
        srv.stop()

"""A real browser source in Chromium, connected through HAProxy: static/overlay-client.js
with its own reconnect, replay and seq filter, read from outside like a Socket.IO client."""
from __future__ import annotations

import time
from typing import Any

from tests.support import OVERLAY_KEY
from tests.topology.clients import Seen

CONNECTED = "() => !!window.overlay && window.overlay.client.lastSeq !== null"
# What the widgets are handed, after the client's own seq filter: each event once, in order.
RECORD = """() => {
  const c = window.overlay.client;
  window.__seen = []; window.__connects = 1; window.__down = false;
  for (const name of ["donation", "alert"]) c.on(name, (d) => window.__seen.push([name, d]));
  c.onStatus((s) => { window.__down = !s.connected; if (s.connected) window.__connects += 1; });
}"""
READ = "(from) => ({seen: window.__seen.slice(from), connects: window.__connects, down: window.__down})"


class BrowserOverlay(Seen):
    name = "chromium"

    def __init__(self, page: Any):
        super().__init__()
        self.page = page

    @classmethod
    async def open(cls, new_page: Any, base: str) -> "BrowserOverlay":
        page, _ = await new_page(base)
        # The alert box: what plays each alert once (a scene also redraws ticker, leaderboard
        # and goal for every donation, which a loaded test machine's Chromium cannot keep up
        # with at the test's flat-out donation rate).
        await page.goto(f"{base}/overlay/demo/alert?key={OVERLAY_KEY}")
        await page.wait_for_function(CONNECTED)
        await page.evaluate(RECORD)
        return cls(page)

    async def refresh(self) -> None:
        now = await self.page.evaluate(READ, len(self.events))
        for name, data in now["seen"]:
            self.events.append((name, data))
            self.arrivals.append(time.monotonic())  # when we looked: an upper bound
        self.connects = now["connects"]
        if now["down"] and self.disconnected_at is None:
            self.disconnected_at = time.monotonic()
        elif not now["down"]:
            self.disconnected_at = None

    async def close(self) -> None:
        await self.page.context.close()

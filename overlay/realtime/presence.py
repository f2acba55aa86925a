"""Open overlay pages announce themselves on /overlay: ``hello {widget, page_id}`` once
connected, ``beat`` every few seconds after (docs/api.md). Each page is an entry in the store
that expires unless it beats again (overlay.store.pages), so every worker and host sees the
same list and a page served by a process that died leaves it by itself.

Hostile input: the widget must be a known one, the page id short and plain, the user agent
is cut to MAX_USER_AGENT characters; a channel lists at most MAX_PAGES pages, and a page
that beats faster than ``min_write_s`` costs no store write."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import socketio

from overlay.domain import pages
from overlay.errors import StoreUnavailable
from overlay.widgets import WIDGETS

if TYPE_CHECKING:  # annotations only: only the wiring hands it the store
    from overlay.store.base import Store

log = logging.getLogger(__name__)
NAMESPACE = "/overlay"


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class _Page:
    channel: str
    entry: dict[str, Any]
    written_ms: int = 0


class Presence:
    """This process's connected pages (sid -> entry), written through to the store."""

    def __init__(self, sio: socketio.AsyncServer, store: Store, ttl_s: float):
        self.sio, self.store = sio, store
        self.ttl_ms = int(ttl_s * 1000)
        self.min_write_ms = self.ttl_ms // 6
        self.pages: dict[str, _Page] = {}
        sio.on("hello", self.on_hello, namespace=NAMESPACE)
        sio.on("beat", self.on_beat, namespace=NAMESPACE)

    async def on_hello(self, sid: str, data: Any = None) -> None:
        found = pages.announcement(data, WIDGETS)
        session = await self.sio.get_session(sid, namespace=NAMESPACE)
        channel = session.get("channel") if isinstance(session, dict) else None
        if found is None or channel is None or sid in self.pages:
            return
        widget, page_id = found
        environ = self.sio.get_environ(sid, namespace=NAMESPACE) or {}
        now = _now_ms()
        entry = {"page_id": page_id, "widget": widget, "since_ms": now, "last_seen_ms": now,
                 "user_agent": str(environ.get("HTTP_USER_AGENT", ""))[:pages.MAX_USER_AGENT]}
        self.pages[sid] = page = _Page(channel, entry)
        await self._write(page, now)

    async def on_beat(self, sid: str, data: Any = None) -> None:
        page = self.pages.get(sid)
        now = _now_ms()
        if page is not None and now - page.written_ms >= self.min_write_ms:
            page.entry["last_seen_ms"] = now
            await self._write(page, now)

    async def forget(self, namespace: str, sid: str) -> None:
        """The page's connection closed: it leaves the list now rather than when it expires."""
        page = self.pages.pop(sid, None) if namespace == NAMESPACE else None
        if page is None:
            return
        try:
            await self.store.drop_overlay_page(page.channel, page.entry["page_id"])
        except StoreUnavailable as exc:
            log.warning("cannot unlist an overlay page of %s (it expires by itself): %s", page.channel, exc)

    async def _write(self, page: _Page, now: int) -> None:
        page.written_ms = now
        try:
            if not await self.store.put_overlay_page(page.channel, page.entry["page_id"], page.entry,
                                                     now + self.ttl_ms, now, pages.MAX_PAGES):
                log.info("%s already lists %d overlay pages; one more is not listed", page.channel, pages.MAX_PAGES)
        except StoreUnavailable as exc:
            log.warning("cannot list an overlay page of %s: %s", page.channel, exc)

    async def listing(self, channel: str) -> list[dict[str, Any]]:
        """The channel's open pages on every process, oldest first."""
        found = await self.store.overlay_pages(channel, _now_ms())
        return sorted((pages.listed(p) for p in found), key=lambda p: (p["since_ms"], p["page_id"]))

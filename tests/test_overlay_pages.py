"""The list of open overlay pages: GET /api/v1/channels/{ch}/overlays on both stores, fed by
the pages' ``hello`` and ``beat`` on /overlay; hostile announcements are not listed."""
from __future__ import annotations

import time
from typing import Any

import socketio

from overlay.store import base
from tests.support import OVERLAY_KEY, WAIT, until
from tests.test_sources import store  # noqa: F401 - the store fixture, on both backends

PAGES = "/api/v1/channels/demo/overlays"
OBS_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " \
         "Chrome/103.0.5060.134 Safari/537.36 OBS/30.2.3"
FAST = {"server": {"overlay_presence_ttl_s": 3}}


async def open_page(url: str, user_agent: str = OBS_UA, **hello: Any) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, namespaces=["/overlay"], auth={"channel": "demo", "key": OVERLAY_KEY},
                         headers={"User-Agent": user_agent}, transports=["websocket"], wait_timeout=WAIT)
    if hello:
        await client.emit("hello", hello, namespace="/overlay")
    return client


async def listed(server: Any) -> list[dict[str, Any]]:
    status, body = await server.request("GET", PAGES)
    assert status == 200, body
    return body["pages"]


async def test_pages_are_listed_while_open_and_leave_when_closed(make_server: Any, backend: str) -> None:
    server = await make_server(backend, **FAST)
    status, body = await server.request("GET", PAGES)
    assert (status, body) == (200, {"pages": [], "ttl_s": 3})
    assert (await server.request("GET", PAGES, headers={}))[0] == 401
    obs = await open_page(server.url, widget="alert", page_id="obs-page-0001")
    pages = await until(lambda: listed(server), what="the OBS page to be listed")
    assert [(p["widget"], p["page_id"], p["client"], p["user_agent"]) for p in pages] == \
        [("alert", "obs-page-0001", "OBS 30.2", OBS_UA)]
    first = pages[0]
    assert first["since_ms"] == first["last_seen_ms"]

    # A beat renews the entry (and its time) long after the first; the page never expires.
    async def beat_then_read() -> list[dict[str, Any]]:
        await obs.emit("beat", namespace="/overlay")
        return await listed(server)
    pages = await until(beat_then_read, lambda ps: ps and ps[0]["last_seen_ms"] > first["since_ms"] + 3500,
                        what="a page beating past its first TTL to stay listed")
    assert pages[0]["since_ms"] == first["since_ms"]

    await obs.disconnect()
    await until(lambda: listed(server), lambda ps: ps == [], what="the closed page to leave the list")


async def test_hostile_announcements_are_not_listed(make_server: Any, backend: str) -> None:
    server = await make_server(backend, **FAST)
    bad = [{"widget": "<script>", "page_id": "page-0002"}, {"widget": "live", "page_id": "page-0003"},
           {"widget": "goal", "page_id": "x" * 65}, {"widget": "goal", "page_id": "short"},
           {"widget": "goal", "page_id": "<b>page</b>-0004"}, {"widget": ["goal"], "page_id": "page-0005"}]
    clients = [await open_page(server.url, **hello) for hello in bad]
    clients.append(await open_page(server.url))
    await clients[-1].emit("hello", "not an object", namespace="/overlay")
    # A page whose announcement comes later, with a user agent far too long: listed, cut short.
    clients.append(await open_page(server.url, "<img src=x onerror=alert(1)>" + "A" * 2000,
                                   widget="goal", page_id="good-page-0001"))
    pages = await until(lambda: listed(server), what="the good page to be listed")
    assert [p["page_id"] for p in pages] == ["good-page-0001"]
    assert pages[0]["user_agent"] == ("<img src=x onerror=alert(1)>" + "A" * 2000)[:300]
    assert pages[0]["client"] == ""
    for client in clients:
        await client.disconnect()


async def test_the_store_lists_a_bounded_number_of_live_pages(store: base.Store) -> None:
    now = int(time.time() * 1000)  # Redis expires the whole list by its own clock
    assert await store.put_overlay_page("demo", "a", {"page_id": "a"}, now + 1000, now, 2)
    assert await store.put_overlay_page("demo", "b", {"page_id": "b"}, now + 5000, now, 2)
    assert not await store.put_overlay_page("demo", "c", {"page_id": "c"}, now + 5000, now, 2), "over the limit"
    assert await store.put_overlay_page("demo", "a", {"page_id": "a", "n": 2}, now + 1000, now, 2), "a renewal"
    assert await store.put_overlay_page("other", "c", {"page_id": "c"}, now + 1000, now, 2), "per channel"
    assert sorted(await store.overlay_pages("demo", now), key=str) == [{"page_id": "a", "n": 2}, {"page_id": "b"}]
    # "a" expired: it is no longer listed, and its place is free.
    assert await store.overlay_pages("demo", now + 1000) == [{"page_id": "b"}]
    assert await store.put_overlay_page("demo", "c", {"page_id": "c"}, now + 5000, now + 1000, 2)
    await store.drop_overlay_page("demo", "b")
    assert await store.overlay_pages("demo", now + 1000) == [{"page_id": "c"}]

"""The subathon timer as clients see it (API.md §8): moderator actions, the ``timer`` event
and snapshot, on both backends; a restart; two servers of two workers each on one Redis."""
from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp

from tests.support import AUTH, OVERLAY_KEY, Listener, ServerProcess, free_port
from tests.test_processes import post, state, write_config

TIMER = "/api/v1/channels/demo/timer"


async def test_start_donate_pause_resume_add_reach_overlays_and_snapshot(server: Any) -> None:
    overlay = await server.listen()
    assert (await overlay.wait_for("state"))["timer"]["started"] is False
    status, body = await server.post(f"{TIMER}/start", {"seconds": 600})
    assert status == 200, body
    started = body["timer"]
    assert started["started"] and started["added_ms"] == 0 and started["remaining_ms"] is None
    event = await overlay.wait_for("timer")
    assert event["timer"] == started and event["seq"] == body["seq"]  # the answer says what it is current to

    donation = await server.donate(amount="5.00", donor_name="Alex")
    moved = await overlay.wait_for("timer", lambda d: d["timer"]["added_ms"] > 0)
    assert moved["seq"] > donation["seq"]  # logged in the donation's commit, after it
    assert moved["timer"]["ends_at"] == started["ends_at"] + 300_000  # default rule: 60 s per unit
    status, snap = await server.request("GET", "/api/v1/channels/demo/state")
    assert snap["timer"] == moved["timer"]

    status, body = await server.post(f"{TIMER}/pause", {})
    assert status == 200 and body["timer"]["paused"] and body["timer"]["ends_at"] is None
    assert 0 < body["timer"]["remaining_ms"] <= 900_000
    status, again = await server.post(f"{TIMER}/pause", {})
    assert status == 409 and again["error"]["code"] == "timer_paused"
    status, added = await server.post(f"{TIMER}/add", {"seconds": -100_000})
    assert status == 200 and added["timer"]["remaining_ms"] == 0  # never below zero
    status, resumed = await server.post(f"{TIMER}/resume", {})
    assert status == 200 and not resumed["timer"]["paused"]
    status, current = await server.request("GET", TIMER)
    assert status == 200 and current == resumed
    await overlay.wait_for("timer", lambda d: d["timer"] == resumed["timer"])


async def test_bad_timer_requests_are_refused_and_change_nothing(server: Any) -> None:
    status, body = await server.post(f"{TIMER}/add", {"seconds": 60})
    assert status == 409 and body["error"]["code"] == "timer_not_started"
    for bad in ({"seconds": 1.5}, {"seconds": True}, {"seconds": "60"}, {}, {"seconds": 10**9}, {"minutes": 1}):
        status, body = await server.post(f"{TIMER}/add", bad)
        assert status == 422 and "error" in body, (bad, status, body)
    status, body = await server.post(f"{TIMER}/start", {"seconds": 0})
    assert status == 422
    status, body = await server.post(f"{TIMER}/start", {"seconds": 600.0})  # a whole number, as JSON Schema's integer
    assert status == 200 and body["timer"]["started"]
    status, body = await server.post(f"{TIMER}/start", {}, headers={"Authorization": f"Bearer {OVERLAY_KEY}"})
    assert status in (401, 403)
    status, body = await server.request("GET", TIMER)
    assert status == 200 and body["timer"]["started"] is True


async def test_a_restart_keeps_the_timer_to_the_millisecond(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path)
    srv = await ServerProcess(config, port).start()
    try:
        async with aiohttp.ClientSession(headers=AUTH) as http:
            async with http.post(f"{srv.url}{TIMER}/start", json={"seconds": 3600}) as r:
                assert r.status == 200
        assert (await post(srv.url, {"amount": "2.00"}))[0] == 201
        before = (await state(srv.url))["timer"]
        assert before["added_ms"] == 120_000
        assert srv.signal(signal.SIGTERM) == 0
        await srv.start()
        assert (await state(srv.url))["timer"] == before
    finally:
        srv.stop()


async def test_every_process_shows_the_same_end_after_a_burst_of_200(tmp_path: Path, redis_url: str) -> None:
    """Two servers of two workers each on one Redis: overlays on either end on the same ms."""
    config = write_config(tmp_path, redis_url, timer={"rules": [{"seconds": 10}]})
    a = await ServerProcess(config, free_port(), "--workers", "2").start()
    b = await ServerProcess(config, free_port(), "--workers", "2").start()
    listeners: list[Listener] = []
    try:
        for srv in (a, b, a, b):
            listener = await Listener().connect(srv.url, "/overlay", channel="demo", key=OVERLAY_KEY)
            await listener.wait_for("state")
            listeners.append(listener)
        async with aiohttp.ClientSession(headers=AUTH) as http:
            async with http.post(f"{a.url}{TIMER}/start", json={"seconds": 3600}) as r:
                start = (await r.json())["timer"]
        results = await asyncio.gather(*(post((a, b)[i % 2].url, {"amount": "1.00", "donor_name": f"D{i}"})
                                         for i in range(200)))
        assert [status for status, _ in results] == [201] * 200
        final = start["ends_at"] + 200 * 10_000
        for listener in listeners:
            last = await listener.wait_for("timer", lambda d: d["timer"]["added_ms"] == 2_000_000)
            assert last["timer"]["ends_at"] == final
        assert (await state(b.url))["timer"]["ends_at"] == final
    finally:
        for listener in listeners:
            await listener.close()
        a.stop()
        b.stop()

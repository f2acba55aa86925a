"""Three servers behind HAProxy, a Redis primary and its replica under three Sentinels: a
server host dies, then the Redis primary dies (and comes back, empty, as a replica), during a
stream of donations, with overlays — one of them a real browser source in Chromium —
connected through the balancer. Nothing acknowledged is lost, nothing arrives twice or out
of order, every alert plays once.

Run alone: ``bash scripts/test.sh -m topology -s tests/topology`` (-s shows the recovery times).
"""
from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.test_widgets import ALERT_NAME
from tests.support import AUTH, WAIT, ServerProcess, free_port, until
from tests.topology.browser_overlay import BrowserOverlay
from tests.topology.clients import Overlay, Seen, Senders
from tests.topology.cluster import DEPLOY, SERVICE, HAProxy, RedisNode, Sentinels, elapsed, start_server

pytestmark = [pytest.mark.topology, pytest.mark.timeout(900)]
SERVERS = 3
OVERLAYS = 6
STEP = 30  # donations acknowledged between two events of the scenario


@dataclass
class Topology:
    primary: RedisNode
    replicas: list[RedisNode]
    sentinels: Sentinels
    servers: list[ServerProcess] = field(default_factory=list)
    haproxy: HAProxy | None = None

    async def current_primary(self) -> RedisNode:
        """The node Sentinel names (a loaded machine may have made it fail over already)."""
        port = await self.sentinels.primary_port()
        return next(n for n in [self.primary, *self.replicas] if n.port == port)

    @property
    def balancer(self) -> HAProxy:
        assert self.haproxy is not None
        return self.haproxy


@pytest.fixture
async def topology(tmp_path: Path) -> AsyncIterator[Topology]:
    primary = RedisNode(tmp_path, "redis-primary")
    # One replica and redis_min_replicas 1: every acknowledged donation is on the one replica
    # Sentinel can promote (with two, it may promote the one that lacks it: docs/deployment.md).
    replicas = [RedisNode(tmp_path, "redis-replica", primary)]
    sentinels = Sentinels(tmp_path, primary)
    topo = Topology(primary, replicas, sentinels)
    try:
        for replica in replicas:
            await until(replica.role, lambda r: r.get("master_link_status") == "up", what="replica in sync")
        await sentinels.ready(replicas=len(replicas))
        balancer = free_port()
        topo.servers = [await start_server(tmp_path, i, sentinels.url, f"http://127.0.0.1:{balancer}",
                                           redis_min_replicas=1) for i in range(SERVERS)]
        topo.haproxy = HAProxy(tmp_path, balancer, [s.url.removeprefix("http://") for s in topo.servers])
        await topo.balancer.all_up([f"app{i + 1}" for i in range(SERVERS)])
        yield topo
    finally:
        for server in topo.servers:
            server.stop()
        for proc in [topo.haproxy.process] if topo.haproxy else []:
            proc.kill(signal.SIGTERM)
        for proc in [*sentinels.processes, primary.process, *(r.process for r in replicas)]:
            proc.kill(signal.SIGTERM)
        for client in [*sentinels.clients, primary.client, *(r.client for r in replicas)]:
            await client.aclose()


async def test_losing_a_server_then_the_redis_primary_loses_no_donation(topology: Topology, new_page: Any) -> None:
    base = topology.balancer.url
    browser = await BrowserOverlay.open(new_page, base)
    # Its WebSocket is the only session yet: the server HAProxy gave it is the busiest one.
    browsers_server = await until(lambda: _busiest(topology), what="the browser's server")
    overlays: list[Seen] = [browser, *[await Overlay(f"overlay-{i}").connect(base) for i in range(OVERLAYS)]]
    await until(lambda: all(o.events for o in overlays[1:]), what="every overlay has its state")
    senders = Senders(base)
    stream = asyncio.create_task(senders.run())
    try:
        await senders.acked(STEP)
        # The server the browser source is on: its own reconnect, through HAProxy, is tested.
        await _kill_server(topology, browsers_server, senders, overlays)
        await until(watching([browser], lambda: browser.connects > 1), what="the browser source reconnected")
        await _kill_redis_primary(topology, senders, overlays)
    finally:
        senders.stop()
        await stream
    try:
        assert not senders.failures, senders.failures
        await _check_everything_arrived_once(base, senders, overlays)
        await _alert_on_screen(base, browser)
    finally:
        for overlay in overlays:
            await overlay.close()


async def test_a_planned_switchover_loses_no_donation(topology: Topology) -> None:
    """deploy/redis-switchover.sh (maintenance): the old primary lives on as a replica, so
    connections to it answer READONLY instead of failing; the servers must still move on."""
    base = topology.balancer.url
    overlays: list[Seen] = [await Overlay(f"overlay-{i}").connect(base) for i in range(2)]
    await until(lambda: all(o.events for o in overlays), what="every overlay has its state")
    senders = Senders(base)
    stream = asyncio.create_task(senders.run())
    try:
        await senders.acked(STEP)
        started, acked, old = time.monotonic(), len(senders.outcomes), await topology.current_primary()
        script = await asyncio.create_subprocess_exec(
            "sh", str(DEPLOY / "redis-switchover.sh"), "127.0.0.1", str(topology.sentinels.ports[0]), SERVICE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output = (await asyncio.wait_for(script.communicate(), 2 * WAIT))[0].decode()
        assert script.returncode == 0, output
        assert (await old.role()).get("role") == "slave"
        switched = elapsed(started)
        await senders.acked(acked + STEP)
        print(f"\n[topology] deploy/redis-switchover.sh: {output.strip().splitlines()[-1]} after {switched}; "
              f"first donation sent after it started acknowledged {senders.first_success_after(started):.2f} s "
              f"after; retried: {dict(senders.refusals)}")
    finally:
        senders.stop()
        await stream
    try:
        assert not senders.failures, senders.failures
        assert all(o.connects == 1 for o in overlays)
        await _check_everything_arrived_once(base, senders, overlays)
    finally:
        for overlay in overlays:
            await overlay.close()


async def _alert_on_screen(base: str, browser: BrowserOverlay) -> None:
    """The alert box, still the same page after all this, shows the next alert."""
    async with aiohttp.ClientSession() as http, http.post(f"{base}/api/v1/channels/demo/donations", headers=AUTH,
                                                          json={"amount": "50.00", "donor_name": "Après les pannes"}) as r:
        assert r.status == 201, await r.text()
    await browser.page.wait_for_function(ALERT_NAME, arg={"name": "Après les pannes"})
    await animations_done(browser.page)
    await browser.page.screenshot(path=screenshot_path("topology-alert-after-failovers"))


def watching(overlays: list[Seen], read: Any) -> Any:
    """``read()`` after every overlay's record is brought up to date (for ``until``)."""
    async def fresh() -> Any:
        for overlay in overlays:
            await overlay.refresh()
        return read()
    return fresh


async def _busiest(topo: Topology) -> str | None:
    stats = await topo.balancer.servers()
    name = max(stats, key=lambda n: int(stats[n]["scur"] or 0), default=None)
    return name if name and int(stats[name]["scur"] or 0) > 0 else None


async def _kill_server(topo: Topology, name: str, senders: Senders, overlays: list[Seen]) -> None:
    victim = topo.servers[int(name.removeprefix("app")) - 1]
    killed_at, acked = time.monotonic(), len(senders.outcomes)
    victim.stop()  # SIGKILL: no drain, no goodbye to its sockets
    lost = await until(watching(overlays, lambda: [o for o in overlays if o.disconnected_at or o.connects > 1]),
                       what="the overlays of the killed server notice")
    await until(watching(overlays, lambda: all(o.disconnected_at is None for o in overlays) and
                         all(o.connects > 1 for o in lost)), what="overlays reconnected")
    reconnected = elapsed(killed_at)
    await senders.acked(acked + STEP)
    print(f"\n[topology] SIGKILL {name}: {len(lost)} overlay(s) ({', '.join(o.name for o in lost)}) reconnected through HAProxy within {reconnected}; "
          f"first donation sent after the kill acknowledged {senders.first_success_after(killed_at):.2f} s after it")


async def _kill_redis_primary(topo: Topology, senders: Senders, overlays: list[Seen]) -> None:
    sentinel = topo.sentinels.clients[0].pubsub()
    await sentinel.subscribe("+switch-master")
    connects = [o.connects for o in overlays]
    try:
        victim = await topo.current_primary()
        killed_at, acked, refused = time.monotonic(), len(senders.outcomes), senders.refusals.copy()
        victim.process.kill()  # SIGKILL
        switched = await _next_message(sentinel)
        switch_time = elapsed(killed_at)
        assert switched.split()[0] == SERVICE, switched
        new_port = await topo.sentinels.primary_port()
        assert new_port != victim.port, switched
        # The host restarts its Redis; Sentinel makes it a replica of the new primary, and
        # writes, which waited for a replica (503, retried), go through again.
        victim.restart()
        await until(victim.role, lambda r: r.get("role") == "slave" and r.get("master_link_status") == "up",
                    what="the old primary back as a replica")
        back_time = elapsed(killed_at)
        await senders.acked(acked + STEP)
    finally:
        await sentinel.aclose()
    fresh = senders.sent_after(killed_at)
    overlays_back = max(await until(watching(overlays, lambda: [o.first_arrival(fresh, killed_at) for o in overlays]),
                                    all, what="overlays get donations sent after the failover"))
    # The servers lost Redis, not their sockets: overlays stayed connected and were caught up.
    assert [o.connects for o in overlays] == connects
    print(f"[topology] SIGKILL Redis primary: Sentinel switched to :{new_port} after {switch_time}, the restarted "
          f"node was its replica after {back_time}; first donation "
          f"sent after the kill acknowledged {senders.first_success_after(killed_at):.2f} s after it; every overlay "
          f"had a new donation {overlays_back:.2f} s after it; answers retried meanwhile: "
          f"{dict(senders.refusals - refused)} (0 = no answer: {dict(senders.errors)})")


async def _next_message(pubsub: Any) -> str:
    deadline = time.monotonic() + 2 * WAIT
    while time.monotonic() < deadline:
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if msg is not None:
            return str(msg["data"])
    raise AssertionError("Sentinel never announced +switch-master")


async def _stored(base: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        while True:
            after = out[-1]["seq"] if out else 0
            async with http.get(f"{base}/api/v1/channels/demo/donations", headers=AUTH,
                                params={"after_seq": after, "limit": 100}) as r:
                assert r.status == 200, await r.text()
                page = (await r.json())["donations"]
            if not page:
                return out
            out += page


async def _check_everything_arrived_once(base: str, senders: Senders, overlays: list[Seen]) -> None:
    acked = [o for o in senders.outcomes if o.status in (200, 201)]
    stored = [d for d in await _stored(base) if d["source"] == "topology"]
    counts = Counter(d["external_id"] for d in stored)
    assert [e for e, n in counts.items() if n > 1] == [], "stored twice"
    by_external = {d["external_id"]: d for d in stored}
    assert [o.external_id for o in acked if o.external_id not in by_external] == [], "acknowledged, then lost"
    assert all(by_external[o.external_id]["id"] == o.donation["id"] for o in acked)
    ids = {d["id"] for d in stored}
    big = {d["id"] for d in stored if d["amount"] == "5.00"}
    checking = time.monotonic()
    for overlay in overlays:
        await until(watching([overlay], lambda: ids <= {i for _, i in overlay.donations()} | overlay.via_snapshot()),
                    what=f"{overlay.name} has every donation")
        await _every_alert_played(overlay, big)
        seqs = [d["seq"] for e, d in overlay.events if e != "state"]
        assert seqs == sorted(set(seqs)), f"{overlay.name}: an event twice or out of order"
        assert len(overlay.played()) == len(set(overlay.played())), f"{overlay.name}: an alert played twice"
    print(f"[topology] {len(acked)} donations acknowledged ({sum(o.status == 200 for o in acked)} as 200 after a "
          f"retry whose first answer was lost), {sum(o.attempts > 1 for o in acked)} retried, "
          f"stored once each; {len(big)} alerts played once on each of {len(overlays)} overlays (all played "
          f"{elapsed(checking)} after this check began); "
          f"{sum(len(o.via_snapshot() & ids) > 0 for o in overlays)} overlay(s) resynced from a snapshot")


async def _every_alert_played(overlay: Seen, big: set[str]) -> None:
    """Alerts play one after another, one second each here, and the failover held the queue
    back: on a loaded machine it can take longer than one timeout to play what is left, so
    wait for each next alert, not for the whole queue at once."""
    def waiting() -> set[str]:
        return big - set(overlay.played())
    left = waiting()
    while left:
        left = await until(watching([overlay], waiting), lambda now: len(now) < len(left),
                           what=f"{overlay.name} plays one of the {len(left)} alerts it has not played "
                                f"({', '.join(sorted(left)[:3])}, ...)")

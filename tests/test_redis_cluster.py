"""The Redis Cluster backend (docs/deployment.md "Redis Cluster"): a 3-primary, 3-replica
cluster started here, servers on ``redis+cluster://``, channels spread over the shards,
sharded pub/sub between processes, team totals and a team cap exact, a commit redirected to
another primary answered 503 rather than confirmed by the wrong one's replicas, and one
shard's primary killed mid-burst with
``redis_min_replicas: 1``: nothing answered 201 is lost."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.crc import key_slot

from overlay.store.redis_keys import RedisKeys
from tests.admin_support import ADMIN, ADMIN_TOKEN
from tests.cluster_support import RedisClusterProcesses
from tests.support import AUTH, OVERLAY_KEY, WAIT, Listener, ServerProcess, channel_dict, free_port, until

CHANNELS = [f"c{i}" for i in range(9)]


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterProcesses]:
    cluster = RedisClusterProcesses()
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def cluster(redis_cluster: RedisClusterProcesses) -> AsyncIterator[RedisClusterProcesses]:
    await redis_cluster.ok([n for n in redis_cluster.nodes if n.process.proc.poll() is None])
    await redis_cluster.flush()
    yield redis_cluster


def write_config(tmp_path: Path, url: str, teams: list[dict[str, Any]] | None = None, **storage: Any) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps({
        "server": {"host": "127.0.0.1", "admin_tokens": [ADMIN_TOKEN]},
        "storage": {"redis_url": url, "data_dir": str(tmp_path / "data"), **storage},
        "channels": [channel_dict(id=c, name=f"Channel {c}", match=None) for c in CHANNELS],
        "teams": teams or []}))
    return path


async def servers(path: Path, count: int) -> list[ServerProcess]:
    return [await ServerProcess(path, free_port()).start() for _ in range(count)]


async def send(http: aiohttp.ClientSession, url: str, channel: str, amount: str = "5.00") -> tuple[int, Any]:
    async with http.post(f"{url}/api/v1/channels/{channel}/donations", json={"amount": amount}, headers=AUTH) as r:
        return r.status, await r.json()


async def stored(http: aiohttp.ClientSession, url: str, channel: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        after = found[-1]["seq"] if found else 0
        async with http.get(f"{url}/api/v1/channels/{channel}/donations?after_seq={after}&limit=500",
                            headers=AUTH) as r:
            assert r.status == 200, await r.text()
            page = (await r.json())["donations"]
        if not page:
            return found
        found += page


async def shard_of(cluster: RedisClusterProcesses) -> dict[str, int]:
    """channel -> the port of the primary that holds its seq key (each on exactly one)."""
    out: dict[str, int] = {}
    for node in await cluster.primaries():
        async with node.client() as c:
            for channel in CHANNELS:
                slot = await c.cluster("keyslot", f"overlay:{{{channel}}}:seq")
                if await c.cluster("countkeysinslot", slot):
                    assert channel not in out, f"{channel} on two primaries"
                    out[channel] = node.port
    return out


def test_one_redis_keeps_its_key_names_and_a_cluster_keeps_a_channel_in_one_slot() -> None:
    plain, tagged = RedisKeys(), RedisKeys(cluster=True)
    assert (plain.channel("demo", "seq"), plain.events("demo")) == ("overlay:demo:seq", "overlay:demo:events")
    assert plain.team_match("t") == ["overlay:_teammatch:t:used", "overlay:_teammatch:t:grants"]
    assert plain.invite("i") == ["overlay:_invite:i", "overlay:_invite:i:used"]
    assert (tagged.channel("demo", "seq"), tagged.events("demo")) == ("overlay:{demo}:seq", "overlay:{demo}:events")
    for names in (plain, tagged):
        assert names.channel_of(names.events("a-b")) == "a-b"
        assert names.channel_of("overlay:channels") is None
    for group in ([tagged.channel("demo", n) for n in ("seq", "state", "presets:alerts", "events")],
                  [*tagged.team_match("t"), tagged.team_totals("t")], tagged.invite("i")):
        assert len({key_slot(k.encode()) for k in group}) == 1, group


async def test_servers_on_a_cluster_spread_channels_and_hear_each_other(tmp_path: Path,
                                                                       cluster: RedisClusterProcesses) -> None:
    one, two = await servers(write_config(tmp_path, cluster.url), 2)
    try:
        async with aiohttp.ClientSession() as http:
            listeners = {c: await Listener().connect(two.url, "/overlay", channel=c, key=OVERLAY_KEY)
                         for c in CHANNELS}
            for listener in listeners.values():
                await listener.wait_for("state")
            for i in range(3):
                for c in CHANNELS:
                    status, body = await send(http, one.url, c, f"{i + 1}.00")
                    assert status == 201, body
            for c, listener in listeners.items():  # donations made on one, heard on two, in seq order
                await listener.wait_for("donation", lambda e: e["donation"]["amount"] == "3.00")
                seqs = [e["seq"] for e in listener.of("donation")]
                assert seqs == sorted(seqs) and len(seqs) == 3, (c, seqs)
                await listener.close()
            shards = await shard_of(cluster)
            assert set(shards) == set(CHANNELS)
            assert len(set(shards.values())) == 3, shards  # every shard holds some channel
    finally:
        one.stop()
        two.stop()


async def test_team_totals_and_team_cap_stay_exact_on_a_cluster(tmp_path: Path, cluster: RedisClusterProcesses) -> None:
    team = {"id": "cause", "name": "Cause", "goal": "1000.00", "channels": CHANNELS,
            "match": {"sponsor": "TikTok", "multiplier": "2", "cap": "100.00"}}
    one, two = await servers(write_config(tmp_path, cluster.url), 2)
    gifts = 60  # 60 gifts of 3.00 ask 180.00 of a 100.00 cap
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{one.url}/api/v1/admin/teams", json=team, headers=ADMIN) as r:
                assert r.status == 201, await r.text()
            overlays = {c: await Listener().connect(two.url, "/overlay", channel=c, key=OVERLAY_KEY)
                        for c in CHANNELS}  # members on every shard, their team readings sent by both servers
            for overlay in overlays.values():
                await overlay.wait_for("state")

            async def gift(i: int) -> dict[str, Any]:
                status, body = await send(http, (one, two)[i % 2].url, CHANNELS[i % len(CHANNELS)], "3.00")
                assert status == 201, body
                return body
            async def rebuilds() -> None:  # each PATCH rebuilds the aggregate while gifts are committed
                for i in range(4):
                    order = CHANNELS if i % 2 else CHANNELS[::-1]
                    async with http.patch(f"{two.url}/api/v1/admin/teams/cause", json={"channels": order},
                                          headers=ADMIN) as r:
                        assert r.status == 200, await r.text()
            given, _ = await asyncio.gather(asyncio.gather(*(gift(i) for i in range(gifts))), rebuilds())
            assert sum(Decimal(d["matched"]) for d in given) == Decimal("100.00")

            async def totals(url: str) -> Any:
                async with http.get(f"{url}/api/v1/teams/cause") as r:
                    body = await r.json()
                    return body["raised"], body["matched"], body["count"]
            for server in (one, two):
                assert await totals(server.url) == ("180.00", "100.00", gifts)
            for overlay in overlays.values():
                event = await overlay.wait_for("team", lambda e: e["team"]["raised"] == "180.00", timeout=60)
                assert event["team"]["match"]["remaining"] == "0.00"
                await overlay.close()
            async with http.patch(f"{one.url}/api/v1/admin/teams/cause", json={"channels": CHANNELS[:3]},
                                  headers=ADMIN) as r:
                assert r.status == 200, await r.text()
            kept = [d for i, d in enumerate(given) if CHANNELS[i % len(CHANNELS)] in CHANNELS[:3]]
            raised = sum(Decimal(d["amount"]) for d in kept)
            assert await totals(two.url) == (f"{raised:.2f}", f"{sum(Decimal(d['matched']) for d in kept):.2f}",
                                             len(kept))
    finally:
        one.stop()
        two.stop()


async def test_a_commit_is_confirmed_only_by_the_replicas_of_the_primary_that_wrote_it(
        tmp_path: Path, cluster: RedisClusterProcesses) -> None:
    """With redis_min_replicas the WAIT after a commit counts the replicas that have its
    connection's writes. A channel's slot moves to another primary, whose replica is stopped,
    while the server still sends the channel's commits to the old one: the commit is redirected
    (MOVED). Followed, it would be written on the new primary while the WAIT, already sent to
    the old one, counted the old one's replicas: a 201 for a donation no replica holds. It is
    answered 503 instead (and written nowhere)."""
    channel, key = CHANNELS[0], f"overlay:{{{CHANNELS[0]}}}:seq"
    old_port = await cluster.primary_of(key)
    old = next(n for n in cluster.nodes if n.port == old_port)
    new = next(n for n in await cluster.primaries() if n is not old)
    stopped = await cluster.replica_of(new)
    server, = await servers(write_config(tmp_path, cluster.url, redis_min_replicas=1), 1)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http:
            # below the alert minimum: no alert, so the writer keeps the channel's state and sends
            # its next commit without a read that would show it the move (a fresh cluster's first
            # commits may wait for a replica still catching up: 503)
            await until(lambda: send(http, server.url, channel, "0.50"), lambda reply: reply[0] == 201, what="a 201")
            before = len(await stored(http, server.url, channel))
            await cluster.move_slot(key, old, new)
            os.kill(stopped.process.proc.pid, signal.SIGSTOP)  # the new primary's replica confirms nothing
            status, body = await send(http, server.url, channel, "0.50")
            assert status == 503, body
            os.kill(stopped.process.proc.pid, signal.SIGCONT)
            await cluster.until_role(stopped, "slave")
            status, body = await send(http, server.url, channel, "0.50")  # now on the new primary: 201
            assert status == 201, body
            assert len(await stored(http, server.url, channel)) == before + 1  # the 503 wrote nothing
    finally:
        os.kill(stopped.process.proc.pid, signal.SIGCONT)
        server.stop()
    await cluster.move_slot(key, new, old)  # the layout the other tests expect
    await cluster.ok()


@pytest.mark.timeout(300)
async def test_a_primary_killed_mid_burst_loses_no_acknowledged_donation(tmp_path: Path,
                                                                          cluster: RedisClusterProcesses) -> None:
    server, = await servers(write_config(tmp_path, cluster.url, redis_min_replicas=1), 1)
    acknowledged: dict[str, set[str]] = {c: set() for c in CHANNELS}
    statuses: dict[int, int] = {}
    stop = asyncio.Event()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http:
            async def sender(i: int) -> None:
                n = 0
                while not stop.is_set():
                    channel = CHANNELS[(i + n) % len(CHANNELS)]
                    n += 1
                    status, body = await send(http, server.url, channel, "1.00")
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 201:
                        acknowledged[channel].add(body["id"])
            # The victim: a shard that does not hold the classic subscription (overlay:channels), so
            # that the cluster client itself moves the channel's sharded subscription to the promoted
            # replica (losing the classic one makes the store subscribe again to everything).
            classic = await cluster.primary_of("overlay:channels")
            victim_channel = [c for c in CHANNELS if await cluster.primary_of(f"overlay:{{{c}}}:seq") != classic][0]
            # an overlay of a channel on the shard that fails over: its subscription must come back
            listener = await Listener().connect(server.url, "/overlay", channel=victim_channel, key=OVERLAY_KEY)
            await listener.wait_for("state")
            senders = [asyncio.create_task(sender(i)) for i in range(20)]
            await until(lambda: sum(map(len, acknowledged.values())), lambda n: n >= 100, what="a burst under way")
            shards = await shard_of(cluster)
            victim = next(n for n in cluster.nodes if n.port == shards[victim_channel])
            heir = await cluster.replica_of(victim)
            killed = time.monotonic()
            victim.process.kill(signal.SIGKILL)
            await cluster.until_role(heir, "master")  # its replica took over
            promoted = time.monotonic() - killed
            await cluster.ok([n for n in cluster.nodes if n is not victim])
            # that shard has no replica now: with redis_min_replicas 1 its channels answer 503
            # until the old primary is back, as a replica of the new one
            victim.restart()
            await cluster.until_role(victim, "slave")
            before = statuses.get(201, 0)
            await until(lambda: statuses.get(201, 0), lambda n: n >= before + 100, what="donations after failover")
            stop.set()
            await asyncio.gather(*senders)
            assert set(statuses) <= {201, 503}, statuses
            status, body = await send(http, server.url, victim_channel, "7.00")
            assert status == 201, body
            await listener.wait_for("donation", lambda e: e["donation"]["id"] == body["id"])
            heard = [e for e in listener.of("donation")]  # every acknowledged one, through the failover
            assert acknowledged[victim_channel] <= {e["donation"]["id"] for e in heard}
            assert [e["seq"] for e in heard] == sorted({e["seq"] for e in heard})
            await listener.close()
            for channel, ids in acknowledged.items():
                kept = await stored(http, server.url, channel)
                assert ids <= {d["id"] for d in kept}, channel
                async with http.get(f"{server.url}/api/v1/channels/{channel}/state", headers=AUTH) as r:
                    assert (await r.json())["campaign"]["count"] == len(kept), channel  # totals agree
            print(f"answers {statuses}; replica promoted {promoted:.1f} s after the kill")
        await cluster.ok()
    finally:
        server.stop()

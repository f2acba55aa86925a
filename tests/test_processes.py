"""``python server.py`` as streamers run it: signals, restarts, crashes, several instances on one Redis."""
from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.support import AUTH, MOD_TOKEN, OVERLAY_KEY, Listener, ServerProcess, channel_dict, free_port, until

DONATE = "/api/v1/channels/demo/donations"


def write_config(tmp_path: Path, redis_url: str | None = None, **channel: Any) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "storage": {"redis_url": redis_url, "data_dir": str(tmp_path / "data")},
        "channels": [channel_dict(**channel)],
    }))
    return path


async def post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.post(url + DONATE, json=body, headers=AUTH) as r:
        return r.status, await r.json()


async def state(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/api/v1/channels/demo/state", headers=AUTH) as r:
        return await r.json()


async def test_sigterm_drains_and_exits_0(tmp_path: Path) -> None:
    srv = await ServerProcess(write_config(tmp_path), free_port()).start()
    try:
        listener = await Listener().connect(srv.url, "/overlay", channel="demo", key=OVERLAY_KEY)
        await listener.wait_for("state")
        assert srv.signal(signal.SIGTERM) == 0
        output = srv.output()
        assert f"{srv.url}/overlay/demo/alert?key={OVERLAY_KEY}" in output
        assert f"{srv.url}/dashboard/demo" in output
        await listener.close()
    finally:
        srv.stop()


async def test_restart_keeps_every_donation_total_and_setting(tmp_path: Path) -> None:
    """Everything stored survives a restart; the alert queue may tick on meanwhile (alerts are
    short in tests, and a slow machine restarts slowly), so seq is only ever allowed to grow,
    and only by the queue's own events, which a client that was at ``before`` gets replayed."""
    cfg = write_config(tmp_path)
    port = free_port()
    srv = await ServerProcess(cfg, port).start()
    try:
        for amount in ("10", "20.50"):
            assert (await post(srv.url, {"amount": amount, "donor_name": "Zoé"}))[0] == 201
        await patch_campaign(srv.url, "Après")
        before, donations_before = await state(srv.url), await all_donations(srv.url)
        assert srv.signal(signal.SIGTERM) == 0
        srv = await ServerProcess(cfg, port).start()
        after = await state(srv.url)
        assert after["campaign"] == before["campaign"] and after["match"] == before["match"]
        assert after["leaderboard"] == before["leaderboard"] == [
            {"donor_name": "Zoé", "total": "30.50", "display": "30,50\u00a0€"}]
        assert await all_donations(srv.url) == donations_before
        assert after["seq"] >= before["seq"]
        await assert_log_continues_from(srv.url, before["seq"])
    finally:
        srv.stop()


async def patch_campaign(url: str, title: str) -> None:
    async with aiohttp.ClientSession() as http, http.patch(
            f"{url}/api/v1/channels/demo/campaign", json={"title": title}, headers=AUTH) as r:
        assert r.status == 200, await r.text()


async def assert_log_continues_from(url: str, seq: int) -> None:
    """A moderator who saw everything up to ``seq`` reconnects: the log replays every event
    after it, gap-free, and before a change made now only the alert queue moved."""
    listener = await Listener().connect(url, "/dashboard", channel="demo", token=MOD_TOKEN, last_seq=seq)
    try:
        await patch_campaign(url, "Après le redémarrage")
        marker = await listener.wait_for("progress", lambda e: e["campaign"]["title"] == "Après le redémarrage")
        received = [(name, data) for name, data in listener.events if data["seq"] <= marker["seq"]]
        assert [data["seq"] for _, data in received] == list(range(seq + 1, marker["seq"] + 1)), received
        assert {name for name, _ in received[:-1]} <= {"alert", "queue"}, received
    finally:
        await listener.close()


async def test_sigkill_loses_no_donation_that_was_answered_201(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    port = free_port()
    srv = await ServerProcess(cfg, port).start()
    acknowledged: list[str] = []

    async def hammer(i: int) -> None:
        async with aiohttp.ClientSession() as http:
            for j in range(1000):
                try:
                    async with http.post(srv.url + DONATE, json={"amount": "1", "external_id": f"{i}-{j}"},
                                         headers=AUTH) as r:
                        if r.status == 201:
                            acknowledged.append((await r.json())["id"])
                except aiohttp.ClientError:
                    return

    tasks = [asyncio.create_task(hammer(i)) for i in range(4)]
    await until(lambda: len(acknowledged) > 20, what="20 donations answered 201")
    srv.proc.kill()  # type: ignore[union-attr]
    srv.proc.wait()  # type: ignore[union-attr]
    await asyncio.gather(*tasks)
    assert len(acknowledged) > 20
    srv = await ServerProcess(cfg, port).start()
    try:
        stored = await all_donation_ids(srv.url)
        assert set(acknowledged) <= stored
        assert (await state(srv.url))["campaign"]["count"] == len(stored)
    finally:
        srv.stop()


async def all_donations(url: str) -> list[dict[str, Any]]:
    donations: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        while True:
            after = donations[-1]["seq"] if donations else 0
            async with http.get(f"{url}{DONATE}?after_seq={after}&limit=500", headers=AUTH) as r:
                page = (await r.json())["donations"]
            if not page:
                return donations
            donations += page


async def all_donation_ids(url: str) -> set[str]:
    return {d["id"] for d in await all_donations(url)}


async def test_two_instances_on_one_redis_share_donations_and_play_each_alert_once(
        tmp_path: Path, redis_url: str) -> None:
    cfg = write_config(tmp_path, redis_url, alerts={"duration_ms": 1000, "gap_ms": 100})
    a = await ServerProcess(cfg, free_port()).start()
    b = await ServerProcess(cfg, free_port()).start()
    try:
        la = await Listener().connect(a.url, "/overlay", channel="demo", key=OVERLAY_KEY)
        lb = await Listener().connect(b.url, "/overlay", channel="demo", key=OVERLAY_KEY)
        await la.wait_for("state")
        await lb.wait_for("state")
        for i in range(4):
            target = a if i % 2 == 0 else b
            assert (await post(target.url, {"amount": "5", "donor_name": f"D{i}"}))[0] == 201
        await lb.wait_for("donation", lambda d: d["donation"]["donor_name"] == "D0")
        await la.wait_for("donation", lambda d: d["donation"]["donor_name"] == "D3")
        # Kill one instance while alerts are still queued: the other must play the rest.
        a.proc.kill()  # type: ignore[union-attr]
        for i in range(4):
            await lb.wait_for("alert", lambda e, i=i: e["action"] == "play" and e["donation"]["donor_name"] == f"D{i}")
        plays = [e for e in lb.of("alert") if e["action"] == "play"]
        assert [p["donation"]["donor_name"] for p in plays] == ["D0", "D1", "D2", "D3"]
        assert len({p["seq"] for p in plays}) == 4
        await lb.close()
        await la.client.disconnect()
    finally:
        a.stop()
        b.stop()


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


async def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path, redis_url: str) -> None:
    srv = await ServerProcess(write_config(tmp_path, redis_url), free_port(), "--workers", "2").start()
    try:
        workers = await until(lambda: _children(srv.proc.pid), lambda pids: len(pids) == 2,
                              what="two workers")
        srv.signal(signal.SIGKILL)
        await until(lambda: [p for p in workers if Path(f"/proc/{p}").exists()],
                    lambda alive: alive == [], what="the orphaned workers to stop")
    finally:
        srv.stop()


async def test_workers_share_one_port_on_redis(tmp_path: Path, redis_url: str) -> None:
    srv = await ServerProcess(write_config(tmp_path, redis_url), free_port(), "--workers", "2").start()
    try:
        listeners = [await Listener().connect(srv.url, "/overlay", channel="demo", key=OVERLAY_KEY) for _ in range(6)]
        for listener in listeners:
            await listener.wait_for("state")
        assert (await post(srv.url, {"amount": "7"}))[0] == 201
        for listener in listeners:
            await listener.wait_for("donation")
            await listener.close()
        assert srv.signal(signal.SIGTERM) == 0
    finally:
        srv.stop()

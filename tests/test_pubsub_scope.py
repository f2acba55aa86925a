"""Redis pub/sub per channel: a process hears only the channels it serves, and a client that
joins on one process gets every commit another process makes after its snapshot."""
from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.support import AUTH, MOD_TOKEN, OVERLAY_KEY, Listener, ServerProcess, channel_dict, free_port, until

QUIET = {"alerts": {"min_amount": "1000.00", "duration_ms": 1000, "gap_ms": 100}}  # no alert ticks
METRIC = re.compile(r"^overlay_pubsub_commit_messages_total (\S+)$", re.M)


def write_config(tmp_path: Path, redis_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "storage": {"redis_url": redis_url, "data_dir": str(tmp_path / "data")},
        "channels": [channel_dict(**QUIET), channel_dict(id="other", **QUIET)],
    }))
    return path


async def donate(url: str, channel: str, donor: str) -> None:
    async with aiohttp.ClientSession() as http, http.post(
            f"{url}/api/v1/channels/{channel}/donations", json={"amount": "5", "donor_name": donor},
            headers=AUTH) as r:
        assert r.status == 201, await r.text()


async def stored_seq(url: str, channel: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(
            f"{url}/api/v1/channels/{channel}/state", headers=AUTH) as r:
        return int((await r.json())["seq"])


async def messages_heard(url: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as r:
        found = METRIC.search(await r.text())
        return float(found.group(1)) if found else 0.0


@contextlib.asynccontextmanager
async def two_servers(tmp_path: Path, redis_url: str) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    cfg = write_config(tmp_path, redis_url)
    a = await ServerProcess(cfg, free_port()).start()
    try:
        b = await ServerProcess(cfg, free_port()).start()
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()


async def test_a_process_without_clients_on_a_channel_hears_none_of_its_commits(
        tmp_path: Path, redis_url: str) -> None:
    async with two_servers(tmp_path, redis_url) as (a, b):
        on_b = await Listener().connect(b.url, "/overlay", channel="other", key=OVERLAY_KEY)
        await on_b.wait_for("state")
        before = await messages_heard(b.url)
        for i in range(5):
            await donate(a.url, "demo", f"X{i}")  # b serves nobody on demo
        await donate(a.url, "other", "Y")  # ... and one client on other: this one must arrive
        await on_b.wait_for("donation", lambda d: d["donation"]["donor_name"] == "Y")
        assert await messages_heard(b.url) - before == 1  # other's one commit; none of demo's five
        await on_b.close()


async def test_a_client_joining_on_one_process_misses_nothing_committed_on_another(
        tmp_path: Path, redis_url: str) -> None:
    async with two_servers(tmp_path, redis_url) as (a, b):
        for round_ in range(20):
            stop, made = asyncio.Event(), [0]

            async def keep_donating(round_: int = round_) -> None:
                while not stop.is_set():
                    await donate(a.url, "demo", f"R{round_}-{made[0]}")
                    made[0] += 1

            donor = asyncio.create_task(keep_donating())
            await until(lambda: made[0] >= round_ % 4, what="donations before the join")  # join mid-stream
            listener = await Listener().connect(b.url, "/dashboard", channel="demo", token=MOD_TOKEN)
            snap = await listener.wait_for("state")
            await donate(a.url, "demo", f"R{round_}-after")  # at least one commit after the join
            stop.set()
            await donor
            final = await stored_seq(a.url, "demo")

            def seqs() -> set[int]:
                return {d["seq"] for name, d in listener.events if name != "state" and isinstance(d, dict)}

            await until(lambda: max(seqs(), default=0) >= final, what=f"round {round_}: seq {final} on b")
            assert seqs() == set(range(snap["seq"] + 1, final + 1)), f"round {round_}"
            await listener.close()  # b's last client on demo: b stops hearing it; the next round joins cold


async def test_a_writer_alone_on_its_channel_hears_none_of_its_own_commits(tmp_path: Path, redis_url: str) -> None:
    async with two_servers(tmp_path, redis_url) as (a, b):
        on_a = await Listener().connect(a.url, "/overlay", channel="other", key=OVERLAY_KEY)
        await on_a.wait_for("state")
        before = await messages_heard(a.url)
        for i in range(5):
            await donate(a.url, "demo", f"X{i}")  # a writes demo, where it has no client
        await donate(b.url, "other", "Y")  # a's client on other: this commit must reach a
        await on_a.wait_for("donation", lambda d: d["donation"]["donor_name"] == "Y")
        assert await messages_heard(a.url) - before == 1  # other's commit; no echo of its five
        await on_a.close()


async def test_two_writers_on_one_channel_count_every_donation(tmp_path: Path, redis_url: str) -> None:
    async with two_servers(tmp_path, redis_url) as (a, b):
        await donate(a.url, "demo", "first")  # a holds demo's state in memory, unheard
        # Both processes write demo at once: each one's memory goes stale under the other's
        # commits, the compare-and-set catches it, and the loser hears the channel from then on.
        await asyncio.gather(*(donate(server.url, "demo", f"{name}{i}")
                               for i in range(20) for server, name in ((a, "A"), (b, "B"))))
        for server in (a, b):
            async with aiohttp.ClientSession() as http, http.get(
                    f"{server.url}/api/v1/channels/demo/state", headers=AUTH) as r:
                campaign = (await r.json())["campaign"]
            assert campaign["count"] == 41 and campaign["raised"] == "205.00"

"""Sources the server polls or connects to (DonorDrive, Streamlabs), run once across processes.

The platforms are local fakes speaking their real protocols (tests/fake_sources.py); our
server runs as a streamer runs it (ServerProcess), on both backends, with two workers on
Redis for the one-holder guarantees.
"""
from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from overlay.config import ConfigError, parse_config
from overlay.store import base
from overlay.store.embedded import EmbeddedStore
from overlay.store.redis import RedisStore
from tests.fake_sources import FakeDonorDrive, FakeStreamlabs, donordrive_donation, streamlabs_donation
from tests.support import AUTH, OVERLAY_KEY, Listener, ServerProcess, channel_dict, free_port, make_config, until

TOKEN = "streamlabs-socket-token-abc"


# -- the lease, on both stores ---------------------------------------------

@pytest.fixture
async def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[base.Store]:
    s: base.Store = RedisStore(request.getfixturevalue("redis_url")) if backend == "redis" else EmbeddedStore(tmp_path)
    await s.open([make_config(tmp_path).channels[0]])
    yield s
    await s.close()


async def test_lease_has_one_holder_and_expires(store: base.Store) -> None:
    assert await store.acquire_lease("donordrive:demo", "a", 60_000)
    assert not await store.acquire_lease("donordrive:demo", "b", 60_000)
    assert await store.acquire_lease("donordrive:demo", "a", 60_000), "the holder acquires again (extends)"
    assert await store.renew_lease("donordrive:demo", "a", 60_000)
    assert not await store.renew_lease("donordrive:demo", "b", 60_000)
    assert await store.acquire_lease("streamlabs:demo", "b", 60_000), "leases are independent"
    await store.release_lease("donordrive:demo", "b")  # not b's: no effect
    assert not await store.acquire_lease("donordrive:demo", "b", 60_000)
    await store.release_lease("donordrive:demo", "a")
    assert await store.acquire_lease("donordrive:demo", "b", 50)
    # b stops renewing: once its short lease expires, a takes over and b cannot renew
    await until(lambda: store.acquire_lease("donordrive:demo", "a", 60_000), what="the lease to expire")
    assert not await store.renew_lease("donordrive:demo", "b", 60_000)


# -- config ------------------------------------------------------------------

def test_source_settings_are_validated(tmp_path: Path) -> None:
    def parse(sources: Any) -> Any:
        return parse_config({"storage": {"data_dir": str(tmp_path)}, "channels": [channel_dict(sources=sources)]},
                            env={})
    ok = parse({"donordrive": {"participant_id": 4024}, "streamlabs": {"socket_token": "t"}})
    assert ok.channels[0].sources.donordrive.interval_s == 60
    for bad in ({"donordrive": {}}, {"donordrive": {"participant_id": 1, "team_id": 2}},
                {"donordrive": {"team_id": 2, "interval_s": 5}}, {"streamlabs": {}}, {"paypal": {}}):
        with pytest.raises(ConfigError):
            parse(bad)


# -- helpers -------------------------------------------------------------------

def write_config(tmp_path: Path, sources: dict[str, Any], redis_url: str | None = None) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "storage": {"redis_url": redis_url, "data_dir": str(tmp_path / "data")},
        "channels": [channel_dict(sources=sources, match=None)],
    }))
    return path


async def donations(srv: ServerProcess) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http, \
            http.get(srv.url + "/api/v1/channels/demo/donations?limit=100", headers=AUTH) as r:
        assert r.status == 200
        return (await r.json())["donations"]


def external_ids(found: list[dict[str, Any]], source: str) -> list[str]:
    return sorted(d["external_id"] for d in found if d["source"] == source)


@pytest.fixture
async def donordrive() -> AsyncIterator[FakeDonorDrive]:
    fake = await FakeDonorDrive().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def streamlabs() -> AsyncIterator[FakeStreamlabs]:
    fake = await FakeStreamlabs(TOKEN).start()
    yield fake
    await fake.stop()


# -- DonorDrive ------------------------------------------------------------------

async def test_donordrive_donations_are_booked_once_across_a_restart(tmp_path: Path,
                                                                    donordrive: FakeDonorDrive) -> None:
    donordrive.add(donordrive_donation(1, "20"))
    donordrive.add(donordrive_donation(2, "12.5", message=None, displayName=None))
    donordrive.add({**donordrive_donation(3), "amount": None})  # the donor hid the amount: not bookable
    donordrive.throttle_next = True
    config = write_config(tmp_path, {"donordrive": {"base_url": donordrive.url, "participant_id": 4024,
                                                    "interval_s": 15}})
    srv = await ServerProcess(config, free_port()).start()
    try:
        listener = await Listener().connect(srv.url, channel="demo", key=OVERLAY_KEY)
        first = await listener.wait_for("donation")
        assert first["donation"]["donor_name"] == "Friendly Donor 1", "oldest first"
        found = await until(lambda: donations(srv), lambda f: len(f) == 2, what="two donations")
        assert external_ids(found, "donordrive") == ["DF4E676D0828A801", "DF4E676D0828A802"]
        by_id = {d["external_id"]: d for d in found}
        assert by_id["DF4E676D0828A801"]["original_amount"] == "20.00"
        assert by_id["DF4E676D0828A801"]["original_currency"] == "USD"
        assert by_id["DF4E676D0828A801"]["amount"] == "18.40", "converted with the channel's fx"
        assert by_id["DF4E676D0828A802"]["message"] is None
        assert [r["status"] for r in donordrive.requests[:2]] == [429, 200], "retried after Retry-After"
        await listener.close()
    finally:
        srv.stop()
    donordrive.add(donordrive_donation(4, "5"))  # made while the server was down
    srv = await ServerProcess(config, srv.port).start()
    try:
        found = await until(lambda: donations(srv), lambda f: len(f) >= 3, what="the new donation")
        assert external_ids(found, "donordrive") == [f"DF4E676D0828A80{n}" for n in (1, 2, 4)]
    finally:
        srv.stop()


async def test_donordrive_is_polled_by_one_worker_and_taken_over(tmp_path: Path, redis_url: str,
                                                               donordrive: FakeDonorDrive) -> None:
    donordrive.add(donordrive_donation(1, "20"))
    config = write_config(tmp_path, {"donordrive": {"base_url": donordrive.url, "team_id": 5074,
                                                    "interval_s": 15}}, redis_url)
    srv = await ServerProcess(config, free_port(), "--workers", "2").start()
    try:
        await until(lambda: [r["status"] for r in donordrive.requests], lambda s: 304 in s,
                    what="a second poll answered 304 (If-None-Match)")
        pollers = {r["pid"] for r in donordrive.requests}
        assert len(pollers) == 1, f"polled by {pollers}"
        assert external_ids(await donations(srv), "donordrive") == ["DF4E676D0828A801"]
        holder = pollers.pop()
        os.kill(holder, signal.SIGKILL)
        seen = len(donordrive.requests)
        donordrive.add(donordrive_donation(2, "7"))
        await until(lambda: donordrive.requests[seen:], lambda r: any(x["pid"] != holder for x in r),
                    what="another process to take over", timeout=120)
        found = await until(lambda: donations(srv), lambda f: len(f) == 2, what="the second donation")
        assert external_ids(found, "donordrive") == ["DF4E676D0828A801", "DF4E676D0828A802"]
        takers = {r["pid"] for r in donordrive.requests[seen:]}
        assert len(takers) == 1, f"polled by {takers} after the take-over"
    finally:
        srv.stop()


# -- Streamlabs --------------------------------------------------------------------

async def test_streamlabs_donation_booked_once_across_a_reconnect(tmp_path: Path,
                                                                 streamlabs: FakeStreamlabs) -> None:
    config = write_config(tmp_path, {"streamlabs": {"socket_token": TOKEN, "url": streamlabs.url}})
    srv = await ServerProcess(config, free_port()).start()
    try:
        listener = await Listener().connect(srv.url, channel="demo", key=OVERLAY_KEY)
        await until(lambda: len(streamlabs.sockets), lambda n: n == 1, what="the socket connection")
        await streamlabs.send({"type": "follow", "message": [{"name": "someone"}], "for": "twitch_account"})
        await streamlabs.send(streamlabs_donation(1, "13.37"))
        got = await listener.wait_for("donation")
        assert got["donation"]["donor_name"] == "Fishstickslol"
        assert got["donation"]["amount"] == "12.30", "13.37 USD at 0.92"
        await streamlabs.drop()
        await until(lambda: streamlabs.connections, lambda n: n == 2, what="a reconnect")
        await until(lambda: len(streamlabs.sockets), lambda n: n == 1, what="the new connection")
        await streamlabs.send(streamlabs_donation(1, "13.37"))  # sent again after the reconnect
        await streamlabs.send(streamlabs_donation(2, "5.00", currency="EUR"))
        found = await until(lambda: donations(srv), lambda f: len(f) == 2, what="the second donation")
        assert len(external_ids(found, "streamlabs")) == 2
        await listener.close()
    finally:
        srv.stop()


async def test_streamlabs_one_connection_across_workers(tmp_path: Path, redis_url: str,
                                                        streamlabs: FakeStreamlabs) -> None:
    config = write_config(tmp_path, {"streamlabs": {"socket_token": TOKEN, "url": streamlabs.url}}, redis_url)
    srv = await ServerProcess(config, free_port(), "--workers", "2").start()
    try:
        await until(lambda: len(streamlabs.sockets), lambda n: n == 1, what="the socket connection")
        await streamlabs.send(streamlabs_donation(1, "10.00", currency="EUR"))
        await until(lambda: donations(srv), lambda f: len(f) == 1, what="the donation")
        # A second connection would have got the donation too; the next one proves it was booked once.
        await streamlabs.send(streamlabs_donation(2, "3.00", currency="EUR"))
        found = await until(lambda: donations(srv), lambda f: len(f) >= 2, what="the second donation")
        assert len(found) == 2 and streamlabs.most_at_once == 1
    finally:
        srv.stop()


# -- the Engine.IO 3 client against a fake that keeps its rules ------------------------

async def test_eio3_client_pings_and_gives_up_on_a_silent_server() -> None:
    from overlay.intake.sources import eio3
    fake = await FakeStreamlabs(TOKEN, ping_interval_ms=100, ping_timeout_ms=300).start()
    try:
        async with aiohttp.ClientSession() as http:
            stream = eio3.events(http, fake.url, {"token": TOKEN})
            assert await stream.__anext__() == ("connect", None), "the server took the token"
            pending = asyncio.ensure_future(stream.__anext__())
            await until(lambda: fake.pings, lambda n: n >= 3, what="the client's pings, answered")
            assert len(fake.sockets) == 1, "still connected while pongs come back"
            await fake.send(streamlabs_donation(1))
            name, data = await pending
            assert name == "event" and data["message"][0]["amount"] == "13.37"
            fake.answer_pings = False
            with pytest.raises(eio3.Closed):
                await stream.__anext__()
            await stream.aclose()
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await eio3.events(http, fake.url, {"token": "wrong"}).__anext__()
    finally:
        await fake.stop()


def test_streamlabs_payloads() -> None:
    from overlay.intake.sources.streamlabs import donations_in
    event = streamlabs_donation(7, "1,250.50", currency="usd")
    event["message"].append({"_id": "no-amount", "name": "x"})
    event["message"].append({**streamlabs_donation(8)["message"][0], "isTest": True})
    ((real, real_test), (test, is_test)), bad = donations_in(event)
    assert bad == 1, "the entry without an amount"
    assert (real.amount, real.currency, real_test) == ("1250.50", "USD", False)
    assert test.external_id.endswith("8") and is_test
    assert donations_in({"type": "follow", "message": [{"_id": "f"}]}) == ([], 0)
    assert donations_in({"type": "donation", "message": "nope"}) == ([], 1)


async def test_an_unreachable_source_holds_up_nothing(tmp_path: Path, streamlabs: FakeStreamlabs) -> None:
    config = write_config(tmp_path, {
        "donordrive": {"base_url": f"http://127.0.0.1:{free_port()}", "participant_id": 1, "interval_s": 15},
        "streamlabs": {"socket_token": TOKEN, "url": streamlabs.url}})
    srv = await ServerProcess(config, free_port()).start()
    try:
        await until(lambda: len(streamlabs.sockets), lambda n: n == 1, what="the socket connection")
        await streamlabs.send(streamlabs_donation(1, "2.00", currency="EUR"))
        found = await until(lambda: donations(srv), lambda f: len(f) == 1, what="the Streamlabs donation")
        assert found[0]["source"] == "streamlabs"
        await until(srv.output, lambda out: "donordrive:demo: unreachable" in out, what="the poller's log line")
    finally:
        srv.stop()


async def test_a_wrong_streamlabs_token_is_logged_without_the_token(tmp_path: Path,
                                                                    streamlabs: FakeStreamlabs) -> None:
    wrong = "wrong-socket-token-5f2e9a"
    config = write_config(tmp_path, {"streamlabs": {"socket_token": wrong, "url": streamlabs.url}})
    srv = await ServerProcess(config, free_port()).start()
    try:
        await until(srv.output, lambda out: "refused with 401: check socket_token" in out, what="the log line")
        assert wrong not in srv.output()
        async with aiohttp.ClientSession() as http, http.get(srv.url + "/healthz") as r:
            assert r.status == 200
    finally:
        srv.stop()


# -- the runner, with two owners on one store (as two processes are) ----------------------

async def test_runner_runs_a_source_once_restarts_it_and_hands_it_over(store: base.Store) -> None:
    from overlay.intake.sources.runner import Source, hold_and_run
    running: list[str] = []
    starts: list[str] = []

    def source(owner: str) -> Source:
        async def run() -> None:
            starts.append(owner)
            if len(starts) == 1:
                raise RuntimeError("the platform said something odd")  # restarted, still under the lease
            running.append(owner)
            try:
                await asyncio.Event().wait()
            finally:
                running.remove(owner)
        return Source("test:demo", run)

    first = asyncio.create_task(hold_and_run(store, source("a"), "a"))
    await until(lambda: running, lambda r: r == ["a"], what="a to run its source")
    second = asyncio.create_task(hold_and_run(store, source("b"), "b"))
    try:
        assert starts == ["a", "a"], "restarted after its failure, and b has not taken it"
        first.cancel()  # a stops (a worker shutting down): it gives the lease back
        await asyncio.gather(first, return_exceptions=True)
        await until(lambda: running, lambda r: r == ["b"], what="b to take over")
        assert starts == ["a", "a", "b"]
    finally:
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)

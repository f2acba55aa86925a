"""Sources the server polls or connects to, in the integration health and on the dashboard;
DonorDrive incentives; the Tiltify keep-alive run by one process; a dead source holding up
nothing.

The platforms are local fakes speaking their real protocols (tests/fake_sources.py, and the
Tiltify API fake of tests/test_integrations.py); our server is real, on both backends, with
two workers on Redis for the lease.
"""
from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.fake_sources import FakeDonorDrive, FakeStreamlabs, donordrive_donation, streamlabs_donation
from tests.support import AUTH, ServerProcess, channel_dict, free_port, until
from tests.test_dashboard_http import get_page, login, session_of
from tests.test_incentives_api import incentive
from tests.test_integrations import FakeTiltifyApi
from tests.test_sources import TOKEN, donordrive, streamlabs  # noqa: F401  (fixtures)
from tests.test_webhooks_e2e import GENERIC_SECRET, TILTIFY_SECRET
from tests.webhook_signing import generic_headers

DYE = {"id": "dye", "kind": "target", "title": "Dye my hair", "amount": "100.00", "donordrive_id": "DD-INC-7"}


async def integrations(url: str, channel: str = "demo") -> dict[str, dict[str, Any]]:
    """Each call on a new connection: with several workers, any of them may answer."""
    async with aiohttp.ClientSession() as http, \
            http.get(f"{url}/api/v1/channels/{channel}/integrations", headers=AUTH) as r:
        assert r.status == 200, await r.text()
        return {i["provider"]: i for i in (await r.json())["integrations"]}


def counts(entry: dict[str, Any]) -> tuple[int, int, int]:
    h = entry["health"]
    return h["accepted"], h["refused"], h["failed"]


def metric(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


async def test_sources_show_their_state_counts_and_last_donation(make_server: Any, backend: str,
                                                                 donordrive: FakeDonorDrive,
                                                                 streamlabs: FakeStreamlabs) -> None:
    donordrive.add(donordrive_donation(1, "20", incentiveID="DD-INC-7"))
    donordrive.add(donordrive_donation(2, "twenty"))  # malformed: refused, once
    donordrive.throttle_next = True  # the first poll: 429, a failed attempt
    server = await make_server(backend, match=None, incentives=[DYE], sources={
        "donordrive": {"base_url": donordrive.url, "participant_id": 4024, "interval_s": 15},
        "streamlabs": {"socket_token": TOKEN, "url": streamlabs.url, "silence_warning_min": 5}})
    found = await until(lambda: integrations(server.url), lambda f: counts(f["donordrive"]) == (1, 1, 1)
                        and f["donordrive"]["state"]["state"] == "polling", what="the DonorDrive poll counted")
    dd = found["donordrive"]
    assert dd["kind"] == "source" and dd["configured"] and dd["url"].startswith(donordrive.url)
    assert dd["health"]["last_delivery"] is not None and dd["health"]["silence_warning_min"] == 60
    assert dd["state"]["holder"].endswith(f"pid {os.getpid()}") and dd["state"]["since"]
    assert (await incentive(server, "dye"))["total"] == "18.40", "incentiveID -> donordrive_id (20 USD at 0.92)"

    await until(lambda: integrations(server.url), lambda f: f["streamlabs"]["state"]["state"] == "connected",
                what="the Streamlabs connection")
    assert (await integrations(server.url))["streamlabs"]["health"]["last_delivery"] is None
    await streamlabs.send(streamlabs_donation(1, "500", currency="JPY"))  # no fx rate: refused
    await streamlabs.send(streamlabs_donation(2, "lots"))  # a bad payload: refused
    await streamlabs.send(streamlabs_donation(3, "4.00", currency="EUR"))
    found = await until(lambda: integrations(server.url), lambda f: counts(f["streamlabs"]) == (1, 2, 0),
                        what="the Streamlabs donations counted")
    sl = found["streamlabs"]
    assert sl["health"]["silence_warning_min"] == 5 and sl["health"]["silent"] is False
    assert sl["url"] == streamlabs.url and TOKEN not in json.dumps(found)
    assert found["generic"]["kind"] == "webhook" and found["generic"]["state"] is None

    async with server.http.get(server.url + "/metrics") as r:
        text = await r.text()
    assert metric(text, "overlay_source_state", channel="demo", provider="donordrive", state="polling") == 1
    assert metric(text, "overlay_source_state", channel="demo", provider="donordrive", state="throttled") == 0
    assert metric(text, "overlay_source_state", channel="demo", provider="streamlabs", state="connected") == 1
    assert metric(text, "overlay_integration_deliveries_total", channel="demo", provider="donordrive",
                  outcome="failed") is not None

    _, headers, _ = await login(server)
    cookie = session_of(headers)
    _, _, page = await get_page(server, cookie, "/dashboard/demo?lang=en")
    assert re.search(r'data-provider="donordrive" data-role="source" data-state="polling"', page)
    assert '<span class="integration-health">connected</span>' in page
    _, _, page = await get_page(server, cookie, "/dashboard/demo?lang=fr")
    assert '<span class="integration-health">connecté</span>' in page


def two_channels(tmp_path: Path, dead_url: str, streamlabs_url: str, redis_url: str | None) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "storage": {"redis_url": redis_url, "data_dir": str(tmp_path / "data")},
        "channels": [
            channel_dict(id="a", match=None, webhooks={"generic": {"secret": GENERIC_SECRET}},
                         sources={"donordrive": {"base_url": dead_url, "participant_id": 1, "interval_s": 15}}),
            channel_dict(id="b", match=None, overlay_key="second-overlay-key",
                         sources={"streamlabs": {"socket_token": TOKEN, "url": streamlabs_url}}),
        ],
    }))
    return path


async def booked(url: str, channel: str) -> list[str]:
    async with aiohttp.ClientSession() as http, \
            http.get(f"{url}/api/v1/channels/{channel}/donations", headers=AUTH) as r:
        assert r.status == 200
        return sorted(d["external_id"] for d in (await r.json())["donations"])


async def test_a_dead_source_holds_up_no_other_channel_or_webhook(tmp_path: Path, backend: str,
                                                                  streamlabs: FakeStreamlabs,
                                                                  request: Any) -> None:
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    config = two_channels(tmp_path, f"http://127.0.0.1:{free_port()}", streamlabs.url, redis_url)
    srv = await ServerProcess(config, free_port()).start()
    try:
        await until(lambda: integrations(srv.url, "a"), lambda f: f["donordrive"]["health"]["failed"] >= 1
                    and f["donordrive"]["state"]["state"] == "unreachable", what="the dead DonorDrive's first attempt")
        await until(lambda: len(streamlabs.sockets), lambda n: n == 1, what="channel b's Streamlabs connection")
        await streamlabs.send(streamlabs_donation(1, "3.00", currency="EUR"))
        raw = json.dumps({"external_id": "w-1", "amount": "3.00"}).encode()
        async with aiohttp.ClientSession() as http, \
                http.post(srv.url + "/webhooks/a/generic", data=raw, headers=generic_headers(raw, GENERIC_SECRET)) as r:
            assert r.status == 200, await r.text()
        assert await until(lambda: booked(srv.url, "b"), lambda ids: len(ids) == 1, what="b's Streamlabs donation")
        assert await booked(srv.url, "a") == ["w-1"], "the webhook is booked while the poller is unreachable"
        found = await until(lambda: integrations(srv.url, "a"), lambda f: f["donordrive"]["health"]["failed"] >= 2
                            and f["donordrive"]["state"]["state"] == "unreachable",
                            what="the dead DonorDrive retried", timeout=120)
        dd = found["donordrive"]
        assert dd["state"]["state"] == "unreachable" and dd["health"]["last_delivery"] is None
        assert counts((await integrations(srv.url, "b"))["streamlabs"]) == (1, 0, 0)
    finally:
        srv.stop()


class PidTiltifyApi(FakeTiltifyApi):
    """Records which server process asks for each token (its User-Agent names its pid)."""

    def __init__(self) -> None:
        super().__init__()
        self.pids: list[int | None] = []

    async def token(self, request: Any) -> Any:
        m = re.search(r"pid (\d+)", request.headers.get("User-Agent", ""))
        self.pids.append(int(m.group(1)) if m else None)
        return await super().token(request)


async def test_one_worker_runs_the_sources_and_the_keepalive_and_every_worker_shows_them(
        tmp_path: Path, redis_url: str, donordrive: FakeDonorDrive, streamlabs: FakeStreamlabs,
        aiohttp_server: Any) -> None:
    fake = PidTiltifyApi()
    api = await aiohttp_server(fake.app())
    tiltify = {"secret": TILTIFY_SECRET, "client_id": "tiltify-app", "client_secret": "tiltify-app-secret",
               "webhook_id": fake.ENDPOINT, "api_base": str(api.make_url("")).rstrip("/"),
               "keepalive_interval_s": 10}
    donordrive.add(donordrive_donation(1, "20"))
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "storage": {"redis_url": redis_url, "data_dir": str(tmp_path / "data")},
        "channels": [channel_dict(match=None, webhooks={"tiltify": tiltify}, sources={
            "donordrive": {"base_url": donordrive.url, "participant_id": 4024, "interval_s": 15},
            "streamlabs": {"socket_token": TOKEN, "url": streamlabs.url}})],
    }))
    srv = await ServerProcess(path, free_port(), "--workers", "2").start()
    try:
        await until(lambda: [c[0] for c in fake.calls].count("get"), lambda n: n >= 2,
                    what="the keep-alive's second check", timeout=120)
        assert len(set(fake.pids)) == 1 and None not in fake.pids, f"checked by {fake.pids}"
        assert [c[0] for c in fake.calls][:4] == ["token", "get", "activate", "token"]

        def settled(f: dict[str, Any]) -> bool:
            return f["donordrive"]["state"]["state"] == "polling" and f["streamlabs"]["state"]["state"] == "connected"
        first = await until(lambda: integrations(srv.url), settled, what="both sources running")
        holder = first["donordrive"]["state"]["holder"]
        for _ in range(8):  # new connections: both workers answer some of them
            found = await integrations(srv.url)
            assert found["donordrive"]["state"] == first["donordrive"]["state"]
            assert found["streamlabs"]["state"]["state"] == "connected"
            assert counts(found["donordrive"]) == (1, 0, 0)
        os.kill(int(holder.rsplit(" ", 1)[1]), signal.SIGKILL)
        def taken_over(f: dict[str, Any]) -> bool:
            state = f["donordrive"]["state"] or {}
            return state.get("state") == "polling" and state.get("holder") != holder
        moved = await until(lambda: integrations(srv.url), taken_over,
                            what="the other worker's state after its take-over", timeout=120)
        assert counts(moved["donordrive"]) == (1, 0, 0), "nothing booked twice"
    finally:
        srv.stop()


def test_a_source_whose_holder_is_gone_reads_as_waiting() -> None:
    from overlay.intake.sources.health import STALE_MS, read_state
    stored = {"state": "polling", "detail": "", "since": 1_000, "seen_at": 5_000, "holder": "host pid 7"}
    assert read_state(stored, 5_000 + STALE_MS)["state"] == "polling"
    assert read_state(stored, 5_001 + STALE_MS) == {"state": "waiting", "detail": "", "since": 5_000, "holder": None}
    assert read_state(None, 0) is None


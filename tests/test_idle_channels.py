"""An idle channel leaves memory (server.idle_channel_s) and comes back from the store whole;
start-up with many channels prints a summary instead of every channel's URLs."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.admin_support import ADMIN, CHANNELS, NEW, admin_server, config_data  # noqa: F401 - a fixture
from tests.conftest import Running
from tests.support import MOD_TOKEN, ServerProcess, channel_dict, free_port, until

IDLE_S = 0.3
STATE = "/api/v1/channels/demo/state"


async def loaded(server: Running) -> float:
    """The overlay_channels_loaded gauge on /metrics."""
    async with server.http.get(server.url + "/metrics") as r:
        found = re.search(r"^overlay_channels_loaded (\S+)$", await r.text(), re.M)
    assert found is not None
    return float(found.group(1))


async def test_an_idle_channel_is_dropped_after_its_alerts_and_comes_back_whole(make_server: Any,
                                                                                 backend: str) -> None:
    server = await make_server(backend, server={"idle_channel_s": IDLE_S})
    await server.donate(amount="12.50", donor_name="Alice")
    await server.donate(amount="12.50", donor_name="Bob")
    # Two alerts of 1 s each: the channel stays while they play, then goes.
    await until(lambda: loaded(server), lambda n: n == 0, what="the idle channel dropped")
    status, snap = await server.request("GET", STATE)
    assert status == 200
    assert snap["alerts"]["queue_length"] == 0  # both alerts played before it went
    assert snap["campaign"]["raised"] == "25.00" and snap["campaign"]["count"] == 2

    overlay = await server.listen()
    first = await overlay.wait_for("state")
    assert first["campaign"]["raised"] == "25.00"
    await server.donate(amount="12.50", donor_name="Carol")
    counted = await overlay.wait_for("donation")
    assert counted["campaign"]["raised"] == "37.50" and counted["campaign"]["count"] == 3


def ADMIN_CONFIG(data_dir: Path, redis_url: str | None) -> dict[str, Any]:  # noqa: N802 - admin_server's hook
    data = config_data(data_dir, redis_url)
    data["server"]["idle_channel_s"] = IDLE_S
    return data


async def test_a_stored_channel_comes_back_and_a_connected_overlay_keeps_its_channel(admin_server: Running) -> None:
    overlay = await admin_server.listen()
    await overlay.wait_for("state")
    status, made = await admin_server.post(CHANNELS, {**NEW, "alerts": {"min_amount": "100.00"}}, headers=ADMIN)
    assert status == 201, made
    donations = f"/api/v1/channels/{NEW['id']}/donations"
    mod = {"Authorization": f"Bearer {made['moderator_token']}"}
    status, _ = await admin_server.post(donations, {"amount": "12.50", "donor_name": "Alice"}, headers=mod)
    assert status == 201
    # The stored channel, with no client, goes; demo, whose overlay is connected, stays.
    await until(lambda: loaded(admin_server), lambda n: n == 1, what="the stored channel dropped")
    status, snap = await admin_server.request("GET", f"/api/v1/channels/{NEW['id']}/state", headers=mod)
    assert status == 200 and snap["campaign"]["raised"] == "12.50"
    status, _ = await admin_server.post(donations, {"amount": "2.50", "donor_name": "Bob"}, headers=mod)
    status, snap = await admin_server.request("GET", f"/api/v1/channels/{NEW['id']}/state", headers=mod)
    assert snap["campaign"]["raised"] == "15.00" and snap["campaign"]["count"] == 2
    await admin_server.donate(amount="12.50", donor_name="Carol")
    assert (await overlay.wait_for("donation"))["campaign"]["count"] == 1  # demo's feed never left


def many_channels_config(tmp_path: Path, n: int) -> Path:
    import yaml
    channels = [channel_dict(id=f"c{i:03d}", overlay_key=f"key-of-c{i:03d}", moderator_tokens=[MOD_TOKEN])
                for i in range(n)]
    data = {"server": {"host": "127.0.0.1", "port": 8080, "admin_tokens": ["admin-token-of-the-test-1234"]},
            "storage": {"redis_url": None, "data_dir": str(tmp_path / "data")}, "channels": channels}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


async def test_start_up_with_many_channels_prints_a_summary(tmp_path: Path) -> None:
    server = ServerProcess(many_channels_config(tmp_path, 300), free_port())
    try:
        await server.start()
        await until(server.output, lambda out: "300 channels (300 from config.yaml, 0 stored)" in out,
                    what="the summary line")
        out = server.output()
    finally:
        server.stop()
    assert re.search(r"^300 channels \(300 from config\.yaml, 0 stored\); admin page: http://127\.0\.0\.1:\d+/admin$",
                     out, re.M)
    assert "Channel c000 (Demo streamer):" in out and "Channel c000: moderator token" in out
    assert "c001" not in out and "key-of-c" not in out  # no per-channel lines, no overlay keys
    assert "299 more channels" in out

"""A config.yaml with thousands of channels: the server starts without reading every channel's
state (each is read on first use, as a stored channel's is), and a mistake in any channel is
still reported at start-up, naming its key."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from overlay.config import ConfigError, load_config
from tests.support import MOD_TOKEN, ROOT, WAIT, Listener, ServerProcess, channel_dict, free_port, until

MANY = 2000


def config_of(tmp_path: Path, channels: list[dict[str, Any]]) -> Path:
    data = {"server": {"host": "127.0.0.1", "port": 8080, "admin_tokens": ["admin-token-of-the-test-1234"]},
            "storage": {"redis_url": None, "data_dir": str(tmp_path / "data")}, "channels": channels}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def channels(n: int) -> list[dict[str, Any]]:
    return [channel_dict(id=f"c{i:04d}", overlay_key=f"key-of-c{i:04d}", moderator_tokens=[MOD_TOKEN])
            for i in range(n)]


async def test_a_config_channel_never_used_before_works_at_once(tmp_path: Path) -> None:
    server = ServerProcess(config_of(tmp_path, channels(MANY)), free_port())
    overlay = Listener()
    try:
        await server.start()
        await until(server.output, lambda out: f"{MANY} channels ({MANY} from config.yaml, 0 stored)" in out,
                    what="the summary line")
        last = f"c{MANY - 1:04d}"
        await overlay.connect(server.url, "/overlay", channel=last, key=f"key-of-{last}")
        assert (await overlay.wait_for("state"))["campaign"]["raised"] == "0.00"
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{server.url}/api/v1/channels/{last}/donations",
                                 json={"amount": "12.50", "donor_name": "Alice"},
                                 headers={"Authorization": f"Bearer {MOD_TOKEN}"}) as r:
                assert r.status == 201, await r.text()
        donation = await overlay.wait_for("donation")
        assert donation["campaign"]["raised"] == "12.50"
        await overlay.wait_for("alert")  # its alert schedule started with its feed, on first use
    finally:
        await overlay.close()
        server.stop()


def test_a_mistake_in_channel_1500_is_named_by_load_config(tmp_path: Path) -> None:
    listed = channels(MANY)
    listed[1499]["alerts"] = {"min_amount": "1.001"}
    with pytest.raises(ConfigError) as caught:
        load_config(config_of(tmp_path, listed), env={})
    assert caught.value.problems == ["channels[1499].alerts.min_amount: EUR amounts have at most 2 decimals"]


def test_a_mistake_in_channel_1500_stops_the_server_at_start_up(tmp_path: Path) -> None:
    listed = channels(MANY)
    listed[1499]["currency"] = "EURO"
    proc = subprocess.run([sys.executable, str(ROOT / "server.py"), "--config", str(config_of(tmp_path, listed)),
                           "--port", str(free_port())], cwd=ROOT, capture_output=True, text=True, timeout=WAIT * 4)
    assert proc.returncode == 2
    assert proc.stderr.startswith("channels[1499].currency: "), proc.stderr


def test_change_me_secrets_are_found_among_many_channels(tmp_path: Path) -> None:
    from overlay.startup import secret_lines
    listed = channels(60)
    listed[42]["overlay_key"] = "change-me-overlay-key"
    listed[7]["moderator_tokens"] = ["${MOD_OF_C7:-change-me-token-of-c7}"]
    path = config_of(tmp_path, listed)
    lines = secret_lines(load_config(path, env={}), path, {}, colour=False)
    assert lines[-1].startswith("WARNING: 2 channels still use change-me secrets (c0007, c0042)"), lines
    given = {"MOD_OF_C7": "change-me-from-the-environment"}
    lines = secret_lines(load_config(path, env=given), path, given, colour=False)
    assert lines[-1].startswith("WARNING: 2 channels still use change-me secrets (c0007, c0042)"), lines
    given = {"MOD_OF_C7": "a-token-of-my-own-1234"}
    lines = secret_lines(load_config(path, env=given), path, given, colour=False)
    assert lines[-1].startswith("WARNING: 1 channels still use change-me secrets (c0042)"), lines

"""Teams through the admin API (API.md §8): stored on both backends, read-only config teams,
clear refusals, and every process following a change."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.admin_support import ADMIN, CHANNELS, NEW, admin_server, config_data  # noqa: F401 - a fixture
from tests.conftest import Running
from tests.support import AUTH, ServerProcess, channel_dict, free_port, until

TEAMS = "/api/v1/admin/teams"
CAUSE = {"id": "cause", "name": "The cause", "goal": "100000.00", "channels": ["demo", NEW["id"]]}


def team_config(data_dir: Path, redis_url: str | None) -> dict[str, Any]:
    data = config_data(data_dir, redis_url)
    data["channels"].append(channel_dict(id="dollars", name="Dollars", currency="USD", match=None))
    data["teams"] = [{"id": "restos", "name": "Team Restos", "channels": ["demo"]}]
    return data


ADMIN_CONFIG = team_config


@pytest.fixture
def running(admin_server: Running) -> Running:
    return admin_server


async def call(running: Running, method: str, path: str, body: Any = None,
               headers: dict[str, str] = ADMIN) -> tuple[int, Any]:
    return await running.request(method, path, json=body, headers=headers)


async def test_a_team_is_created_read_changed_and_deleted(running: Running) -> None:
    assert (await call(running, "POST", CHANNELS, NEW))[0] == 201
    status, made = await call(running, "POST", TEAMS, CAUSE)
    assert status == 201, made
    assert made["currency"] == "EUR" and made["source"] == "api" and made["version"] == 1
    assert (await call(running, "POST", TEAMS, CAUSE))[1]["error"]["code"] == "team_exists"
    status, listed = await call(running, "GET", TEAMS)
    assert [(t["id"], t["source"]) for t in listed["teams"]] == [("cause", "api"), ("restos", "config")]
    await running.post(f"/api/v1/channels/demo/donations", {"amount": "12.00"})
    status, public = await running.request("GET", "/api/v1/teams/cause", headers={})
    assert status == 200 and public["raised"] == "12.00" and public["leaderboard"][0]["channel"] == "demo"
    status, changed = await call(running, "PATCH", f"{TEAMS}/cause", {"name": "Renamed", "channels": ["demo"]})
    assert status == 200 and changed["name"] == "Renamed" and changed["version"] == 2
    assert (await running.request("GET", "/api/v1/teams/cause", headers={}))[1]["name"] == "Renamed"
    assert (await call(running, "DELETE", f"{TEAMS}/cause"))[0] == 204
    assert (await running.request("GET", "/api/v1/teams/cause", headers={}))[0] == 404
    assert (await call(running, "GET", f"{TEAMS}/cause"))[0] == 404


@pytest.mark.parametrize("body, code, field", [
    ({**CAUSE, "channels": [f"c{i}" for i in range(10_001)]}, "invalid_channels", "channels"),
    ({**CAUSE, "channels": ["demo", "nobody"]}, "invalid_channels", "channels[1]"),
    ({**CAUSE, "channels": ["demo", "dollars"]}, "invalid_channels", "channels[1]"),
    ({**CAUSE, "channels": ["dollars"], "currency": "EUR"}, "invalid_channels", "channels[0]"),
    ({**CAUSE, "goal": "-5"}, "invalid_goal", "goal"),
    ({**CAUSE, "colour": "red"}, "unknown_field", "colour"),
])
async def test_bad_teams_are_refused_naming_the_field(running: Running, body: dict[str, Any], code: str,
                                                      field: str) -> None:
    status, answer = await call(running, "POST", TEAMS, body)
    assert status == 422, answer
    assert answer["error"]["code"] == code and field in answer["error"]["message"], answer
    assert (await call(running, "GET", TEAMS))[1]["teams"][0]["id"] == "restos"  # nothing stored


async def test_config_teams_are_read_only_and_the_admin_token_is_required(running: Running) -> None:
    assert (await call(running, "GET", f"{TEAMS}/restos"))[1]["source"] == "config"
    status, answer = await call(running, "PATCH", f"{TEAMS}/restos", {"name": "Other"})
    assert status == 409 and answer["error"]["code"] == "team_in_config"
    assert (await call(running, "DELETE", f"{TEAMS}/restos"))[0] == 409
    for headers in ({"Authorization": "Bearer wrong-token-0123456789"}, {}, AUTH):
        assert (await call(running, "POST", TEAMS, CAUSE, headers=headers))[0] == 401
        assert (await call(running, "GET", TEAMS, headers=headers))[0] == 401
    paths = (await running.request("GET", "/api/v1/openapi.json", headers={}))[1]["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/admin/teams"]) and "patch" in paths["/api/v1/admin/teams/{id}"]


@pytest.mark.timeout(240)
async def test_a_stored_team_reaches_every_server_within_a_second(tmp_path: Path, redis_url: str) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(team_config(tmp_path / "data", redis_url)))
    one, two = await ServerProcess(cfg, free_port()).start(), await ServerProcess(cfg, free_port()).start()
    try:
        async with aiohttp.ClientSession() as http:
            async def team_on_two() -> int:
                async with http.get(two.url + "/api/v1/teams/cause") as r:
                    return r.status
            async with http.post(one.url + TEAMS, json={**CAUSE, "channels": ["demo"]}, headers=ADMIN) as r:
                assert r.status == 201, await r.text()
                created = time.monotonic()
            await until(team_on_two, lambda s: s == 200, what="the new team on the other server")
            assert time.monotonic() - created < 1.0
            async with http.delete(one.url + f"{TEAMS}/cause", headers=ADMIN) as r:
                assert r.status == 204
            await until(team_on_two, lambda s: s == 404, what="the team gone on the other server")
    finally:
        one.stop()
        two.stop()

"""A team's totals are an aggregate the store keeps in each member's commit (docs/teams.md):
it follows donations, refunds and members joining, leaving, disabled and enabled, on both
backends, and stays exact with two server processes donating and rebuilding on one Redis."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.admin_support import ADMIN, CHANNELS, NEW, admin_server  # noqa: F401 - a fixture
from tests.conftest import Running
from tests.support import AUTH, ServerProcess, free_port, until
from tests.test_team_admin import TEAMS, team_config

ADMIN_CONFIG = team_config
PUBLIC = "/api/v1/teams/cause"
SECOND = {**NEW, "id": "second", "name": "Second"}


def totals(team: dict[str, Any]) -> tuple[str, str, int]:
    return team["raised"], team["matched"], team["count"]


def members_sum(team: dict[str, Any]) -> tuple[str, str, int]:
    """The same totals summed from the member rows (each read from the member's state)."""
    def cents(key: str) -> int:
        return sum(round(float(m[key]) * 100) for m in team["members"])
    return f"{cents('raised') / 100:.2f}", f"{cents('matched') / 100:.2f}", sum(m["count"] for m in team["members"])


async def read(running: Running, agree: bool = True) -> dict[str, Any]:
    status, team = await running.request("GET", PUBLIC, headers={})
    assert status == 200, team
    if agree:
        assert totals(team) == members_sum(team)
    return team


async def settled(running: Running, expected: tuple[str, str, int], what: str) -> None:
    """After a member is disabled or enabled: its teams are rebuilt right after, not in the request."""
    await until(lambda: read(running, agree=False), lambda t: totals(t) == members_sum(t) == expected, what=what)


async def donate(running: Running, channel: str, token: str | None, **body: Any) -> dict[str, Any]:
    headers = AUTH if token is None else {"Authorization": f"Bearer {token}"}
    status, made = await running.post(f"/api/v1/channels/{channel}/donations", body, headers=headers)
    assert status in (200, 201), made
    return made


async def test_the_aggregate_follows_donations_refunds_and_members(running_admin: Running) -> None:
    running = running_admin
    status, second = await running.request("POST", CHANNELS, json=SECOND, headers=ADMIN)
    assert status == 201, second
    token = second["moderator_token"]
    status, made = await running.request("POST", TEAMS, json={"id": "cause", "name": "Cause", "goal": "100.00",
                                                               "channels": ["demo", "second"]}, headers=ADMIN)
    assert status == 201, made
    assert totals(await read(running)) == ("0.00", "0.00", 0)

    first = await donate(running, "demo", None, amount="10.00")  # demo matches ×2
    assert totals(await read(running)) == ("10.00", "10.00", 1)
    await donate(running, "second", token, amount="9.00", test=True)  # counts nowhere
    await donate(running, "second", token, amount="5.00")
    assert totals(await read(running)) == ("15.00", "10.00", 2)
    status, _ = await running.post(f"/api/v1/channels/demo/donations/{first['id']}/refund", {})
    assert status == 200
    assert totals(await read(running)) == ("5.00", "0.00", 1)
    await donate(running, "demo", None, amount="1.00")
    assert totals(await read(running)) == ("6.00", "1.00", 2)

    # demo leaves: the aggregate is built again from the members left
    status, _ = await running.request("PATCH", f"{TEAMS}/cause", json={"channels": ["second"]}, headers=ADMIN)
    assert status == 200
    assert totals(await read(running)) == ("5.00", "0.00", 1)
    await donate(running, "demo", None, amount="3.00")  # no longer a member
    assert totals(await read(running)) == ("5.00", "0.00", 1)
    # demo joins again, with what it has now
    status, _ = await running.request("PATCH", f"{TEAMS}/cause", json={"channels": ["second", "demo"]},
                                      headers=ADMIN)
    assert status == 200
    assert totals(await read(running)) == ("9.00", "4.00", 3)

    # a disabled member counts nowhere until it is back; its donations stay
    assert (await running.request("POST", f"{CHANNELS}/second/disable", headers=ADMIN))[0] == 200
    await settled(running, ("4.00", "4.00", 2), "second disabled")
    assert (await running.request("POST", f"{CHANNELS}/second/enable", headers=ADMIN))[0] == 200
    await settled(running, ("9.00", "4.00", 3), "second enabled")
    await donate(running, "second", token, amount="2.50")
    assert totals(await read(running)) == ("11.50", "4.00", 4)


@pytest.fixture
def running_admin(admin_server: Running) -> Running:
    return admin_server


@pytest.mark.timeout(300)
async def test_two_server_processes_on_one_redis_keep_the_aggregate_exact(tmp_path: Path, redis_url: str) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(team_config(tmp_path / "data", redis_url)))
    one, two = await ServerProcess(cfg, free_port()).start(), await ServerProcess(cfg, free_port()).start()
    rounds = 40
    try:
        async with aiohttp.ClientSession() as http:
            async def send(url: str, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
                async with http.request(method, url + path, json=body, headers=headers) as r:
                    assert r.status in (200, 201), await r.text()
                    return await r.json()
            second = await send(one.url, "POST", CHANNELS, SECOND, ADMIN)
            on_second = {"Authorization": f"Bearer {second['moderator_token']}"}
            await send(one.url, "POST", TEAMS, {"id": "cause", "name": "Cause", "goal": "1000.00",
                                                 "channels": ["demo", "second"]}, ADMIN)
            gate = asyncio.Semaphore(8)

            async def donation(url: str, channel: str, headers: dict[str, str], amount: str) -> None:
                async with gate:
                    await send(url, "POST", f"/api/v1/channels/{channel}/donations", {"amount": amount}, headers)

            async def rebuilds() -> None:  # the members change order: each PATCH rebuilds the aggregate
                for i in range(6):
                    order = ["demo", "second"] if i % 2 else ["second", "demo"]
                    await send(two.url, "PATCH", f"{TEAMS}/cause", {"channels": order}, ADMIN)
            async def team_on(url: str) -> dict[str, Any]:
                return await send(url, "GET", PUBLIC, None, {})

            async def both_sides(n: int) -> list[Any]:
                return [*(donation(one.url, "demo", AUTH, "1.00") for _ in range(n)),
                        *(donation(two.url, "second", on_second, "2.00") for _ in range(n))]
            await asyncio.gather(rebuilds(), *await both_sides(rounds))
            # exact at once, whichever rebuild ran last; then donations alone move it
            expected = (f"{rounds * 3}.00", f"{rounds}.00", 2 * rounds)  # demo's match doubles its part
            for url in (one.url, two.url):
                assert totals(await team_on(url)) == expected
            await asyncio.gather(*await both_sides(rounds))
            expected = (f"{rounds * 6}.00", f"{rounds * 2}.00", 4 * rounds)
            for url in (one.url, two.url):
                team = await team_on(url)
                assert totals(team) == expected
                assert totals(team) == members_sum(team)
    finally:
        one.stop()
        two.stop()

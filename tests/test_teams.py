"""Teams (API.md §7): member donations move the team total, on both stores and across processes."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from overlay.app import create_app
from overlay.cli import urls
from overlay.config import ConfigError, parse_config
from overlay.domain import money
from overlay.service.teams import ANNOUNCE_EVERY_S
from tests.support import AUTH, MOD_TOKEN, OVERLAY_KEY, Listener, channel_dict

TEAM = "/api/v1/teams/restos"


def team_config(data_dir: Path, redis_url: str | None, other: dict[str, Any] | None = None,
                **team: Any) -> dict[str, Any]:
    return {
        "storage": {"redis_url": redis_url, "data_dir": str(data_dir)},
        "channels": [channel_dict(), channel_dict(id="other", name="Autre stream", match=None, **(other or {}))],
        "teams": [{"id": "restos", "name": "Team Restos", "goal": "50000.00", "channels": ["demo", "other"],
                   **team}],
    }


class Team:
    """One running server with two member channels, and the clients a test opened on it."""

    def __init__(self, url: str, http: aiohttp.ClientSession):
        self.url, self.http, self.listeners = url, http, []

    async def donate(self, channel: str, **body: Any) -> dict[str, Any]:
        async with self.http.post(f"{self.url}/api/v1/channels/{channel}/donations", json=body, headers=AUTH) as r:
            assert r.status in (200, 201), await r.text()
            return await r.json()

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        async with self.http.get(self.url + path, headers=headers or {}) as r:
            return r.status, await r.json()

    async def listen(self, channel: str, namespace: str = "/overlay", **extra: Any) -> Listener:
        auth = {"key": OVERLAY_KEY} if namespace == "/overlay" else {"token": MOD_TOKEN}
        listener = await Listener().connect(self.url, namespace, channel=channel, **auth, **extra)
        self.listeners.append(listener)
        return listener


@pytest.fixture
async def start_team(aiohttp_server: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    running: list[Team] = []

    async def start(backend: str, other: dict[str, Any] | None = None, **team_fields: Any) -> Team:
        """``other``: settings of the second member; ``team_fields``: of the team."""
        redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
        config = parse_config(team_config(tmp_path / "data", redis_url, other, **team_fields), env={})
        server = await aiohttp_server(create_app(config), host="127.0.0.1")
        team = Team(str(server.make_url("")).rstrip("/"), aiohttp.ClientSession())
        running.append(team)
        return team

    yield start
    for team in running:
        for listener in team.listeners:
            await listener.close()
        await team.http.close()


def raised(event: dict[str, Any]) -> str:
    return event["team"]["raised"]


async def test_member_donations_move_the_team_total_and_refunds_take_it_back(start_team: Any, backend: str) -> None:
    team = await start_team(backend)
    demo, other = await team.listen("demo"), await team.listen("other")
    moderators = await team.listen("other", "/dashboard")
    first = await team.donate("demo", amount="10.00", donor_name="Zoé")  # matched ×2 on demo
    await team.donate("other", amount="5.50")
    for listener in (demo, other, moderators):
        event = await listener.wait_for("team", lambda e: raised(e) == "15.50")
        assert event["team"]["total"] == "25.50" and event["team"]["count"] == 2
        assert "seq" not in event  # a reading: not logged on the member channels
    status, body = await team.get(TEAM)
    assert status == 200
    assert {k: body[k] for k in ("id", "name", "goal", "raised", "matched", "total", "count", "currency")} == {
        "id": "restos", "name": "Team Restos", "goal": "50000.00", "raised": "15.50", "matched": "10.00",
        "total": "25.50", "count": 2, "currency": "EUR"}
    assert [(m["channel"], m["name"], m["raised"]) for m in body["members"]] == [
        ("demo", "Demo streamer", "10.00"), ("other", "Autre stream", "5.50")]
    async with team.http.post(f"{team.url}/api/v1/channels/demo/donations/{first['id']}/refund", json={},
                              headers=AUTH) as r:
        assert r.status == 200
    event = await other.wait_for("team", lambda e: raised(e) == "5.50")
    assert event["team"]["total"] == "5.50" and event["team"]["count"] == 1
    assert (await team.get(TEAM))[1]["raised"] == "5.50"


async def test_state_snapshot_and_a_comeback_carry_the_team(start_team: Any, backend: str) -> None:
    team = await start_team(backend)
    first = await team.listen("other")
    state = await first.wait_for("state")
    assert [t["id"] for t in state["teams"]] == ["restos"] and state["teams"][0]["raised"] == "0.00"
    await team.donate("demo", amount="3.00")
    await first.wait_for("team", lambda e: raised(e) == "3.00")
    await first.close()
    await team.donate("demo", amount="4.00")
    # Back with the seq it last saw (unmoved: the team's readings are no commits on the member):
    # no snapshot, and the team as it is now, which it missed while away.
    again = await team.listen("other", last_seq=state["seq"])
    await again.wait_for("team", lambda e: raised(e) == "7.00")
    assert not again.of("state")
    fresh = await team.listen("other")
    snap = await fresh.wait_for("state")
    assert snap["teams"][0]["raised"] == "7.00" and snap["seq"] == state["seq"]


async def test_a_burst_on_the_members_reaches_overlays_as_a_few_readings_with_the_last_total(
        start_team: Any, backend: str) -> None:
    team = await start_team(backend)
    other = await team.listen("other")
    seq = (await other.wait_for("state"))["seq"]
    started = time.monotonic()
    await asyncio.gather(*(team.donate(("demo", "other")[i % 2], amount="1.00") for i in range(120)))
    await other.wait_for("team", lambda e: raised(e) == "120.00", timeout=60)
    elapsed = time.monotonic() - started
    # Coalesced: at most one round a second per team (and the first at once), however many gifts.
    assert len(other.of("team")) <= elapsed / ANNOUNCE_EVERY_S + 2, (len(other.of("team")), elapsed)
    fresh = await team.listen("other")
    state = await fresh.wait_for("state")
    assert state["campaign"]["count"] == 60 and state["teams"][0]["count"] == 120 and state["seq"] > seq


async def test_after_the_redis_subscription_comes_back_overlays_get_the_team_again(
        start_team: Any, redis_url: str) -> None:
    """A reading published while a process's pub/sub connection was down is lost (it is not
    logged): once the connection is back, the process sends its clients the current team."""
    team = await start_team("redis")
    other = await team.listen("other")
    await other.wait_for("state")
    await team.donate("demo", amount="3.00")
    await other.wait_for("team", lambda e: raised(e) == "3.00")
    client = aioredis.from_url(redis_url)
    try:
        assert await client.client_kill_filter(_type="pubsub") >= 1
    finally:
        await client.aclose()
    await other.wait_for("team", lambda e: len(other.of("team")) == 2, timeout=60)
    assert raised(other.of("team")[-1]) == "3.00"


async def test_each_member_reads_the_team_amounts_in_its_own_locale(start_team: Any, backend: str) -> None:
    team = await start_team(backend, {"locale": "en_US"},
                            match={"sponsor": "TikTok", "multiplier": "2", "cap": "5000.00"})
    demo, other = await team.listen("demo"), await team.listen("other")  # fr_FR, en_US
    written = {"demo": lambda minor: money.format_amount(minor, "EUR", "fr_FR"), "other": lambda minor: {
        100000: "€1,000.00", 200000: "€2,000.00", 400000: "€4,000.00", 500000: "€5,000.00",
        5000000: "€50,000.00"}[minor]}
    for channel, listener in (("demo", demo), ("other", other)):
        snap = (await listener.wait_for("state"))["teams"][0]
        assert snap["display"]["goal"] == written[channel](5000000)
        assert snap["match"]["display"]["remaining"] == written[channel](500000)
    await team.donate("other", amount="1000.00")  # the team's ×2 matches it
    for channel, listener in (("demo", demo), ("other", other)):
        event = (await listener.wait_for("team", lambda e: raised(e) == "1000.00"))["team"]
        assert event["display"]["raised"] == written[channel](100000)
        assert event["display"]["total"] == written[channel](200000)
        assert event["match"]["display"]["remaining"] == written[channel](400000)
    assert (await team.get(TEAM))[1]["display"]["raised"] == written["demo"](100000)  # the API: the first member's


async def test_test_donations_and_non_members_leave_the_team_alone(start_team: Any, backend: str) -> None:
    team = await start_team(backend)
    other = await team.listen("other")
    await team.donate("demo", amount="9.00", test=True)
    await team.donate("demo", amount="2.00")
    event = await other.wait_for("team")
    # The first team event after a test donation and a real one already counts only the real one.
    assert raised(event) == "2.00"
    assert len(other.of("team")) == 1
    status, body = await team.get("/api/v1/teams/nobody")
    assert status == 404 and body["error"]["code"] == "team_not_found"


async def test_two_servers_on_one_redis_share_the_team_total(start_team: Any) -> None:
    one, two = await start_team("redis"), await start_team("redis")
    on_two = await two.listen("other")
    await on_two.wait_for("state")
    await one.donate("demo", amount="12.00")
    event = await on_two.wait_for("team", lambda e: raised(e) == "12.00")
    assert event["team"]["members"][0]["raised"] == "12.00"
    await two.donate("other", amount="1.00")
    await on_two.wait_for("team", lambda e: raised(e) == "13.00")
    for server in (one, two):
        assert (await server.get(TEAM))[1]["raised"] == "13.00"


@pytest.mark.parametrize("team, line", [
    ({"channels": ["demo", "nope"]}, "teams[0].channels[1]: no channel has the id 'nope'"),
    ({"currency": "USD"}, "teams[0].channels[0]: channel demo counts in EUR, the team in USD"),
    ({"channels": ["demo", "demo"]}, "teams[0].channels: a channel is listed twice"),
    ({"goal": "10.001"}, "teams[0].goal:"),
])
def test_config_refuses_a_team_it_cannot_add_up(tmp_path: Path, team: dict[str, Any], line: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(team_config(tmp_path, None, **team), env={})
    assert any(p.startswith(line) for p in exc.value.problems), exc.value.problems


def test_start_up_listing_names_each_team(tmp_path: Path) -> None:
    config = parse_config(team_config(tmp_path, None), env={})
    assert urls(config)[-1] == "Team restos (Team Restos): http://127.0.0.1:8080/api/v1/teams/restos"

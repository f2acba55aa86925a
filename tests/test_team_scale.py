"""A cause's team of 1,000 channels made through the admin API: its total and leaderboard
follow donations on several members, on both backends."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.admin_support import CHANNELS, NEW
from tests.conftest import Running
from tests.support import Listener, until
from tests.test_team_admin import ADMIN_CONFIG, TEAMS, admin_server, call, running  # noqa: F401 - fixtures

MEMBERS = 1000


async def create_members(running: Running) -> dict[str, dict[str, Any]]:
    """The 1,000 channels, a few creates at a time: {id: their secrets}."""
    gate, made = asyncio.Semaphore(8), {}

    async def create(i: int) -> None:
        async with gate:
            status, body = await call(running, "POST", CHANNELS, {**NEW, "id": f"s{i:04d}", "name": f"Streamer {i}"})
            assert status == 201, body
            made[f"s{i:04d}"] = body
    await asyncio.gather(*(create(i) for i in range(MEMBERS)))
    return made


async def donate(running: Running, secrets: dict[str, Any], channel: str, amount: str) -> None:
    status, body = await running.post(f"/api/v1/channels/{channel}/donations", {"amount": amount},
                                      headers={"Authorization": f"Bearer {secrets['moderator_token']}"})
    assert status in (200, 201), body


@pytest.mark.timeout(600)
async def test_a_team_of_1000_channels_follows_donations_on_its_members(running: Running) -> None:
    started = time.monotonic()
    members = await create_members(running)
    print(f"1,000 channels created through the admin API in {time.monotonic() - started:.1f} s")
    ids = sorted(members)
    status, team = await call(running, "POST", TEAMS, {"id": "cause", "name": "The cause", "goal": "100000.00",
                                                      "channels": ids})
    assert status == 201, team
    overlay = await Listener().connect(running.url, "/overlay", channel="s0500", key=members["s0500"]["overlay_key"])
    running.listeners.append(overlay)
    snapshot = await overlay.wait_for("state")
    assert snapshot["teams"][0]["id"] == "cause" and snapshot["teams"][0]["members"] == []  # too many to list
    gifts = {"s0007": "30.00", "s0500": "12.50", "s0999": "45.00", "s0123": "5.00"}
    await asyncio.gather(*(donate(running, members[c], c, a) for c, a in gifts.items()))
    await donate(running, members["s0007"], "s0007", "20.00")
    event = await overlay.wait_for("team", lambda e: e["team"]["raised"] == "112.50", timeout=120)
    assert event["team"]["count"] == 5
    assert [(r["channel"], r["raised"]) for r in event["team"]["leaderboard"][:4]] == [
        ("s0007", "50.00"), ("s0999", "45.00"), ("s0500", "12.50"), ("s0123", "5.00")]
    status, public = await running.request("GET", "/api/v1/teams/cause", headers={})
    assert status == 200 and public["raised"] == "112.50" and len(public["members"]) == MEMBERS
    assert public["leaderboard"][0] == {**public["leaderboard"][0], "channel": "s0007", "name": "Streamer 7"}
    assert len(public["leaderboard"]) == 10

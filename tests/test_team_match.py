"""A team's match (API.md §8): one sponsor and one cap shared by every member channel, exact
under concurrency on both backends and across two servers on one Redis; refunds give the
matched part back to the team's cap; members' overlays show the team's match."""
from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from overlay.app import create_app
from overlay.config import parse_config
from overlay.store.embedded import EmbeddedStore
from tests.admin_support import ADMIN, config_data
from tests.admin_support import admin_server  # noqa: F401 - a fixture
from tests.conftest import Running
from tests.support import MOD_TOKEN, OVERLAY_KEY, Listener, channel_dict

TEAMS = "/api/v1/admin/teams"
MEMBERS = [f"m{i:03d}" for i in range(100)]
MATCH = {"sponsor": "TikTok", "multiplier": "2", "cap": "1000.00"}
CAUSE = {"id": "cause", "name": "The cause", "goal": "100000.00", "channels": MEMBERS, "match": MATCH}
GIFTS = 200
GIFT = "7.00"  # 200 gifts of 7 € ask 1,400 € of a 1,000 € cap: 142 full grants, one of 6 €, the rest none


def member_config(data_dir: Path, redis_url: str | None) -> dict[str, Any]:
    data = config_data(data_dir, redis_url)
    data["channels"] += [channel_dict(id=m, name=f"Member {m}", match=None) for m in MEMBERS]
    return data


ADMIN_CONFIG = member_config


async def donate_everywhere(runnings: list[Running]) -> list[dict[str, Any]]:
    """GIFTS donations at once, spread over every member and every server."""
    async def one(i: int) -> dict[str, Any]:
        running = runnings[i % len(runnings)]
        status, body = await running.post(f"/api/v1/channels/{MEMBERS[i % len(MEMBERS)]}/donations",
                                          {"amount": GIFT})
        assert status == 201, body
        return body
    return await asyncio.gather(*(one(i) for i in range(GIFTS)))


def total(donations: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(d["matched"]) for d in donations), Decimal(0))


async def team(running: Running) -> dict[str, Any]:
    status, body = await running.request("GET", "/api/v1/teams/cause", headers={})
    assert status == 200, body
    return body


async def assert_cap_used_exactly(runnings: list[Running]) -> list[dict[str, Any]]:
    donations = await donate_everywhere(runnings)
    assert total(donations) == Decimal("1000.00")
    assert sorted({d["matched"] for d in donations}) == ["0.00", "6.00", "7.00"]
    for running in runnings:
        public = await team(running)
        assert public["match"]["used"] == "1000.00" and public["match"]["remaining"] == "0.00"
        assert public["match"]["active"] is False and public["matched"] == "1000.00"
        assert public["raised"] == f"{GIFTS * 7}.00"
    return donations


async def test_the_team_cap_is_used_exactly_and_refunds_give_it_back(admin_server: Running) -> None:
    running = admin_server
    status, made = await running.request("POST", TEAMS, json=CAUSE, headers=ADMIN)
    assert status == 201, made
    assert made["match"] == {**made["match"], "cap": "1000.00", "used": "0.00", "sponsor": "TikTok"}
    overlay = await Listener().connect(running.url, "/overlay", channel="m042", key=OVERLAY_KEY)
    running.listeners.append(overlay)
    state = await overlay.wait_for("state")
    assert state["match"]["team"] == "cause" and state["match"]["remaining"] == "1000.00"
    assert state["teams"][0]["match"]["cap"] == "1000.00"

    donations = await assert_cap_used_exactly([running])
    event = await overlay.wait_for("team", lambda e: e["team"]["match"]["used"] == "1000.00", timeout=60)
    assert event["team"]["match"]["display"]["remaining"]
    assert (await running.request("GET", f"{TEAMS}/cause", headers=ADMIN))[1]["match"]["used"] == "1000.00"

    matched = next(d for d in donations if d["matched"] == "7.00")
    status, refunded = await running.post(f"/api/v1/channels/{matched['channel']}/donations/{matched['id']}/refund", {})
    assert status == 200 and refunded["status"] == "refunded"
    public = await team(running)
    assert public["match"]["used"] == "993.00" and public["matched"] == "993.00"
    status, again = await running.post(f"/api/v1/channels/m007/donations", {"amount": "10.00"})
    assert status == 201 and again["matched"] == "7.00"  # what the refund gave back, no more
    assert (await team(running))["match"]["used"] == "1000.00"
    status, test = await running.post("/api/v1/channels/m007/donations",
                                      {"amount": "10.00", "test": True, "simulate_match": True})
    assert status == 201 and test["matched"] == "0.00"  # the cap is used up; a test never takes from it


async def test_a_test_donation_shows_the_team_match_without_taking_from_the_cap(admin_server: Running) -> None:
    running = admin_server
    assert (await running.request("POST", TEAMS, json=CAUSE, headers=ADMIN))[0] == 201
    status, test = await running.post("/api/v1/channels/m001/donations",
                                      {"amount": "10.00", "test": True, "simulate_match": True})
    assert status == 201 and test["matched"] == "10.00"
    assert (await team(running))["match"]["used"] == "0.00"
    status, changed = await running.request("PATCH", f"{TEAMS}/cause", json={"match": None}, headers=ADMIN)
    assert status == 200 and changed["match"] is None
    status, plain = await running.post("/api/v1/channels/m001/donations", {"amount": "10.00"})
    assert status == 201 and plain["matched"] == "0.00"
    assert (await team(running))["match"]["active"] is False


@pytest.mark.parametrize("match, field", [
    ({**MATCH, "cap": "-5"}, "match.cap"),
    ({**MATCH, "multiplier": "0.5"}, "match.multiplier"),
    ({**MATCH, "multiplier": "two"}, "match.multiplier"),
    ({**MATCH, "cap": "1.001"}, "match.cap"),
    ({"multiplier": "2", "cap": "10.00"}, "match.sponsor"),
])
async def test_a_bad_team_match_is_refused_naming_the_field(admin_server: Running, match: dict[str, Any],
                                                            field: str) -> None:
    status, answer = await admin_server.request("POST", TEAMS, json={**CAUSE, "match": match}, headers=ADMIN)
    assert status == 422 and answer["error"]["code"] == "invalid_match", answer
    assert field in answer["error"]["message"], answer
    assert (await admin_server.request("GET", TEAMS, headers=ADMIN))[1]["teams"] == []  # nothing stored


async def test_two_servers_on_one_redis_share_the_team_cap(aiohttp_server: Any, tmp_path: Path,
                                                           redis_url: str) -> None:
    data = member_config(tmp_path / "data", redis_url)
    data["teams"] = [CAUSE]
    runnings = []
    try:
        for _ in range(2):
            config = parse_config(data, env={})
            server = await aiohttp_server(create_app(config), host="127.0.0.1")
            runnings.append(Running(str(server.make_url("")).rstrip("/"), config, aiohttp.ClientSession(), []))
        await assert_cap_used_exactly(runnings)
    finally:
        for running in runnings:
            await running.http.close()


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'team_match%'")]
        return {n: sorted(db.execute(f"SELECT * FROM {n}")) for n in names if "autoindex" not in n}


async def test_the_embedded_cap_is_a_used_row_moved_with_each_grant(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    await store.open([])
    try:
        assert _tables(store.path) == {"team_match_grants": [], "team_match_used": []}  # made when it opens
        assert await store.claim_team_match("cause", "d1", 600, 1000) == (600, 600)
        assert await store.claim_team_match("cause", "d2", 600, 1000) == (400, 1000)
        assert await store.claim_team_match("cause", "d2", 600, 1000) == (400, 1000)  # once per donation
        assert _tables(store.path)["team_match_used"] == [("cause", 1000)]
        assert await store.release_team_match("cause", "d1") == (600, 400)
        assert await store.release_team_match("cause", "d1") == (0, 400)
        assert _tables(store.path)["team_match_used"] == [("cause", 400)]
        await store.clear_team_match("cause")
        assert _tables(store.path) == {"team_match_grants": [], "team_match_used": []}
        assert await store.team_match_used("cause") == 0
    finally:
        await store.close()


async def test_an_embedded_database_with_grants_but_no_used_row_sums_them_once(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    with sqlite3.connect(tmp_path / "overlay.sqlite3") as db:  # as written before the used row existed
        db.execute("CREATE TABLE team_match_grants (team TEXT NOT NULL, donation TEXT NOT NULL, "
                   "minor INTEGER NOT NULL, PRIMARY KEY (team, donation))")
        db.executemany("INSERT INTO team_match_grants VALUES (?, ?, ?)",
                       [("cause", "old1", 300), ("cause", "old2", 500), ("other", "old3", 70)])
    store = EmbeddedStore(tmp_path)
    await store.open([])
    try:
        assert await store.team_match_used("cause") == 800
        assert await store.claim_team_match("cause", "new", 500, 1000) == (200, 1000)
        assert await store.release_team_match("cause", "old1") == (300, 700)
        assert await store.claim_team_match("other", "new", 10, 1000) == (10, 80)
        assert _tables(store.path)["team_match_used"] == [("cause", 700), ("other", 80)]
    finally:
        await store.close()


async def _snapshot(running: Running, namespace: str, channel: str) -> dict[str, Any]:
    auth = {"key": OVERLAY_KEY} if namespace == "/overlay" else {"token": MOD_TOKEN}
    listener = await Listener().connect(running.url, namespace, channel=channel, **auth)
    running.listeners.append(listener)
    return await listener.wait_for("state")


async def test_moderators_see_the_channels_own_match_beside_the_team_match(admin_server: Running) -> None:
    running = admin_server
    assert (await running.request("POST", TEAMS, json=CAUSE, headers=ADMIN))[0] == 201
    later = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    status, own = await running.request("PUT", "/api/v1/channels/m001/match",
                                        json={"sponsor": "Acme", "multiplier": "1.5", "cap": "5.00", "starts_at": later})
    assert status == 200 and own["active"] is False, own
    shown = await _snapshot(running, "/overlay", "m001")
    assert shown["match"]["team"] == "cause" and shown["match"]["sponsor"] == "TikTok"  # overlays: the team's
    assert "team_match" not in shown
    mod = await _snapshot(running, "/dashboard", "m001")
    assert mod["match"] == {**mod["match"], "sponsor": "Acme", "cap": "5.00", "active": False}  # scheduled
    assert "team" not in mod["match"]
    assert mod["team_match"] == {**mod["team_match"], "team": "cause", "sponsor": "TikTok", "remaining": "1000.00"}

    status, own = await running.request("PUT", "/api/v1/channels/m001/match",
                                        json={"sponsor": "Acme", "multiplier": "1.5", "cap": "5.00"})
    assert status == 200 and own["active"] is True, own
    assert (await running.post("/api/v1/channels/m001/donations", {"amount": "20.00"}))[1]["matched"] == "25.00"
    mod = await _snapshot(running, "/dashboard", "m001")  # used up: still the moderators' to see and change
    assert mod["match"] == {**mod["match"], "sponsor": "Acme", "remaining": "0.00", "active": False}
    assert mod["team_match"]["remaining"] == "980.00"
    assert (await _snapshot(running, "/overlay", "m001"))["match"]["team"] == "cause"
    assert (await _snapshot(running, "/dashboard", "demo"))["team_match"] is None  # in no team

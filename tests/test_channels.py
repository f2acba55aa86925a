"""Channels as data (docs/channels.md): the admin API against a real server, on both backends,
and across processes and servers sharing one Redis."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
import socketio
import yaml

from tests.webhook_signing import KOFI_HEADERS, kofi_form
from tests.admin_support import ADMIN, ADMIN_TOKEN, CHANNELS, NEW, admin_server, config_data  # noqa: F401 - a fixture
from tests.conftest import Running
from overlay.config import parse_config
from tests.support import Listener, ServerProcess, channel_dict, free_port, until

KOFI_TOKEN = "8c1f3a52-6d0e-4b7a-9f21-3e5d7c9b1a04"  # the fixture's
FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"


async def create(server: Running, **over: Any) -> dict[str, Any]:
    status, body = await server.post(CHANNELS, {**NEW, **over}, headers=ADMIN)
    assert status == 201, body
    return body


def mod(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def donate(server: Running, token: str, amount: str = "12.50") -> tuple[int, Any]:
    return await server.post(f"/api/v1/channels/{NEW['id']}/donations", {"amount": amount, "donor_name": "Ana"},
                             headers=mod(token))


async def test_a_created_channel_works_at_once(admin_server: Running) -> None:
    made = await create(admin_server)
    assert made["channel"]["id"] == NEW["id"] and made["channel"]["source"] == "api"
    assert "moderator_tokens" not in str(made["channel"]).replace("'moderator_tokens': 1", "")
    overlay = Listener()
    admin_server.listeners.append(overlay)
    await overlay.connect(admin_server.url, "/overlay", channel=NEW["id"], key=made["overlay_key"])
    await overlay.wait_for("state")
    status, body = await donate(admin_server, made["moderator_token"])
    assert status == 201, body
    seen = await overlay.wait_for("donation")
    assert seen["donation"]["amount"] == "12.50"
    async with admin_server.http.post(f"{admin_server.url}/dashboard/{NEW['id']}/login",
                                      data={"token": made["moderator_token"]},
                                      headers={"Origin": admin_server.url}, allow_redirects=False) as r:
        assert r.status == 303 and f"overlay_session_{NEW['id']}=" in r.headers["Set-Cookie"]
    status, listed = await admin_server.request("GET", CHANNELS + "?q=ER 42", headers=ADMIN)
    assert status == 200 and [c["id"] for c in listed["channels"]] == [NEW["id"]]
    status, listed = await admin_server.request("GET", CHANNELS + "?limit=1", headers=ADMIN)
    assert [c["id"] for c in listed["channels"]] == [NEW["id"]] and listed["next_cursor"] == NEW["id"]
    status, rest = await admin_server.request("GET", f"{CHANNELS}?limit=1&cursor={NEW['id']}", headers=ADMIN)
    assert [c["id"] for c in rest["channels"]] == ["demo"] and rest["next_cursor"] is None


async def test_disable_enable_and_rotate(admin_server: Running) -> None:
    made = await create(admin_server)
    key, token, path = made["overlay_key"], made["moderator_token"], f"{CHANNELS}/{NEW['id']}"
    assert (await donate(admin_server, token))[0] == 201
    overlay = await admin_server.listen("/overlay", channel=NEW["id"], key=key)
    dashboard = await admin_server.listen("/dashboard", channel=NEW["id"], token=token)
    await overlay.wait_for("state")
    await dashboard.wait_for("state")
    status, body = await admin_server.post(path + "/disable", headers=ADMIN)
    assert status == 200 and body["disabled"] is True
    await until(lambda: overlay.client.connected or dashboard.client.connected, lambda up: not up,
                what="the disabled channel's clients disconnected")
    assert (await donate(admin_server, token))[0] == 404
    status, body = await admin_server.request("DELETE", path, headers=ADMIN)  # it has donations: disabled, kept
    assert status == 200 and body["disabled"] is True
    with pytest.raises(socketio.exceptions.ConnectionError):  # an overlay reconnecting is refused
        await Listener().connect(admin_server.url, "/overlay", channel=NEW["id"], key=key)
    async with admin_server.http.get(f"{admin_server.url}/overlay/{NEW['id']}/alerts?key={key}") as r:
        assert r.status == 404
    assert (await admin_server.request("GET", path, headers=ADMIN))[1]["disabled"] is True
    status, body = await admin_server.post(path + "/enable", headers=ADMIN)
    assert status == 200 and body["disabled"] is False
    status, state = await admin_server.request("GET", f"/api/v1/channels/{NEW['id']}/state", headers=mod(token))
    assert status == 200 and state["campaign"]["raised"] == "12.50"  # the data stayed

    again = await admin_server.listen("/overlay", channel=NEW["id"], key=key)
    await again.wait_for("state")
    async with admin_server.http.post(f"{admin_server.url}/dashboard/{NEW['id']}/login", data={"token": token},
                                      headers={"Origin": admin_server.url}, allow_redirects=False) as r:
        session = {"Cookie": r.headers["Set-Cookie"].split(";", 1)[0]}
    state_path = f"/api/v1/channels/{NEW['id']}/state"
    assert (await admin_server.request("GET", state_path, headers=session))[0] == 200
    status, rotated = await admin_server.post(path + "/rotate", {"overlay_key": True, "moderator_token": True},
                                              headers=ADMIN)
    assert status == 200 and rotated["overlay_key"] != key and rotated["moderator_token"] != token
    await until(lambda: again.client.connected, lambda up: not up, what="the old key's overlay disconnected")
    assert (await donate(admin_server, token))[0] == 401
    assert (await admin_server.request("GET", state_path, headers=session))[0] == 401  # its session ended too
    assert (await donate(admin_server, rotated["moderator_token"], "1.50"))[0] == 201
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Listener().connect(admin_server.url, "/overlay", channel=NEW["id"], key=key)
    fresh = await admin_server.listen("/overlay", channel=NEW["id"], key=rotated["overlay_key"])
    assert (await fresh.wait_for("state"))["campaign"]["raised"] == "14.00"


async def test_patch_changes_settings_and_keeps_webhook_secrets_hidden(admin_server: Running) -> None:
    made = await create(admin_server)
    path = f"{CHANNELS}/{NEW['id']}"
    status, body = await admin_server.request("PATCH", path, headers=ADMIN, json={
        "name": "Renamed", "webhooks": {"kofi": {"verification_token": KOFI_TOKEN}}})
    assert status == 200, body
    assert body["name"] == "Renamed" and body["webhooks"] == ["kofi"] and KOFI_TOKEN not in str(body)
    assert body["version"] == 2
    payload = json.loads((FIXTURES / "kofi_donation.json").read_text(encoding="utf-8"))
    status, answer = await admin_server.post(f"/webhooks/{NEW['id']}/kofi", data=kofi_form(payload),
                                             headers=KOFI_HEADERS)
    assert status in (200, 201), answer
    status, state = await admin_server.request("GET", f"/api/v1/channels/{NEW['id']}/state",
                                               headers=mod(made["moderator_token"]))
    assert status == 200 and state["campaign"]["count"] == 1
    status, body = await admin_server.request("PATCH", path, headers=ADMIN, json={"currency": "XXY"})
    assert status == 422 and body["error"]["code"] == "invalid_currency"
    status, body = await admin_server.request("PATCH", path, headers=ADMIN, json={"currency": "USD"})
    assert (status, body["error"]["code"]) == (409, "currency_locked")  # it has a donation in EUR
    status, body = await admin_server.request("PATCH", path, headers=ADMIN, json={"campaign": {"goal": "12.345"}})
    assert (status, body["error"]["code"]) == (422, "invalid_campaign")
    status, body = await admin_server.request("PATCH", path, headers=ADMIN, json={"live": {"stream_key": "x" * 20}})
    assert (status, body["error"]["code"]) == (422, "unknown_field")


async def test_bad_admin_input_is_refused_by_name(admin_server: Running) -> None:
    await create(admin_server)
    cases = [({**NEW}, 409, "channel_exists"), ({**NEW, "id": "demo"}, 409, "channel_exists"),
             ({**NEW, "id": "Bad Id"}, 422, "invalid_id"), ({**NEW, "id": "x1", "currency": "EURO"}, 422,
                                                            "invalid_currency"),
             ({**NEW, "id": "x2", "currency": "JPY", "campaign": {"goal": "10.5"}}, 422, "invalid_campaign"),
             ({**NEW, "id": "x3", "overlay_key": "chosen-by-me"}, 422, "invalid_overlay_key"),
             ({**NEW, "id": "x4", "unknown": 1}, 422, "unknown_field")]
    for body, status, code in cases:
        got, answer = await admin_server.post(CHANNELS, body, headers=ADMIN)
        assert (got, answer["error"]["code"]) == (status, code), body
    status, body = await admin_server.post(CHANNELS, {**NEW, "id": "empty"}, headers=ADMIN)
    assert status == 201
    assert (await admin_server.request("DELETE", f"{CHANNELS}/empty", headers=ADMIN))[0] == 204
    assert (await admin_server.request("GET", f"{CHANNELS}/empty", headers=ADMIN))[0] == 404
    assert (await admin_server.request("DELETE", f"{CHANNELS}/demo", headers=ADMIN))[0] == 409
    status, body = await admin_server.post(f"{CHANNELS}/demo/disable", headers=ADMIN)
    assert (status, body["error"]["code"]) == (409, "channel_in_config")
    status, body = await admin_server.post(f"{CHANNELS}/nobody/disable", headers=ADMIN)
    assert (status, body["error"]["code"]) == (404, "channel_not_found")
    statuses = []
    for _ in range(12):
        statuses.append((await admin_server.request("GET", CHANNELS, headers=mod("wrong-admin-token-xxxx")))[0])
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    assert (await admin_server.request("GET", CHANNELS, headers=ADMIN))[0] == 429  # the address, not the token


async def test_the_store_never_holds_a_moderator_token_in_clear(admin_server: Running, backend: str,
                                                                 request: pytest.FixtureRequest,
                                                                 tmp_path: Path) -> None:
    made = await create(admin_server)
    if backend == "redis":
        r = aioredis.Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
        raw = await r.hget("overlay:registry", NEW["id"])
        await r.aclose()
    else:
        import sqlite3
        db = sqlite3.connect(tmp_path / "data" / "overlay.sqlite3")
        raw = db.execute("SELECT record FROM channels WHERE id = ?", (NEW["id"],)).fetchone()[0]
        db.close()
    assert raw and made["moderator_token"] not in raw and "sha256$" in raw
    assert made["overlay_key"] in raw  # shown again in OBS URLs: kept in clear


def write_config(tmp_path: Path, redis_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config_data(tmp_path / "data", redis_url)))
    return path


async def answers_everywhere(url: str, token: str, tries: int) -> bool:
    """``tries`` fresh connections (each may reach another worker) all see the channel."""
    for _ in range(tries):
        async with aiohttp.ClientSession() as http, \
                http.get(f"{url}/api/v1/channels/{NEW['id']}/state", headers=mod(token)) as r:
            if r.status != 200:
                return False
    return True


async def campaign_titles(url: str, token: str, tries: int = 8) -> set[str]:
    """The titles ``tries`` fresh connections (each may reach another worker) see."""
    titles = set()
    for _ in range(tries):
        async with aiohttp.ClientSession() as http, \
                http.get(f"{url}/api/v1/channels/{NEW['id']}/state", headers=mod(token)) as r:
            titles.add((await r.json())["campaign"]["title"])
    return titles


@pytest.mark.timeout(240)
async def test_a_change_reaches_every_process_and_server_within_a_second(tmp_path: Path, redis_url: str) -> None:
    cfg = write_config(tmp_path, redis_url)
    workers = await ServerProcess(cfg, free_port(), "--workers", "2").start()
    other = await ServerProcess(cfg, free_port()).start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(other.url + CHANNELS, json=NEW, headers=ADMIN) as r:
                assert r.status == 201
                made = await r.json()
                created = time.monotonic()
            await until(lambda: answers_everywhere(workers.url, made["moderator_token"], 8),
                        what="the new channel on both workers")
            assert time.monotonic() - created < 1.0
            old = await Listener().connect(workers.url, "/overlay", channel=NEW["id"], key=made["overlay_key"])
            await old.wait_for("state")
            async with http.post(other.url + f"{CHANNELS}/{NEW['id']}/rotate", json={"overlay_key": True},
                                 headers=ADMIN) as r:
                key = (await r.json())["overlay_key"]
                rotated = time.monotonic()
            await until(lambda: old.client.connected, lambda up: not up, what="the old key's overlay disconnected")
            async with http.patch(other.url + f"{CHANNELS}/{NEW['id']}", json={"campaign": {"title": "Renamed"}},
                                  headers=ADMIN) as r:
                assert r.status == 200
            await until(lambda: campaign_titles(workers.url, made["moderator_token"]), lambda t: t == {"Renamed"},
                        what="the new title on the workers")
            assert time.monotonic() - rotated < 2.0  # two changes, each within a second
            overlay = await Listener().connect(workers.url, "/overlay", channel=NEW["id"], key=key)
            await overlay.wait_for("state")
            async with http.post(other.url + f"{CHANNELS}/{NEW['id']}/disable", headers=ADMIN) as r:
                assert r.status == 200
                disabled = time.monotonic()
            await until(lambda: overlay.client.connected, lambda up: not up, what="the overlay disconnected")
            await until(lambda: answers_everywhere(workers.url, made["moderator_token"], 1), lambda ok: not ok,
                        what="the channel gone on the workers")
            assert time.monotonic() - disabled < 1.0
    finally:
        workers.stop()
        other.stop()


async def join(server: Running, url: str, **form: str) -> tuple[int, str]:
    async with server.http.post(url, data=form, headers={"Origin": server.url}) as r:
        return r.status, await r.text()


async def test_an_invite_creates_one_channel_then_is_gone(admin_server: Running) -> None:
    status, invite = await admin_server.post("/api/v1/admin/invites", {
        "defaults": {"currency": "EUR", "campaign": {"title": "Campaign 2027"}},
        "expires_at": "2099-01-01T00:00:00Z", "uses": 1}, headers=ADMIN)
    assert status == 201, invite
    url = admin_server.url + invite["url"].split(":8080", 1)[1]
    async with admin_server.http.get(url) as r:
        assert r.status == 200 and 'name="goal"' in await r.text()
    assert (await join(admin_server, url, name="Demo", id="demo", currency="EUR", goal="100"))[0] == 409  # taken
    status, page = await join(admin_server, url, name="Léa Plays", id="", currency="EUR", goal="300")
    assert status == 201 and "lea-plays" in page
    token = page.split('id="moderator-token">', 1)[1].split("<", 1)[0]
    status, state = await admin_server.request("GET", "/api/v1/channels/lea-plays/state", headers=mod(token))
    assert status == 200 and state["campaign"]["title"] == "Campaign 2027" and state["campaign"]["goal"] == "300.00"
    assert (await join(admin_server, url, name="Second", id="second", currency="EUR", goal="1"))[0] == 410
    async with admin_server.http.get(url) as r:
        assert r.status == 410


async def test_an_expired_or_unknown_invite_creates_nothing(admin_server: Running) -> None:
    status, invite = await admin_server.post("/api/v1/admin/invites", {"expires_at": "2001-01-01T00:00:00Z"},
                                             headers=ADMIN)
    assert status == 201
    url = admin_server.url + invite["url"].split(":8080", 1)[1]
    assert (await join(admin_server, url, name="Late", id="late", currency="EUR", goal="10"))[0] == 410
    async with admin_server.http.get(admin_server.url + "/join/no-such-invite") as r:
        assert r.status == 404
    assert (await admin_server.request("GET", f"{CHANNELS}/late", headers=ADMIN))[0] == 404
    status, body = await admin_server.post("/api/v1/admin/invites", {"expires_at": "2099-01-01T00:00:00Z",
                                                                     "defaults": {"currency": "EURO"}}, headers=ADMIN)
    assert (status, body["error"]["code"]) == (422, "invalid_defaults")


def test_start_up_lists_many_channels_one_line_each_and_names_the_admin_page(tmp_path: Path) -> None:
    from overlay.cli import urls
    data = config_data(tmp_path, None)
    data["channels"] = [channel_dict(id=f"c{i}", overlay_key=f"key-of-c{i}") for i in range(11)]
    lines = urls(parse_config(data, env={}))
    assert lines[0] == "Channel c0 (Demo streamer): http://127.0.0.1:8080/dashboard/c0" and len(lines) == 12
    assert not any("key-of-c" in line for line in lines)
    assert lines[-1] == "Admin page (every channel, the admin API's included; invites): http://127.0.0.1:8080/admin"

"""The channel's alert timing changed at run time (docs/editor.md, docs/api.md): the API, its
order with donations, the moderators' event, and persistence, on both stores."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from overlay.web.auth import csrf_token
from tests.support import OVERLAY_KEY, until
from tests.test_sessions import log_in

TIMING = "/api/v1/channels/demo/alerts/timing"
ALERTS = {"min_amount": "1.00", "duration_ms": 1000, "gap_ms": 100,
          "tiers": [{"min_amount": "50.00", "duration_ms": 3000}, {"min_amount": "100"}]}
CONFIG = {"duration_ms": 1000, "gap_ms": 100, "tiers": [{"min_amount": "50.00", "duration_ms": 3000},
                                                        {"min_amount": "100.00", "duration_ms": None}]}
UNCHANGED = {"duration_ms": None, "gap_ms": None, "tiers": [{"min_amount": "50.00", "duration_ms": None},
                                                            {"min_amount": "100.00", "duration_ms": None}]}


def ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


async def test_read_change_and_reset(make_server: Any, backend: str) -> None:
    server = await make_server(backend, alerts=ALERTS)
    dashboard = await server.listen("/dashboard")
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    status, got = await server.request("GET", TIMING)
    assert status == 200 and got == {**UNCHANGED, "effective": {**CONFIG, "tiers": [
        {"min_amount": "50.00", "duration_ms": 3000}, {"min_amount": "100.00", "duration_ms": 1000}]}, "config": CONFIG}

    body = {"duration_ms": 4000, "gap_ms": 0, "tiers": [{"min_amount": "50", "duration_ms": 5000}]}
    status, got = await server.request("PUT", TIMING, json=body)
    assert status == 200, got
    assert (got["duration_ms"], got["gap_ms"]) == (4000, 0)
    assert got["tiers"] == [{"min_amount": "50.00", "duration_ms": 5000}, {"min_amount": "100.00", "duration_ms": None}]
    # The 100 tier has no duration of its own: it follows the alert duration, changed.
    assert got["effective"] == {"duration_ms": 4000, "gap_ms": 0, "tiers": [
        {"min_amount": "50.00", "duration_ms": 5000}, {"min_amount": "100.00", "duration_ms": 4000}]}
    assert got["config"] == CONFIG
    ev = await dashboard.wait_for("alert_timing")
    assert isinstance(ev["seq"], int) and ev["alert_timing"] == got
    assert (await server.request("GET", TIMING))[1] == got
    state = (await server.request("GET", "/api/v1/channels/demo/state"))[1]
    assert state["alert_timing"] == got  # a dashboard that loads now shows it too

    # Moderators only: overlays never get it (checked after a later event they must get).
    await server.donate(amount="2.00")
    await overlay.wait_for("donation")
    assert overlay.of("alert_timing") == []

    status, got = await server.request("DELETE", TIMING)
    assert status == 200 and {k: got[k] for k in UNCHANGED} == UNCHANGED and got["effective"]["duration_ms"] == 1000
    assert (await dashboard.wait_for("alert_timing", lambda d: d["alert_timing"]["duration_ms"] is None))
    # A partial change: what is left out takes config.yaml's value.
    status, got = await server.request("PUT", TIMING, json={"gap_ms": 2500})
    assert status == 200 and got["effective"]["duration_ms"] == 1000 and got["effective"]["gap_ms"] == 2500
    status, got = await server.request("PUT", TIMING, json={})
    assert status == 200 and {k: got[k] for k in UNCHANGED} == UNCHANGED


async def test_alerts_queued_after_the_change_get_its_durations(make_server: Any, backend: str) -> None:
    server = await make_server(backend, alerts=ALERTS, match=None)
    dashboard = await server.listen("/dashboard")
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    assert (await server.post("/api/v1/channels/demo/alerts/pause"))[0] == 200
    before = await server.donate(amount="5.00", donor_name="Before")
    body = {"duration_ms": 1500, "gap_ms": 400, "tiers": [{"min_amount": "50.00", "duration_ms": 2000}]}
    assert (await server.request("PUT", TIMING, json=body))[0] == 200
    after = await server.donate(amount="5.00", donor_name="After")
    tier = await server.donate(amount="60.00", donor_name="Tier")
    queued = await dashboard.wait_for("queue", lambda d: len(d["alerts"].get("next", [])) == 3)
    # Waiting alerts keep the duration they were queued with; the later ones get the new one.
    assert [(i["donation"]["id"], i["duration_ms"]) for i in queued["alerts"]["next"]] == [
        (before["id"], 1000), (after["id"], 1500), (tier["id"], 2000)]

    assert (await server.post("/api/v1/channels/demo/alerts/resume"))[0] == 200
    plays = []
    for donation in (before, after, tier):
        plays.append(await overlay.wait_for("alert", lambda d, i=donation["id"]: d.get("action") == "play"
                                            and d["donation"]["id"] == i))
    assert [p["duration_ms"] for p in plays] == [1000, 1500, 2000]
    assert plays[2]["tier"]["min_amount"] == "50.00" and plays[2]["tier"]["duration_ms"] == 2000
    # The new gap holds between alerts started after the change.
    for first, second in zip(plays, plays[1:]):
        assert ms(second["starts_at"]) - ms(first["starts_at"]) >= first["duration_ms"] + 400
    # What the dashboard shows as playing ends when the alert does.
    playing = (await dashboard.wait_for("queue", lambda d: (d["alerts"]["playing"] or {}).get(
        "donation", {}).get("id") == tier["id"]))["alerts"]["playing"]
    assert ms(playing["ends_at"]) - ms(playing["starts_at"]) == 2000


async def test_bad_timings_are_refused_and_nothing_changes(make_server: Any, backend: str) -> None:
    server = await make_server(backend, alerts=ALERTS)
    cases = [
        ({"duration_ms": 999}, "invalid_duration_ms"),
        ({"duration_ms": 120_001}, "invalid_duration_ms"),
        ({"duration_ms": "8000"}, "invalid_duration_ms"),
        ({"duration_ms": True}, "invalid_duration_ms"),
        ({"duration_ms": 1500.5}, "invalid_duration_ms"),
        ({"gap_ms": -1}, "invalid_gap_ms"),
        ({"gap_ms": 60_001}, "invalid_gap_ms"),
        ({"min_amount": "2.00"}, "unknown_field"),
        ({"tiers": [{"min_amount": "75.00", "duration_ms": 2000}]}, "unknown_tier"),
        ({"tiers": [{"min_amount": "0.001", "duration_ms": 2000}]}, "invalid_tiers"),
        ({"tiers": [{"min_amount": "abc"}]}, "invalid_tiers"),
        ({"tiers": [{"min_amount": 50, "duration_ms": 2000}]}, "invalid_tiers"),
        ({"tiers": [{"min_amount": "50.00", "duration_ms": 500}]}, "invalid_tiers"),
        ({"tiers": [{"min_amount": "50.00", "sound": "x.mp3"}]}, "invalid_tiers"),
        ({"tiers": [{"min_amount": "50.00", "duration_ms": 2000}, {"min_amount": "50", "duration_ms": 2500}]},
         "invalid_tiers"),
        ({"tiers": {"50.00": 2000}}, "invalid_tiers"),
    ]
    for body, code in cases:
        status, got = await server.request("PUT", TIMING, json=body)
        assert (status, got["error"]["code"]) == (422, code), (body, got)
    status, got = await server.request("PUT", TIMING, json=[1])
    assert (status, got["error"]["code"]) == (400, "invalid_json")  # not an object
    status, got = await server.request("PUT", TIMING, data=b"{", headers={
        "Authorization": "Bearer test-moderator-token", "Content-Type": "application/json"})
    assert (status, got["error"]["code"]) == (400, "invalid_json")
    assert (await server.request("PUT", "/api/v1/channels/nope/alerts/timing", json={}))[0] == 404
    got = (await server.request("GET", TIMING))[1]
    assert {k: got[k] for k in UNCHANGED} == UNCHANGED


async def test_moderators_only_and_the_session_needs_its_csrf_token(make_server: Any, backend: str) -> None:
    server = await make_server(backend, alerts=ALERTS)
    for method in ("GET", "PUT", "DELETE"):
        for headers in ({}, {"Authorization": f"Bearer {OVERLAY_KEY}"}):
            status, got = await server.request(method, TIMING, json={}, headers=headers)
            assert (status, got["error"]["code"]) == (401, "unauthorized"), (method, headers)
        status, _ = await server.request(method, TIMING + f"?key={OVERLAY_KEY}", json={}, headers={})
        assert status == 401
    cookie = await log_in(server.http, server.url)
    session = {"Cookie": f"overlay_session_demo={cookie}"}
    assert (await server.request("GET", TIMING, headers=session))[0] == 200
    for method in ("PUT", "DELETE"):
        status, got = await server.request(method, TIMING, json={"duration_ms": 2000}, headers=session)
        assert (status, got["error"]["code"]) == (403, "csrf_failed")
        bad = {**session, "X-CSRF-Token": "0" * 32}
        assert (await server.request(method, TIMING, json={"duration_ms": 2000}, headers=bad))[0] == 403
    assert (await server.request("GET", TIMING))[1]["duration_ms"] is None  # nothing was changed
    good = {**session, "X-CSRF-Token": csrf_token(cookie)}
    status, got = await server.request("PUT", TIMING, json={"duration_ms": 2000}, headers=good)
    assert status == 200 and got["duration_ms"] == 2000


async def test_the_timing_survives_a_restart(make_server: Any, backend: str, tmp_path: Path) -> None:
    first = await make_server(backend, data_dir=tmp_path / "d", alerts=ALERTS)
    body = {"duration_ms": 2500, "tiers": [{"min_amount": "100.00", "duration_ms": 7000}]}
    assert (await first.request("PUT", TIMING, json=body))[0] == 200
    await first.donate(amount="3.00")  # the state blob is rewritten by later commits: the timing stays in it
    second = await make_server(backend, data_dir=tmp_path / "d", alerts=ALERTS)  # a new process, same data
    status, got = await second.request("GET", TIMING)
    assert status == 200 and got["duration_ms"] == 2500 and got["gap_ms"] is None
    assert got["tiers"][1] == {"min_amount": "100.00", "duration_ms": 7000}
    dashboard = await second.listen("/dashboard")
    await dashboard.wait_for("state")
    assert (await second.post("/api/v1/channels/demo/alerts/pause"))[0] == 200
    new = await second.donate(amount="120.00")
    queued = await dashboard.wait_for("queue", lambda d: any(
        i["donation"]["id"] == new["id"] for i in d["alerts"].get("next", [])))
    assert [i["duration_ms"] for i in queued["alerts"]["next"] if i["donation"]["id"] == new["id"]] == [7000]


async def test_every_process_on_one_redis_follows_the_change(make_server: Any, tmp_path: Path) -> None:
    one = await make_server("redis", data_dir=tmp_path / "a", alerts=ALERTS)
    two = await make_server("redis", data_dir=tmp_path / "b", alerts=ALERTS)
    watcher = await two.listen("/dashboard")
    await watcher.wait_for("state")
    assert (await two.request("GET", TIMING))[1]["duration_ms"] is None
    assert (await one.request("PUT", TIMING, json={"duration_ms": 3500}))[0] == 200
    ev = await watcher.wait_for("alert_timing")  # the other process's moderators hear of it
    assert ev["alert_timing"]["duration_ms"] == 3500
    got = await until(lambda: two.request("GET", TIMING), lambda r: r[1]["duration_ms"] == 3500,
                      what="the other process's timing")
    assert got[1]["effective"]["duration_ms"] == 3500
    assert (await two.post("/api/v1/channels/demo/alerts/pause"))[0] == 200
    new = await two.donate(amount="4.00")
    queued = await watcher.wait_for("queue", lambda d: any(
        i["donation"]["id"] == new["id"] for i in d["alerts"].get("next", [])))
    assert [i["duration_ms"] for i in queued["alerts"]["next"] if i["donation"]["id"] == new["id"]] == [3500]

"""The HTTP API and the Socket.IO stream against a real server, on both backends."""
from __future__ import annotations

import asyncio
from typing import Any

from tests.support import OVERLAY_KEY

DONATIONS = "/api/v1/channels/demo/donations"


async def test_healthz_names_backend(server: Any, backend: str) -> None:
    status, body = await server.request("GET", "/healthz")
    assert (status, body) == (200, {"status": "ok", "backend": backend})


async def test_donation_is_matched_counted_and_pushed(server: Any) -> None:
    overlay = await server.listen()
    state = await overlay.wait_for("state")
    assert state["campaign"]["raised"] == "0.00" and state["match"]["active"] is True
    created = await server.donate(amount="12.50", donor_name="Alice", message="Courage !")
    assert created["amount"] == "12.50" and created["matched"] == "12.50" and created["status"] == "approved"
    ev = await overlay.wait_for("donation")
    assert ev["donation"]["id"] == created["id"] and ev["seq"] > state["seq"]
    assert ev["campaign"]["raised"] == "12.50" and ev["campaign"]["total"] == "25.00"
    assert ev["campaign"]["display"]["total"] == "25,00\u00a0€"
    play = await overlay.wait_for("alert", lambda d: d["action"] == "play")
    assert play["donation"]["donor_name"] == "Alice" and play["duration_ms"] == 1000
    match = await overlay.wait_for("match")
    assert match["match"]["used"] == "12.50" and match["match"]["remaining"] == "4987.50"


async def test_json_number_amount_and_fx(server: Any) -> None:
    d = await server.donate(amount=10, currency="USD")
    assert (d["amount"], d["original_amount"], d["original_currency"]) == ("9.20", "10.00", "USD")
    d = await server.donate(amount=2.5)
    assert d["amount"] == "2.50"


async def test_idempotent_external_id(server: Any) -> None:
    first = await server.post(DONATIONS, {"amount": "5", "external_id": "x-1", "source": "generic"})
    again = await server.post(DONATIONS, {"amount": "5", "external_id": "x-1", "source": "generic"})
    assert first[0] == 201 and again[0] == 200 and again[1]["id"] == first[1]["id"]
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["campaign"]["count"] == 1 and state["campaign"]["raised"] == "5.00"


async def test_test_donation_alerts_but_never_counts(server: Any) -> None:
    overlay = await server.listen()
    await overlay.wait_for("state")
    d = await server.donate(amount="20", donor_name="Tester", test=True)
    play = await overlay.wait_for("alert", lambda e: e["action"] == "play")
    assert play["donation"]["id"] == d["id"] and play["donation"]["test"] is True
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["campaign"]["count"] == 0 and state["match"]["used"] == "0.00"
    assert state["leaderboard"] == [] and state["recent"] == []


async def test_bad_input_is_4xx_json_and_stores_nothing(server: Any) -> None:
    bad = [
        {"amount": "0"}, {"amount": "-5"}, {"amount": "NaN"}, {"amount": "1.234"}, {"amount": "1e400"},
        {"amount": "abc"}, {"amount": True}, {"amount": None}, {}, {"amount": "5", "currency": "XYZ"},
        {"amount": "5", "currency": "JPY"}, {"amount": "9" * 40}, {"amount": [1]}, {"amount": {"v": 1}},
        {"amount": "5", "donor_name": 12}, {"amount": "5", "message": "x" * 5000}, {"amount": "5", "test": "yes"},
        {"amount": "5", "source": "Bad Source!"}, {"amount": "5", "extra": 1}, {"amount": "5", "external_id": ""},
    ]
    for body in bad:
        status, err = await server.post(DONATIONS, body)
        assert 400 <= status < 500, (body, status, err)
        assert set(err["error"]) == {"code", "message"}, err
    raw_bodies = [b"{", b"[]", b"null", b"\xff\xfe", b'{"amount": NaN}', b'{"amount": Infinity}']
    for raw in raw_bodies:
        status, err = await server.post(DONATIONS, data=raw, headers={**_auth(), "Content-Type": "application/json"})
        assert status == 400 and "error" in err, (raw, status, err)
    status, err = await server.post(DONATIONS, data=b"x" * 70_000, headers={**_auth(), "Content-Type": "application/json"})
    assert status == 413 and err["error"]["code"] == "body_too_large"
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["campaign"]["count"] == 0


def _auth() -> dict[str, str]:
    from tests.support import AUTH
    return dict(AUTH)


async def test_auth_and_unknown_things(server: Any) -> None:
    assert (await server.post(DONATIONS, {"amount": "5"}, headers={}))[0] == 401
    assert (await server.post(DONATIONS, {"amount": "5"}, headers={"Authorization": f"Bearer {OVERLAY_KEY}"}))[0] == 401
    status, err = await server.post("/api/v1/channels/nope/donations", {"amount": "5"})
    assert status == 404 and err["error"]["code"] == "channel_not_found"
    assert (await server.request("GET", "/api/v1/channels/demo/state", headers={}))[0] == 401
    status, _ = await server.request("GET", f"/api/v1/channels/demo/state?key={OVERLAY_KEY}", headers={})
    assert status == 200
    assert (await server.post("/api/v1/channels/demo/alerts/explode", {}))[0] == 404
    assert (await server.post("/api/v1/channels/demo/donations/d_nope/replay", {}))[0] == 404
    status, err = await server.request("GET", DONATIONS + "?limit=-1")
    assert status == 400 and err["error"]["code"] == "invalid_limit"


async def test_list_donations_order_and_after_seq(server: Any) -> None:
    ids = [(await server.donate(amount=str(i + 1)))["id"] for i in range(3)]
    _, newest_first = await server.request("GET", DONATIONS)
    assert [d["id"] for d in newest_first["donations"]] == ids[::-1]
    first_seq = newest_first["donations"][-1]["seq"]
    _, after = await server.request("GET", f"{DONATIONS}?after_seq={first_seq}&limit=1")
    assert [d["id"] for d in after["donations"]] == ids[1:2]


async def test_match_put_delete_and_campaign_patch(server: Any) -> None:
    overlay = await server.listen()
    await overlay.wait_for("state")
    status, m = await server.request("PUT", "/api/v1/channels/demo/match",
                                     json={"sponsor": "Acme", "multiplier": "3", "cap": "100.00"})
    assert status == 200 and m["multiplier"] == "3" and m["cap"] == "100.00"
    assert (await overlay.wait_for("match", lambda d: d["match"]["sponsor"] == "Acme"))["match"]["active"]
    d = await server.donate(amount="40")
    assert d["matched"] == "80.00"
    d = await server.donate(amount="40")
    assert d["matched"] == "20.00"  # the cap: 100 - 80
    assert (await server.request("PUT", "/api/v1/channels/demo/match", json={"sponsor": "A", "multiplier": "0.5",
                                                                             "cap": "1"}))[0] == 422
    status, m = await server.request("DELETE", "/api/v1/channels/demo/match")
    assert status == 200 and m["active"] is False
    assert (await server.donate(amount="10"))["matched"] == "0.00"
    status, c = await server.request("PATCH", "/api/v1/channels/demo/campaign", json={"title": "Nouveau", "goal": "500"})
    assert status == 200 and c["title"] == "Nouveau" and c["goal"] == "500.00"
    assert (await overlay.wait_for("progress", lambda d: d["campaign"]["title"] == "Nouveau"))
    assert (await server.request("PATCH", "/api/v1/channels/demo/campaign", json={"goal": "-1"}))[0] == 422


async def test_concurrent_donations_never_exceed_cap(server: Any) -> None:
    await server.request("PUT", "/api/v1/channels/demo/match", json={"sponsor": "TikTok", "multiplier": "2", "cap": "1000.00"})
    results = await asyncio.gather(*(server.donate(amount="7.00") for _ in range(200)))
    matched = sum(int(d["matched"].replace(".", "")) for d in results)
    assert matched == 100000  # exactly the cap, in cents
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["match"]["used"] == "1000.00" and state["match"]["active"] is False
    assert state["campaign"]["raised"] == "1400.00" and state["campaign"]["count"] == 200


async def test_moderator_refund_takes_money_and_match_back(server: Any) -> None:
    d = await server.donate(amount="10", donor_name="Cara")
    status, body = await server.post(f"/api/v1/channels/demo/donations/{d['id']}/refund", {})
    assert status == 200 and body["status"] == "refunded"
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["campaign"]["raised"] == "0.00" and state["campaign"]["count"] == 0
    assert state["match"]["used"] == "0.00" and state["leaderboard"] == []
    again = await server.post(f"/api/v1/channels/demo/donations/{d['id']}/refund", {})
    assert again[0] == 200 and again[1]["status"] == "refunded"


async def test_a_test_donation_can_simulate_the_match_without_touching_it(server: Any) -> None:
    overlay = await server.listen()
    state = await overlay.wait_for("state")
    assert state["match"]["used"] == "0.00" and state["match"]["active"] is True
    simulated = await server.donate(amount="10", test=True, simulate_match=True)
    assert simulated["test"] is True and simulated["matched"] == "10.00"
    play = await overlay.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["id"] == simulated["id"])
    assert play["donation"]["matched"] == "10.00" and play["donation"]["display"]["matched"] == "10,00\u00a0€"
    assert (await server.donate(amount="10", test=True))["matched"] == "0.00"
    await server.donate(amount="1")
    # The first match event and the totals are the real gift's alone: the test took nothing.
    assert (await overlay.wait_for("match"))["match"]["used"] == "1.00"
    assert (await overlay.wait_for("donation", lambda e: not e["donation"]["test"]))["campaign"]["raised"] == "1.00"
    status, err = await server.request("POST", "/api/v1/channels/demo/donations",
                                       json={"amount": "5", "simulate_match": True})
    assert status == 422 and err["error"]["code"] == "invalid_simulate_match", err

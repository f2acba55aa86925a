"""Pledges from the donate page are pending until a moderator confirms them (API.md §7), on both backends.

"Nothing reached the overlay" is always checked after a later event that must arrive there
(a donation made afterwards through the API), never after a pause.
"""
from __future__ import annotations

import asyncio
from typing import Any

from tests.pledging import form_token, pledge
from tests.support import OVERLAY_KEY, Listener

WAIT = 15.0  # generous: CI may be several times slower than a developer's machine
BASE = "/api/v1/channels/demo"


async def act(server: Any, donation_id: str, action: str) -> tuple[int, Any]:
    return await server.post(f"{BASE}/donations/{donation_id}/{action}")


async def state(server: Any) -> dict[str, Any]:
    status, body = await server.request("GET", f"{BASE}/state")
    assert status == 200, body
    return body


def ids_seen(listener: Listener, *events: str) -> set[str]:
    return {data["donation"]["id"] for name, data in listener.events if name in events and data.get("donation")}


async def later_donation_arrives(server: Any, overlay: Listener) -> dict[str, Any]:
    """A donation made now through the API: its event is what any earlier event would precede."""
    later = await server.donate(amount="5.00", donor_name="Bob")
    await overlay.wait_for("donation", lambda e: e["donation"]["id"] == later["id"], timeout=WAIT)
    await overlay.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["id"] == later["id"],
                           timeout=WAIT)
    return later


async def test_a_pending_pledge_counts_nowhere(server: Any) -> None:
    overlay, dashboard = await server.listen(), await server.listen("/dashboard")
    await overlay.wait_for("state")
    await dashboard.wait_for("state")
    pledge_id = await pledge(server, "20.00", "Léa", "Allez !")

    seen = await dashboard.wait_for("donation", lambda e: e["donation"]["id"] == pledge_id, timeout=WAIT)
    d = seen["donation"]
    assert (d["status"], d["amount"], d["matched"], d["source"], d["donor_name"], d["message"]) == \
        ("pending", "20.00", "0.00", "pledge", "Léa", "Allez !")
    assert seen["campaign"]["count"] == 0 and seen["campaign"]["total"] == "0.00"

    later = await later_donation_arrives(server, overlay)
    assert pledge_id not in ids_seen(overlay, "donation", "alert")
    assert all("Léa" not in str(data) for _, data in overlay.events)
    snap = await state(server)
    assert (snap["campaign"]["raised"], snap["campaign"]["matched"], snap["campaign"]["count"]) == ("5.00", "5.00", 1)
    assert snap["match"]["used"] == "5.00"
    assert [e["donor_name"] for e in snap["leaderboard"]] == ["Bob"]
    assert [r["id"] for r in snap["recent"]] == [later["id"]]
    assert [r["id"] for r in snap["donations"]] == [later["id"], pledge_id]  # moderators see it

    status, public = await server.request("GET", f"{BASE}/donations?key={OVERLAY_KEY}", headers={})
    assert status == 200 and [r["id"] for r in public["donations"]] == [later["id"]]


async def test_confirm_counts_it_once_with_the_match_and_its_alert(server: Any) -> None:
    overlay = await server.listen()
    await overlay.wait_for("state")
    pledge_id = await pledge(server, "20.00", "Léa")

    status, body = await act(server, pledge_id, "confirm")
    assert status == 200, body
    assert (body["id"], body["status"], body["amount"], body["matched"]) == (pledge_id, "approved", "20.00", "20.00")
    ev = await overlay.wait_for("donation", lambda e: e["donation"]["id"] == pledge_id, timeout=WAIT)
    assert ev["campaign"]["total"] == "40.00" and ev["campaign"]["count"] == 1
    await overlay.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["id"] == pledge_id, timeout=WAIT)

    for again in ("confirm", "approve", "reject"):
        status, body = await act(server, pledge_id, again)
        assert status == 409, (again, body)
    assert body["error"]["code"] == "not_held"
    assert (await act(server, pledge_id, "confirm"))[1]["error"]["code"] == "not_pending"

    await later_donation_arrives(server, overlay)
    assert [e["donation"]["id"] for e in overlay.of("donation")].count(pledge_id) == 1
    assert [e["donation"]["id"] for e in overlay.of("alert") if e.get("donation")].count(pledge_id) == 1
    snap = await state(server)
    assert (snap["campaign"]["raised"], snap["campaign"]["matched"], snap["campaign"]["count"]) == \
        ("25.00", "25.00", 2)
    assert {e["donor_name"]: e["total"] for e in snap["leaderboard"]} == {"Léa": "20.00", "Bob": "5.00"}


async def test_the_match_is_the_one_running_when_it_is_confirmed(server: Any) -> None:
    early, late = await pledge(server, "30.00", "Early"), await pledge(server, "10.00", "Late")
    status, _ = await server.request("DELETE", f"{BASE}/match")
    assert status == 200
    status, body = await act(server, early, "confirm")
    assert status == 200 and body["matched"] == "0.00"
    status, _ = await server.request("PUT", f"{BASE}/match",
                                     json={"sponsor": "TikTok", "multiplier": "3", "cap": "15.00"})
    assert status == 200
    status, body = await act(server, late, "confirm")
    assert status == 200 and body["matched"] == "15.00"  # 10 × (3 − 1), capped at 15
    snap = await state(server)
    assert (snap["campaign"]["total"], snap["match"]["used"]) == ("55.00", "15.00")


async def test_reject_drops_a_pending_pledge(server: Any) -> None:
    overlay, dashboard = await server.listen(), await server.listen("/dashboard")
    await overlay.wait_for("state")
    pledge_id = await pledge(server, "50.00", "Troll", "never shown")
    status, body = await act(server, pledge_id, "reject")
    assert status == 200 and body["status"] == "rejected"
    await dashboard.wait_for("donation", lambda e: e["donation"]["id"] == pledge_id
                             and e["donation"]["status"] == "rejected", timeout=WAIT)
    for action, code in (("confirm", "not_pending"), ("reject", "not_held"), ("approve", "not_held"),
                         ("refund", "not_counted"), ("replay", "not_approved")):
        status, body = await act(server, pledge_id, action)
        assert (status, body["error"]["code"]) == (409, code), action

    await later_donation_arrives(server, overlay)
    assert pledge_id not in ids_seen(overlay, "donation", "alert")
    assert all("never shown" not in str(data) for _, data in overlay.events)
    snap = await state(server)
    assert (snap["campaign"]["raised"], snap["campaign"]["count"], snap["match"]["used"]) == ("5.00", 1, "5.00")


async def test_refund_of_a_pending_pledge_is_refused_and_changes_nothing(server: Any) -> None:
    pledge_id = await pledge(server, "20.00", "Léa")
    status, body = await act(server, pledge_id, "refund")
    assert (status, body["error"]["code"]) == (409, "not_counted")
    status, body = await act(server, pledge_id, "confirm")
    assert status == 200 and body["status"] == "approved"
    status, body = await act(server, pledge_id, "refund")
    assert status == 200 and body["status"] == "refunded"
    snap = await state(server)
    assert (snap["campaign"]["total"], snap["campaign"]["count"], snap["match"]["used"]) == ("0.00", 0, "0.00")


async def test_a_confirmed_pledge_with_a_held_message_is_held(make_server: Any, backend: str) -> None:
    server = await make_server(backend, moderation={"hold": "messages"})
    overlay = await server.listen()
    await overlay.wait_for("state")
    pledge_id = await pledge(server, "20.00", "Léa", "hello stream")
    status, body = await act(server, pledge_id, "confirm")
    assert (status, body["status"], body["matched"]) == (200, "held", "20.00")
    progress = await overlay.wait_for("progress", lambda e: e["campaign"]["count"] == 1, timeout=WAIT)
    assert progress["campaign"]["total"] == "40.00"  # held money counts; only the alert waits
    status, body = await act(server, pledge_id, "approve")
    assert (status, body["status"]) == (200, "approved")
    await overlay.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["id"] == pledge_id, timeout=WAIT)


async def test_the_same_form_posted_again_after_confirm_counts_nothing_more(server: Any) -> None:
    token = await form_token(server)
    pledge_id = await pledge(server, "20.00", "Léa", token=token)
    assert (await act(server, pledge_id, "confirm"))[0] == 200
    assert await pledge(server, "20.00", "Léa", token=token) == pledge_id
    snap = await state(server)
    assert (snap["campaign"]["raised"], snap["campaign"]["count"]) == ("20.00", 1)
    assert len(snap["donations"]) == 1


async def test_unknown_donation_and_overlay_key_cannot_confirm(server: Any) -> None:
    status, body = await act(server, "d_nope", "confirm")
    assert (status, body["error"]["code"]) == (404, "donation_not_found")
    pledge_id = await pledge(server, "20.00")
    status, body = await server.post(f"{BASE}/donations/{pledge_id}/confirm?key={OVERLAY_KEY}", headers={})
    assert status == 401 and body["error"]["code"]
    assert (await state(server))["campaign"]["count"] == 0


async def test_concurrent_confirms_count_it_once(server: Any) -> None:
    """Two moderators (or a double click) confirm at the same moment: one wins, the rest get 409."""
    pledge_id = await pledge(server, "20.00", "Léa")
    results = await asyncio.gather(*(act(server, pledge_id, "confirm") for _ in range(8)))
    assert sorted(status for status, _ in results) == [200] + [409] * 7
    snap = await state(server)
    assert (snap["campaign"]["total"], snap["campaign"]["count"], snap["match"]["used"]) == ("40.00", 1, "20.00")

"""Donor-suggested poll options (API.md §8): suggested with a donation, decided by a moderator."""
from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from tests.support import OVERLAY_KEY

BASE = "/api/v1/channels/demo"
POLL = {"id": "game", "kind": "poll", "title": "Next game", "allow_suggestions": True,
        "suggestion_min_amount": "5.00",
        "options": [{"id": "celeste", "label": "Celeste"}, {"id": "hades", "label": "Hades"}]}
CLOSED = {"id": "old", "kind": "poll", "title": "Old poll", "allow_suggestions": True, "open": False,
          "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]}
PLAIN = {"id": "plain", "kind": "poll", "title": "No suggestions",
         "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]}


async def start(make_server: Any, backend: str) -> Any:
    # No match: a donation's weight is its amount.
    return await make_server(backend, incentives=[POLL, CLOSED, PLAIN], match=None,
                             moderation={"banned_words": ["darn"]})


async def poll(server: Any, incentive_id: str = "game") -> dict[str, Any]:
    status, body = await server.request("GET", f"{BASE}/incentives", headers={}, params={"key": OVERLAY_KEY})
    assert status == 200, body
    return next(i for i in body if i["id"] == incentive_id)


def balanced(p: dict[str, Any]) -> bool:
    """A poll's total is the sum of its bars plus its unallocated money."""
    return Decimal(p["total"]) == sum(Decimal(o["total"]) for o in p["options"]) + Decimal(p["unallocated"])


def suggest(text: str) -> dict[str, Any]:
    return {"id": "game", "suggestion": text}


async def test_accept_merge_and_reject_keep_the_poll_balanced(make_server: Any, backend: str) -> None:
    server = await start(make_server, backend)
    overlay = await server.listen()
    await overlay.wait_for("state")
    a = await server.donate(amount="10.00", donor_name="Ana", incentive=suggest("Hollow Knight"))
    assert a["incentive"]["suggestion"] == "Hollow Knight" and a["incentive"]["suggestion_status"] == "pending"
    ev = await overlay.wait_for("donation", lambda e: e["donation"]["id"] == a["id"])
    assert "suggestion" not in ev["donation"]["incentive"]  # waiting: moderators only
    b = await server.donate(amount="6.00", incentive=suggest("Céleste"))
    c = await server.donate(amount="7.00", incentive=suggest("darn game"))
    p = await poll(server)
    assert (p["total"], p["unallocated"], [o["id"] for o in p["options"]]) == ("23.00", "23.00", ["celeste", "hades"])
    assert balanced(p) and "suggestions" not in p
    status, body = await server.request("GET", f"{BASE}/incentives/game/suggestions")
    assert status == 200 and [(s["text"], s["amount"]) for s in body["suggestions"]] == [
        ("Hollow Knight", "10.00"), ("Céleste", "6.00"), ("**** game", "7.00")]

    status, done = await server.post(f"{BASE}/incentives/game/suggestions/{a['id']}/accept")
    assert status == 200, done
    assert done["donation"]["incentive"]["option"] == "hollow-knight"
    assert [(o["id"], o["label"], o["total"]) for o in done["incentive"]["options"]][-1] == \
        ("hollow-knight", "Hollow Knight", "10.00")
    ev = await overlay.wait_for("incentive", lambda e: any(o["id"] == "hollow-knight" for o in e["incentive"]["options"]))
    assert balanced(ev["incentive"]) and ev["incentive"]["unallocated"] == "13.00"

    status, done = await server.post(f"{BASE}/incentives/game/suggestions/{b['id']}/merge", {"option": "celeste"})
    assert status == 200 and done["incentive"]["options"][0]["total"] == "6.00" and balanced(done["incentive"])
    status, done = await server.post(f"{BASE}/incentives/game/suggestions/{c['id']}/reject")
    assert status == 200 and done["incentive"]["unallocated"] == "7.00" and balanced(done["incentive"])
    assert done["donation"]["incentive"]["suggestion_status"] == "rejected"
    status, body = await server.request("GET", f"{BASE}/incentives/game/suggestions")
    assert body["suggestions"] == []

    # Decided once: a second decision is a conflict; a refund takes the money back out of its option.
    status, err = await server.post(f"{BASE}/incentives/game/suggestions/{a['id']}/reject")
    assert status == 409 and err["error"]["code"] == "not_a_pending_suggestion"
    status, _ = await server.post(f"{BASE}/donations/{a['id']}/refund")
    assert status == 200
    p = await poll(server)
    assert p["total"] == "13.00" and p["options"][2]["total"] == "0.00" and balanced(p)
    # The accepted option is a real option now: a donor can choose it.
    await server.donate(amount="2.00", incentive={"id": "game", "option": "hollow-knight"})
    p = await poll(server)
    assert p["options"][2]["total"] == "2.00" and balanced(p)


async def test_suggestions_refused(make_server: Any, backend: str) -> None:
    server = await start(make_server, backend)
    for choice, amount, status, code in (
            ({"id": "old", "suggestion": "Zelda"}, "10.00", 409, "incentive_closed"),
            (suggest("Zelda"), "4.99", 422, "below_suggestion_minimum"),
            ({"id": "plain", "suggestion": "Zelda"}, "10.00", 422, "suggestions_not_allowed"),
            ({"id": "game", "suggestion": "Zelda", "option": "hades"}, "10.00", 422, "invalid_suggestion"),
            (suggest("https://spam.example.com"), "10.00", 422, "invalid_suggestion")):
        got, err = await server.post(f"{BASE}/donations", {"amount": amount, "incentive": choice})
        assert (got, err["error"]["code"]) == (status, code), (choice, err)
    status, body = await server.request("GET", f"{BASE}/donations")
    assert body["donations"] == []  # nothing refused was stored
    d = await server.donate(amount="10.00", incentive=suggest("Zelda"))
    status, err = await server.post(f"{BASE}/incentives/game/suggestions/{d['id']}/merge", {"option": "nope"})
    assert status == 422 and err["error"]["code"] == "invalid_incentive_option"
    status, err = await server.post(f"{BASE}/incentives/plain/suggestions/{d['id']}/accept")
    assert status == 409 and err["error"]["code"] == "not_a_pending_suggestion"
    status, err = await server.post(f"{BASE}/incentives/game/suggestions/{d['id']}/accept", headers={})
    assert status == 401
    assert (await poll(server))["unallocated"] == "10.00"


async def test_a_webhook_suggests_and_a_refund_takes_the_waiting_money_back(make_server: Any, backend: str) -> None:
    server = await make_server(backend, incentives=[POLL], match=None, webhooks={"generic": {"secret": "s" * 32}})
    payload = json.dumps({"amount": "8.00", "external_id": "w-1", "incentive": suggest("Outer Wilds")}).encode()
    sig = "sha256=" + hmac.new(b"s" * 32, payload, hashlib.sha256).hexdigest()
    status, body = await server.post("/webhooks/demo/generic", data=payload,
                                     headers={"X-Signature": sig, "Content-Type": "application/json"})
    assert status == 200, body
    p = await poll(server)
    assert (p["total"], p["unallocated"]) == ("8.00", "8.00") and balanced(p)
    status, _ = await server.post(f"{BASE}/donations/{body['donation_id']}/refund")
    assert status == 200
    p = await poll(server)
    assert (p["total"], p["unallocated"]) == ("0.00", "0.00") and balanced(p)
    status, waiting = await server.request("GET", f"{BASE}/incentives/game/suggestions")
    assert status == 200 and waiting["suggestions"] == []

"""The donor's display choice (API.md §8): which name and whether the amount the public sees."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timezone
from typing import Any

from overlay.domain.summary import Tally
from tests.support import OVERLAY_KEY

BASE = "/api/v1/channels/demo"
HIDDEN = {"amount": None, "original_amount": None, "original_currency": None, "matched": None}


async def public_list(server: Any) -> list[dict[str, Any]]:
    status, body = await server.request("GET", f"{BASE}/donations", headers={}, params={"key": OVERLAY_KEY})
    assert status == 200, body
    return body["donations"]


async def test_the_public_sees_the_name_and_amount_as_chosen(server: Any) -> None:
    overlay = await server.listen()
    await overlay.wait_for("state")
    dashboard = await server.listen("/dashboard")
    await dashboard.wait_for("state")
    first = await server.donate(amount="12.50", donor_name="Marie Curie", display_name="first", show_amount=False,
                                message="Bravo")
    # The dashboard hears the public event and then the full one, which it keeps.
    seen = await dashboard.wait_for("donation", lambda e: e["donation"].get("display_name") == "first")
    assert (seen["donation"]["donor_name"], seen["donation"]["amount"]) == ("Marie Curie", "12.50")
    # Moderators see everything, and what was chosen.
    assert (first["donor_name"], first["amount"], first["display_name"], first["show_amount"]) == \
        ("Marie Curie", "12.50", "first", False)
    assert first["public_name"] == "Marie"
    ev = await overlay.wait_for("donation", lambda e: e["donation"]["id"] == first["id"])
    public = ev["donation"]
    assert public["donor_name"] == "Marie" and public["show_amount"] is False
    assert {k: public[k] for k in HIDDEN} == HIDDEN and public["display"] == {"amount": None, "matched": None}
    assert "display_name" not in public and "alias" not in public
    assert ev["campaign"]["raised"] == "12.50"  # totals still count it
    play = await overlay.wait_for("alert", lambda e: e["action"] == "play")
    assert play["donation"]["donor_name"] == "Marie" and play["donation"]["amount"] is None

    alias = await server.donate(amount="7.00", donor_name="Jean Dupont", display_name="alias", alias="  Le Chat ")
    anon = await server.donate(amount="3.00", donor_name="Paul", display_name="anonymous")
    await overlay.wait_for("donation", lambda e: e["donation"]["id"] == anon["id"])
    by_id = {d["id"]: d for d in await public_list(server)}
    assert by_id[alias["id"]]["donor_name"] == "Le Chat" and by_id[alias["id"]]["amount"] == "7.00"
    assert by_id[anon["id"]]["donor_name"] is None and by_id[anon["id"]]["amount"] == "3.00"
    assert by_id[first["id"]]["donor_name"] == "Marie" and by_id[first["id"]]["amount"] is None
    assert "Jean Dupont" not in json.dumps(by_id) and "Paul" not in json.dumps(by_id)
    status, mod = await server.request("GET", f"{BASE}/donations")
    assert status == 200 and {d["id"]: d["donor_name"] for d in mod["donations"]}[anon["id"]] == "Paul"

    # The leaderboard lists the displayed name; neither the anonymous nor the hidden amount.
    late = await server.listen()
    snap = await late.wait_for("state")
    assert [(r["donor_name"], r["total"]) for r in snap["leaderboard"]] == [("Le Chat", "7.00")]
    recent = {d["id"]: d for d in snap["recent"]}
    assert recent[first["id"]]["donor_name"] == "Marie" and recent[first["id"]]["display"]["amount"] is None
    assert snap["campaign"]["raised"] == "22.50"


async def test_the_csv_says_what_was_chosen(server: Any) -> None:
    await server.donate(amount="5.00", donor_name="Ana Lopes", display_name="alias", alias="=Zorro", show_amount=False)
    await server.donate(amount="6.00", donor_name="Bo")
    status, text = await server.request("GET", f"{BASE}/donations.csv")
    assert status == 200
    header, *rows = text.strip().split("\r\n")
    assert header.endswith(",message,incentive,display_name,show_amount,alias")
    assert rows[0].endswith(",alias,false,'=Zorro") and "Ana Lopes" in rows[0]
    assert rows[1].endswith(",full,true,")


async def test_an_alias_is_moderated_like_a_name(make_server: Any, backend: str) -> None:
    server = await make_server(backend, moderation={"banned_words": ["darn"]})
    d = await server.donate(amount="5.00", display_name="alias", alias="darn cat")
    assert d["public_name"] == "**** cat" and d["alias"] == "**** cat"
    for body, code in (({"display_name": "alias"}, "alias_required"),
                       ({"display_name": "alias", "alias": "   "}, "alias_required"),
                       ({"display_name": "alias", "alias": "x" * 65}, "invalid_alias"),
                       ({"display_name": "nickname"}, "invalid_display_name"),
                       ({"show_amount": "no"}, "invalid_show_amount")):
        status, err = await server.post(f"{BASE}/donations", {"amount": "5.00", **body})
        assert status == 422 and err["error"]["code"] == code, (body, err)
    status, body = await server.request("GET", f"{BASE}/donations")
    assert [x["id"] for x in body["donations"]] == [d["id"]]  # nothing refused was stored


async def test_the_generic_webhook_takes_the_choice(make_server: Any, backend: str) -> None:
    server = await make_server(backend, webhooks={"generic": {"secret": "s" * 32}})
    overlay = await server.listen()
    await overlay.wait_for("state")
    payload = json.dumps({"amount": "9.00", "donor_name": "Zoé Martin", "external_id": "g-1",
                          "display_name": "first", "show_amount": False}).encode()
    sig = "sha256=" + hmac.new(b"s" * 32, payload, hashlib.sha256).hexdigest()
    headers = {"X-Signature": sig, "Content-Type": "application/json"}
    status, body = await server.post("/webhooks/demo/generic", data=payload, headers=headers)
    assert status == 200, body
    ev = await overlay.wait_for("donation")
    assert ev["donation"]["donor_name"] == "Zoé" and ev["donation"]["amount"] is None
    bad = json.dumps({"amount": "9.00", "external_id": "g-2", "display_name": "alias"}).encode()
    headers["X-Signature"] = "sha256=" + hmac.new(b"s" * 32, bad, hashlib.sha256).hexdigest()
    status, body = await server.post("/webhooks/demo/generic", data=bad, headers=headers)
    assert status == 422 and body["error"]["code"] == "alias_required"


def test_the_summary_never_names_a_hidden_amount_as_the_biggest_gift() -> None:
    tally = Tally(timezone.utc)
    base = {"status": "approved", "test": False, "matched": 0, "created_at": 1_700_000_000_000}
    tally.add({**base, "id": "a", "amount": 5000, "show_amount": False})
    tally.add({**base, "id": "b", "amount": 1000})
    assert tally.biggest is not None and tally.biggest["id"] == "b"
    assert sum(b.raised for b in tally.buckets()[1]) == 6000  # it still counts

"""The donation body's field names: a first guess gets the right name back, not a bare refusal."""
from __future__ import annotations

from typing import Any

DONATIONS = "/api/v1/channels/demo/donations"


async def test_name_is_refused_with_a_hint_to_donor_name(server: Any) -> None:
    status, body = await server.post(DONATIONS, {"amount": "5.00", "name": "Alice"})
    assert status == 422 and body["error"] == {
        "code": "unknown_field", "message": "unknown field: name (did you mean donor_name?)"}
    status, body = await server.post(DONATIONS, {"amount": "5.00", "comment": "Bravo"})
    assert status == 422 and body["error"]["message"] == "unknown field: comment (did you mean message?)"
    status, body = await server.post(DONATIONS, {"amount": "5.00", "colour": "red"})
    assert status == 422 and body["error"]["message"] == "unknown field: colour"
    # Nothing was stored by the refused ones; the right field works.
    created = await server.donate(amount="5.00", donor_name="Alice")
    assert created["donor_name"] == "Alice"
    status, listing = await server.request("GET", DONATIONS)
    assert status == 200 and [d["donor_name"] for d in listing["donations"]] == ["Alice"]

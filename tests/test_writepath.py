"""The ordered writer (overlay/writer.py) through the real server: what arrives together
commits together, and stays exact: idempotency, the match cap, seq order, one play each."""
from __future__ import annotations

import asyncio
from typing import Any

DONATIONS = "/api/v1/channels/demo/donations"


async def test_same_external_id_sent_at_once_is_one_donation(server: Any) -> None:
    body = {"amount": "5", "external_id": "burst-1", "source": "generic"}
    answers = await asyncio.gather(*[server.post(DONATIONS, body) for _ in range(20)])
    assert sorted(status for status, _ in answers) == [200] * 19 + [201]
    assert len({d["id"] for _, d in answers}) == 1
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["campaign"]["count"] == 1 and state["campaign"]["raised"] == "5.00"


async def test_concurrent_donations_stay_exact(make_server: Any, backend: str) -> None:
    srv = await make_server(backend, match={"sponsor": "S", "multiplier": "2", "cap": "10.00"},
                            alerts={"min_amount": "1.00", "duration_ms": 60_000, "gap_ms": 100})
    overlay = await srv.listen()
    await overlay.wait_for("state")
    answers = await asyncio.gather(*[srv.post(DONATIONS, {"amount": "1", "donor_name": f"D{i}"}) for i in range(30)])
    assert [status for status, _ in answers] == [201] * 30
    created = [d for _, d in answers]
    assert sum(int(d["matched"].replace(".", "")) for d in created) == 1000  # the cap, exactly
    assert len({d["seq"] for d in created}) == 30
    last = max(created, key=lambda d: d["seq"])
    await overlay.wait_for("donation", lambda e: e["donation"]["id"] == last["id"])
    seqs = [data["seq"] for _, data in overlay.events if isinstance(data, dict) and "seq" in data]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))  # one stream, in order, no repeat
    _, state = await srv.request("GET", "/api/v1/channels/demo/state")
    assert state["campaign"]["raised"] == "30.00" and state["match"]["used"] == "10.00"
    assert state["alerts"]["queue_length"] == 29 and state["alerts"]["playing"] is not None

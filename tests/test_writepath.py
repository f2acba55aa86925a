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


async def test_redis_flushed_while_running_is_noticed(make_server: Any, redis_server: Any, caplog: Any) -> None:
    srv = await make_server("redis")
    assert "has no persistence" in caplog.text  # the test Redis runs with save "" and appendonly no
    overlay = await srv.listen()
    await overlay.wait_for("state")
    first = await srv.donate(amount="5", donor_name="Ana")
    await overlay.wait_for("donation", lambda e: e["donation"]["id"] == first["id"])
    last_seq = max(data["seq"] for _, data in overlay.events)
    redis_server.flush()
    second = await srv.donate(amount="7", donor_name="Ben")
    ev = await overlay.wait_for("donation", lambda e: e["donation"]["id"] == second["id"])
    assert ev["seq"] > last_seq and ev["campaign"]["raised"] == "12.00"  # totals were re-seeded
    await overlay.wait_for("state", lambda s: len(overlay.of("state")) == 2)
    resync = overlay.of("state")[1]
    assert resync["seq"] >= last_seq and resync["campaign"]["raised"] in ("5.00", "12.00")
    status, health = await srv.request("GET", "/healthz")
    assert status == 200 and health["status"] == "degraded" and health["store_reset_at"]
    assert any(r.levelname == "ERROR" and "STORE RESET" in r.getMessage() for r in caplog.records)
    third = await srv.donate(amount="1")
    await overlay.wait_for("donation", lambda e: e["donation"]["id"] == third["id"])
    assert third["seq"] > second["seq"]

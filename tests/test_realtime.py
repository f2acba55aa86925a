"""Socket.IO behaviour of API.md §5 with real clients, on both backends."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from tests.support import OVERLAY_KEY, Listener


async def test_wrong_key_or_token_is_refused(server: Any) -> None:
    for ns, auth in [("/overlay", {"channel": "demo", "key": "wrong-key"}), ("/overlay", {"channel": "nope", "key": OVERLAY_KEY}),
                     ("/overlay", {}), ("/dashboard", {"channel": "demo", "token": OVERLAY_KEY}),
                     ("/dashboard", {"channel": "demo"})]:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await Listener().connect(server.url, ns, **auth)


async def test_fresh_connection_gets_state_and_no_old_alerts(server: Any) -> None:
    first = await server.listen()
    await first.wait_for("state")
    await server.donate(amount="5", donor_name="Early")
    await first.wait_for("alert", lambda d: d["action"] == "play")
    late = await server.listen()
    state = await late.wait_for("state")
    assert state["campaign"]["count"] == 1 and state["recent"][0]["donor_name"] == "Early"
    # Events reach a client in seq order: once a later donation has arrived, an old alert
    # replayed to the fresh connection would have arrived before it.
    await server.donate(amount="5", donor_name="Later")
    await late.wait_for("donation", lambda d: d["donation"]["donor_name"] == "Later")
    assert [e for e, _ in late.events][:2] == ["state", "donation"]
    assert not [e for e in late.of("alert") if e["donation"]["donor_name"] == "Early"]


async def test_reconnect_with_last_seq_replays_in_order_without_gap_or_duplicate(server: Any) -> None:
    a = await server.listen()
    state = await a.wait_for("state")
    await server.donate(amount="1", donor_name="One")
    first = await a.wait_for("donation")
    await a.close()
    for i in range(5):
        await server.donate(amount=str(i + 2), donor_name=f"Missed {i}")
    b = await server.listen(channel="demo", key=OVERLAY_KEY, last_seq=first["seq"])
    await b.wait_for("donation", lambda d: d["donation"]["donor_name"] == "Missed 4")
    await server.donate(amount="9", donor_name="Live")
    await b.wait_for("donation", lambda d: d["donation"]["donor_name"] == "Live")
    seqs = [d["seq"] for _, d in b.events]
    assert "state" not in [e for e, _ in b.events]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)) and seqs[0] > first["seq"]
    names = [d["donation"]["donor_name"] for d in b.of("donation")]
    assert names == [f"Missed {i}" for i in range(5)] + ["Live"]
    assert state["seq"] < first["seq"]


async def test_replay_during_a_burst_loses_nothing(server: Any) -> None:
    a = await server.listen()
    await a.wait_for("state")
    await server.donate(amount="1")
    first = await a.wait_for("donation")
    await a.close()
    burst = asyncio.gather(*(server.donate(amount="2", donor_name=f"B{i}") for i in range(30)))
    await asyncio.sleep(0.01)  # connect while the burst is under way; any interleaving must hold
    b = await server.listen(channel="demo", key=OVERLAY_KEY, last_seq=first["seq"])
    await burst
    await b.wait_for("donation", lambda d: len(b.of("donation")) >= 30)
    seqs = [d["seq"] for _, d in b.events if "seq" in d]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    assert sorted(d["donation"]["donor_name"] for d in b.of("donation")) == sorted(f"B{i}" for i in range(30))


async def test_last_seq_beyond_the_log_gets_a_fresh_state(server: Any) -> None:
    b = await server.listen(channel="demo", key=OVERLAY_KEY, last_seq=10_000)
    assert (await b.wait_for("state"))["seq"] == 0


async def test_alert_queue_plays_in_order_one_at_a_time(server: Any) -> None:
    o = await server.listen()
    await o.wait_for("state")
    for name in ("A", "B", "C"):
        await server.donate(amount="5", donor_name=name)
    plays = []
    for _ in range(3):
        ev = await o.wait_for("alert", lambda d: d["action"] == "play" and d["seq"] not in [p["seq"] for p in plays])
        plays.append(ev)
    assert [p["donation"]["donor_name"] for p in plays] == ["A", "B", "C"]
    from datetime import datetime
    starts = [datetime.fromisoformat(p["starts_at"].replace("Z", "+00:00")) for p in plays]
    # Server-stated times, not measured ones: a slower machine only starts the next one later.
    for prev, nxt in zip(starts, starts[1:]):
        assert (nxt - prev).total_seconds() * 1000 >= 1000 + 100  # duration + gap


async def test_queue_event_lists_the_next_alerts_only_when_they_change(server: Any) -> None:
    """A donation joining the back of a long queue sends counts, not the next ten alerts
    again: the event costs the same with 10 or 500 waiting. A change at the front lists them."""
    d = await server.listen("/dashboard")
    await d.wait_for("state")
    await server.post("/api/v1/channels/demo/alerts/pause", {})
    for i in range(12):
        await server.donate(amount="5", donor_name=f"Donor {i}")
    last = await d.wait_for("queue", lambda e: e["alerts"]["queue_length"] == 12)
    queue = d.of("queue")
    assert [len(e["alerts"]["next"]) for e in queue if "next" in e["alerts"]] == list(range(11))  # the pause, then 1 to 10
    assert [e["alerts"]["queue_length"] for e in queue if "next" not in e["alerts"]] == [11, 12]
    assert last["alerts"]["paused"] is True and last["alerts"]["playing"] is None
    await server.post("/api/v1/channels/demo/alerts/resume", {})
    played = await d.wait_for("queue", lambda e: e["alerts"]["queue_length"] == 11 and "next" in e["alerts"])
    assert [n["donation"]["donor_name"] for n in played["alerts"]["next"]] == [f"Donor {i}" for i in range(1, 11)]


async def test_skip_pause_resume_clear_and_replay(server: Any) -> None:
    o = await server.listen()
    d = await server.listen("/dashboard")
    await o.wait_for("state")
    await server.post("/api/v1/channels/demo/alerts/pause", {})
    await o.wait_for("alert", lambda e: e["action"] == "pause")
    first = await server.donate(amount="5", donor_name="Held back")
    await server.donate(amount="5", donor_name="Second")
    q = await d.wait_for("queue", lambda e: e["alerts"]["queue_length"] == 2)
    assert q["alerts"]["paused"] is True and [n["donation"]["donor_name"] for n in q["alerts"]["next"]] == ["Held back", "Second"]
    assert q["alerts"]["playing"] is None
    await server.post("/api/v1/channels/demo/alerts/resume", {})
    await o.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["donor_name"] == "Held back")
    # Events arrive in seq order: nothing played between the pause and the resume.
    assert [e["action"] for e in o.of("alert")][:3] == ["pause", "resume", "play"]
    await server.post("/api/v1/channels/demo/alerts/skip", {})
    await o.wait_for("alert", lambda e: e["action"] == "skip")
    await o.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["donor_name"] == "Second")
    await server.post("/api/v1/channels/demo/alerts/clear", {})
    await d.wait_for("queue", lambda e: e["alerts"]["queue_length"] == 0 and e["alerts"]["playing"] is None)
    status, _ = await server.post(f"/api/v1/channels/demo/donations/{first['id']}/replay", {})
    assert status == 200
    replayed = await o.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["id"] == first["id"]
                                and e["seq"] > q["seq"] + 5)
    assert replayed["donation"]["donor_name"] == "Held back"


async def test_held_messages_reach_moderators_only_until_approved(make_server: Any, backend: str) -> None:
    server = await make_server(backend, moderation={"hold": "messages", "banned_words": ["troll"]})
    o = await server.listen()
    d = await server.listen("/dashboard")
    await o.wait_for("state")
    await d.wait_for("state")
    held = await server.donate(amount="10", donor_name="Anne", message="you troll <script>x</script>")
    rejected = await server.donate(amount="20", donor_name="Bob", message="buy followers")
    assert held["status"] == rejected["status"] == "held"
    ev = await d.wait_for("donation", lambda e: e["donation"]["id"] == held["id"])
    assert ev["donation"]["message"] == "you ***** <script>x</script>"
    assert ev["donation"]["original_message"] == "you troll <script>x</script>"
    progress = await o.wait_for("progress", lambda e: e["campaign"]["count"] == 2)
    assert progress["campaign"]["raised"] == "30.00"  # held money counts at once
    status, _ = await server.post(f"/api/v1/channels/demo/donations/{rejected['id']}/reject", {})
    assert status == 200
    status, _ = await server.post(f"/api/v1/channels/demo/donations/{held['id']}/approve", {})
    assert status == 200
    shown = await o.wait_for("donation")
    assert shown["donation"]["id"] == held["id"] and "original_message" not in shown["donation"]
    # The rejection was logged before the approval: had it reached overlays, it would be here by now.
    await o.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["id"] == held["id"])
    overlay_text = repr(o.events)
    assert "buy followers" not in overlay_text and rejected["id"] not in overlay_text
    assert (await server.post(f"/api/v1/channels/demo/donations/{held['id']}/approve", {}))[0] == 409


async def test_two_overlays_get_the_same_starts_at(server: Any) -> None:
    a, b = await server.listen(), await server.listen()
    await a.wait_for("state")
    await b.wait_for("state")
    await server.donate(amount="3")
    pa = await a.wait_for("alert", lambda e: e["action"] == "play")
    pb = await b.wait_for("alert", lambda e: e["action"] == "play")
    assert pa == pb


async def _refusal(url: str, namespace: str, auth: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    """Connect with ``auth`` and return the connect_error payload; a hang or a crash fails."""
    # Headers through websocket_extra_options: a Cookie given to connect() goes through SimpleCookie,
    # which drops a non-ASCII value before it is sent.
    client = socketio.AsyncClient(reconnection=False, websocket_extra_options={"headers": headers or {}})
    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def on_error(data: Any = None) -> None:
        if not refused.done():
            refused.set_result(data)
    client.on("connect_error", on_error, namespace=namespace)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(url, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=10)
        return await asyncio.wait_for(refused, 10)
    finally:
        await client.disconnect()


async def test_unencodable_auth_is_refused_not_crashed(server: Any) -> None:
    """A lone surrogate in key, token or channel is refused, never a crashed handler and a hung client."""
    cases = [("/overlay", {"channel": "demo", "key": "\ud800"}), ("/overlay", {"channel": "\ud800", "key": "x"}),
             ("/dashboard", {"channel": "demo", "token": "\udfff" * 3}), ("/dashboard", {"channel": "\ud800"}),
             ("/overlay", {"channel": "demo", "key": OVERLAY_KEY, "last_seq": "\ud800"})]
    for ns, auth in cases[:4]:
        refusal = await _refusal(server.url, ns, auth)
        assert isinstance(refusal, dict) and refusal.get("message"), (ns, refusal)
    cookie = {"Cookie": "overlay_session_demo=demo.9999999999.caf\u00e9.x.sig"}
    refusal = await _refusal(server.url, "/dashboard", {"channel": "demo"}, cookie)
    assert isinstance(refusal, dict) and refusal.get("message"), refusal
    # The handler is still alive: a good client connects and a lone surrogate where none is read is harmless.
    ns, auth = cases[4]
    listener = await Listener().connect(server.url, ns, **auth)
    await listener.wait_for("state")
    await listener.close()

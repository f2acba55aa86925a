"""The storage contract (overlay/store/base.py), run against both backends directly."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from overlay import donations
from overlay.donations import DonationInput
from overlay.store import base
from overlay.store.embedded import EmbeddedStore
from overlay.store.redis import RedisStore
from tests.support import make_config

NOW = 1_800_000_000_000


@pytest.fixture
async def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[base.Store]:
    s: base.Store = RedisStore(request.getfixturevalue("redis_url")) if backend == "redis" else EmbeddedStore(tmp_path)
    cfg = make_config(tmp_path).channels[0]
    await s.open([cfg])
    yield s
    await s.close()


@pytest.fixture
def cfg(tmp_path: Path) -> Any:
    return make_config(tmp_path).channels[0]


async def accept(store: base.Store, cfg: Any, now: int = NOW, **kw: Any) -> dict[str, Any]:
    rec = donations.new_record(cfg, DonationInput(**{"amount": "5", **kw}), now)
    change = donations.accept_donation(cfg, await store.load(cfg), rec, now)
    assert await store.commit(cfg.id, change)
    return change.donations[0]


async def test_initial_state_comes_from_config(store: base.Store, cfg: Any) -> None:
    st = await store.load(cfg)
    assert st.seq == 0 and st.totals == {"raised": 0, "matched": 0, "count": 0}
    assert st.match is not None and st.match["cap"] == 500000 and st.match["used"] == 0


async def test_commit_is_compare_and_set_on_seq(store: base.Store, cfg: Any) -> None:
    st = await store.load(cfg)
    r1 = donations.new_record(cfg, DonationInput(amount="1"), NOW)
    r2 = donations.new_record(cfg, DonationInput(amount="2"), NOW)
    first = donations.accept_donation(cfg, st, r1, NOW)
    stale = donations.accept_donation(cfg, st, r2, NOW)
    assert await store.commit(cfg.id, first) is True
    assert await store.commit(cfg.id, stale) is False
    assert await store.get_donation(cfg.id, r2["id"]) is None
    assert (await store.load(cfg)).totals["raised"] == 100


async def test_records_external_ids_recent_and_leaderboard(store: base.Store, cfg: Any) -> None:
    a = await accept(store, cfg, donor_name="Ana", external_id="e1", source="kofi")
    await accept(store, cfg, amount="7", donor_name="ana")
    await accept(store, cfg, amount="3", donor_name="Ben", test=True)
    await accept(store, cfg, amount="2")
    assert (await store.find_external(cfg.id, "kofi", "e1"))["id"] == a["id"]
    assert await store.find_external(cfg.id, "stripe", "e1") is None
    assert [r["amount"] for r in await store.recent(cfg.id, 10)] == [200, 700, 500]
    assert await store.leaderboard(cfg.id, 10) == [("Ana", 1200)]
    newest = await store.list_donations(cfg.id, limit=2)
    assert [r["amount"] for r in newest] == [200, 300]
    after = await store.list_donations(cfg.id, after_seq=a["seq"], limit=10)
    assert [r["amount"] for r in after] == [700, 300, 200]


async def test_event_log_replays_and_knows_its_limits(store: base.Store, cfg: Any) -> None:
    events = []
    store.subscribe(lambda ch, evs: events.extend(evs))
    for _ in range(3):
        await accept(store, cfg)
    seq = (await store.load(cfg)).seq
    logged = await store.events_after(cfg.id, 0)
    assert logged is not None and [e.seq for e in logged] == list(range(1, seq + 1))
    assert await store.events_after(cfg.id, seq) == []
    if store.backend == "embedded":  # Redis delivers through pub/sub, asynchronously
        assert [e.seq for e in events] == list(range(1, seq + 1))


async def test_log_keeps_last_events_or_last_hour(store: base.Store, cfg: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(base, "KEEP_EVENTS", 5)
    import overlay.store.embedded as emb
    import overlay.store.redis as red
    monkeypatch.setattr(emb, "KEEP_EVENTS", 5)
    monkeypatch.setattr(red, "KEEP_EVENTS", 5)
    old = NOW - 2 * 3_600_000
    for _ in range(6):
        await accept(store, cfg, now=old)
    assert await store.events_after(cfg.id, 0) is not None  # all within an hour of the last commit
    first_young = (await store.load(cfg)).seq
    for _ in range(6):
        await accept(store, cfg, now=NOW)
    assert await store.events_after(cfg.id, 0) is None  # old ones beyond the last 5 are gone
    recent = await store.events_after(cfg.id, first_young)
    assert recent is not None and len(recent) > 5  # younger than an hour: all kept, more than 5


async def test_a_revoked_session_stays_revoked_until_its_expiry_for_every_instance(
        store: base.Store, cfg: Any, backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    later = int(time.time() * 1000) + 3_600_000
    await store.revoke_session(cfg.id, "sid-1", later)
    await store.revoke_session(cfg.id, "sid-old", int(time.time() * 1000) - 1000)
    assert await store.session_revoked(cfg.id, "sid-1")
    assert not await store.session_revoked(cfg.id, "sid-2")
    assert not await store.session_revoked("other", "sid-1")
    assert not await store.session_revoked(cfg.id, "sid-old")
    # Another process (or this one after a restart) sees the same.
    other: base.Store = RedisStore(request.getfixturevalue("redis_url")) if backend == "redis" \
        else EmbeddedStore(tmp_path)
    await other.open([cfg])
    try:
        assert await other.session_revoked(cfg.id, "sid-1") and not await other.session_revoked(cfg.id, "sid-2")
    finally:
        await other.close()

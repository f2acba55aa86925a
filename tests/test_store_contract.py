"""The storage contract (overlay/store/base.py), run against both backends directly."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from overlay.domain import donations
from overlay.domain.donations import DonationInput
from overlay.store import base
from overlay.store.embedded import EmbeddedStore
from overlay.store.redis import RedisStore
from tests.support import make_config, until

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


def chain(cfg: Any, state: Any, *amounts: str, now: int = NOW) -> list[Any]:
    """Changes as the writer makes them: each computed on the state the previous one left."""
    changes = []
    for amount in amounts:
        rec = donations.new_record(cfg, DonationInput(amount=amount, donor_name="Ana"), now)
        changes.append(donations.accept_donation(cfg, state, rec, now))
        state = changes[-1].state
    return changes


async def test_a_batch_commits_whole_or_not_at_all(store: base.Store, cfg: Any) -> None:
    st = await store.load(cfg)
    batch = chain(cfg, st, "1", "2", "3")
    stale = chain(cfg, st, "9")
    assert await store.commit_batch(cfg.id, batch) == (True, batch[-1].state.seq)
    assert await store.commit_batch(cfg.id, stale) == (False, batch[-1].state.seq)
    assert await store.get_donation(cfg.id, stale[0].donations[0]["id"]) is None
    loaded = await store.load(cfg)
    assert loaded.seq == batch[-1].state.seq and loaded.totals["raised"] == 600
    assert await store.leaderboard(cfg.id, 10) == [("Ana", 600)]
    logged = await store.events_after(cfg.id, 0)
    assert logged is not None and [e.seq for e in logged] == list(range(1, loaded.seq + 1))


async def test_commits_of_many_channels_at_once_go_together_and_each_gets_its_own_outcome(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    channels = [make_config(tmp_path, id=f"m{i}", name=f"M{i}").channels[0] for i in range(7)]
    s: base.Store = RedisStore(request.getfixturevalue("redis_url")) if backend == "redis" else EmbeddedStore(tmp_path)
    await s.open(channels)
    try:
        states = [await s.load(c) for c in channels]
        done = chain(channels[0], states[0], "4")
        assert await s.commit_batch(channels[0].id, done) == (True, done[-1].state.seq)
        stale = chain(channels[0], states[0], "9")  # computed on the state before ``done``
        fresh = [chain(c, st, "1", str(i)) for i, (c, st) in enumerate(zip(channels[1:6], states[1:6]), 1)]
        scripts = await _scripts_run(s)
        outcomes = await asyncio.gather(s.commit_batch(channels[0].id, stale),
                                        *(s.commit_batch(c.id, ch) for c, ch in zip(channels[1:6], fresh)))
        assert outcomes == [(False, done[-1].state.seq)] + [(True, ch[-1].state.seq) for ch in fresh]
        if backend == "redis":  # the six commits were one script call
            assert await _scripts_run(s) - scripts == 1
        assert await s.get_donation(channels[0].id, stale[0].donations[0]["id"]) is None
        totals = await s.channel_totals([c.id for c in channels])
        assert totals == {"m0": {"raised": 400, "matched": 400, "count": 1},  # (the demo channel's match doubles)
                          **{c.id: {"raised": 100 + 100 * i, "matched": 100 + 100 * i, "count": 2}
                             for i, c in enumerate(channels[1:6], 1)}}  # m6 never committed: absent
    finally:
        await s.close()


async def _scripts_run(s: base.Store) -> int:
    if not isinstance(s, RedisStore):
        return 0
    stats = (await s.redis.info("commandstats")).get("cmdstat_evalsha", {})
    return sum(int(stats.get(k, 0)) for k in ("calls", "rejected_calls")) - int(stats.get("failed_calls", 0))


async def test_a_key_assumed_new_that_is_stored_refuses_the_commit(store: base.Store, cfg: Any) -> None:
    st = await store.load(cfg)
    rec = donations.new_record(cfg, DonationInput(amount="5", donor_name="Ana", external_id="k1"), NOW)
    first = donations.accept_donation(cfg, st, rec, NOW)
    assert await store.commit_batch(cfg.id, [first], [("api", "k1")]) == (True, first.state.seq)
    again = chain(cfg, first.state, "7")
    with pytest.raises(base.KeysTaken):  # computed as if k1 were new: nothing of it is written
        await store.commit_batch(cfg.id, again, [("api", "k2"), ("api", "k1")])
    assert await store.get_donation(cfg.id, again[0].donations[0]["id"]) is None
    assert (await store.load(cfg)).seq == first.state.seq
    assert await store.commit_batch(cfg.id, again, [("api", "k2"), ("other", "k1")]) == (True, again[-1].state.seq)


async def test_alert_queue_operations_round_trip(store: base.Store, cfg: Any) -> None:
    state = await store.load(cfg)
    paused = donations.control_alerts(cfg, state, "pause", NOW)
    batch = [paused, *chain(cfg, paused.state, "1", "2", "3")]
    assert await store.commit(cfg.id, batch[0]) and await store.commit_batch(cfg.id, batch[1:])
    first = batch[1].donations[0]
    replayed = donations.replay(cfg, batch[-1].state, first, NOW)   # push front
    skipped = donations.control_alerts(cfg, replayed.state, "resume", NOW)  # pop front: it plays
    assert await store.commit_batch(cfg.id, [replayed, skipped])
    loaded = await store.load(cfg)
    assert loaded.alerts == skipped.state.alerts
    assert [i["donation"]["amount"] for i in loaded.alerts["queue"]] == ["1.00", "2.00", "3.00"]
    cleared = donations.control_alerts(cfg, loaded, "clear", NOW)
    assert await store.commit(cfg.id, cleared)
    assert (await store.load(cfg)).alerts["queue"] == []


async def test_scalars_never_carry_the_alert_queue(store: base.Store, cfg: Any) -> None:
    state = await store.load(cfg)
    paused = donations.control_alerts(cfg, state, "pause", NOW)
    batch = [paused, *chain(cfg, paused.state, *["1"] * 20)]
    assert await store.commit_batch(cfg.id, batch)
    assert len((await store.load(cfg)).alerts["queue"]) == 20
    without = batch[-1].state.copy()
    without.alerts["queue"] = []
    assert batch[-1].state.to_json() == without.to_json()  # what each commit rewrites does not grow


def wipe(store: base.Store, request: pytest.FixtureRequest) -> None:
    """What a Redis restarted without persistence (or FLUSHALL) does to the data."""
    if store.backend == "redis":
        request.getfixturevalue("redis_server").flush()
        return
    import sqlite3
    db = sqlite3.connect(store.path)  # type: ignore[attr-defined]
    for table in ("channel_state", "donations", "external_ids", "leaderboard", "events", "alert_queue"):
        db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
    db.commit()
    db.close()


async def test_a_store_that_lost_its_data_is_noticed_and_reseeded(
        store: base.Store, cfg: Any, request: pytest.FixtureRequest) -> None:
    state = await store.load(cfg)
    paused = donations.control_alerts(cfg, state, "pause", NOW)
    batch = [paused, *chain(cfg, paused.state, "1", "2")]
    assert await store.commit_batch(cfg.id, batch)
    known = batch[-1].state
    wipe(store, request)
    with pytest.raises(base.StoreReset):
        await store.commit_batch(cfg.id, chain(cfg, known, "5"))
    await store.reseed(cfg, known)
    await store.reseed(cfg, known)  # a second process noticing too changes nothing
    loaded = await store.load(cfg)
    assert loaded.seq == known.seq and loaded.totals == known.totals and loaded.alerts == known.alerts
    after = chain(cfg, loaded, "5")
    assert await store.commit_batch(cfg.id, after) == (True, known.seq + len(after[0].events))


async def test_a_state_written_by_the_first_release_keeps_its_queue(
        store: base.Store, cfg: Any, request: pytest.FixtureRequest) -> None:
    state = await store.load(cfg)
    paused = donations.control_alerts(cfg, state, "pause", NOW)
    batch = [paused, *chain(cfg, paused.state, "1", "2")]
    old = batch[-1].state
    blob = json.dumps({"campaign": old.campaign, "totals": old.totals, "match": old.match, "alerts": old.alerts})
    if store.backend == "redis":  # an older state blob kept the queue inside it
        import redis
        r = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        r.mset({f"overlay:{cfg.id}:seq": old.seq, f"overlay:{cfg.id}:state": blob})
        r.close()
    else:
        import sqlite3
        db = sqlite3.connect(store.path)  # type: ignore[attr-defined]
        db.execute("INSERT INTO channel_state VALUES (?, ?, ?)", (cfg.id, old.seq, blob))
        db.commit()
        db.close()
    loaded = await store.load(cfg)
    assert loaded.alerts == old.alerts and loaded.seq == old.seq
    more = chain(cfg, loaded, "3")
    assert await store.commit_batch(cfg.id, more)
    assert [i["donation"]["amount"] for i in (await store.load(cfg)).alerts["queue"]] == ["1.00", "2.00", "3.00"]


def channel_record(channel_id: str, name: str, version: int = 1) -> dict[str, Any]:
    return {"id": channel_id, "name": name, "overlay_key": "k" * 12, "moderator_tokens": ["sha256$s$d"],
            "disabled": False, "created_at": "2026-12-06T00:00:00Z", "updated_at": "2026-12-06T00:00:00Z",
            "version": version}


async def test_stored_channels_are_created_once_listed_in_pages_and_announced(
        store: base.Store, backend: str, tmp_path: Path, request: pytest.FixtureRequest, cfg: Any) -> None:
    other: base.Store = RedisStore(request.getfixturevalue("redis_url")) if backend == "redis" \
        else store
    heard: list[str | None] = []

    async def watcher(channel_id: str | None) -> None:
        heard.append(channel_id)

    if other is not store:
        await other.open([cfg])
    other.watch_channels(watcher)
    try:
        for i, name in enumerate(["Alpha", "beta", "Gamma", "delta"]):
            assert await store.put_channel(f"c{i}", channel_record(f"c{i}", name), create=True)
        assert not await store.put_channel("c0", channel_record("c0", "Again"), create=True)
        assert (await store.get_channel("c0"))["name"] == "Alpha"
        assert await store.put_channel("c0", channel_record("c0", "Renamed", 2), create=False)
        assert (await store.get_channel("c0"))["version"] == 2 and await store.get_channel("nope") is None
        first, cursor = await store.list_channels("", 3, None)
        assert [r["id"] for r in first] == ["c0", "c1", "c2"] and cursor == "c2"
        rest, cursor = await store.list_channels("", 3, cursor)
        assert [r["id"] for r in rest] == ["c3"] and cursor is None
        found, _ = await store.list_channels("ELTA", 10, None)
        assert [r["id"] for r in found] == ["c3"]
        assert await store.delete_channel("c3") and not await store.delete_channel("c3")
        assert await store.get_channel("c3") is None and len((await store.list_channels("", 10, None))[0]) == 3
        # Every write reaches every store's watchers (another process's, on Redis), in order.
        await until(lambda: [h for h in heard if h is not None], lambda ids: ids[-2:] == ["c0", "c3"] and len(ids) == 6,
                    what="the channel notifications")
    finally:
        if other is not store:
            await other.close()


async def test_an_invite_is_used_at_most_its_uses_and_never_after_it_expires(store: base.Store) -> None:
    now = int(time.time() * 1000)
    await store.put_invite("inv-1", {"defaults": {}, "uses": 2, "expires_ms": now + 60_000})
    await store.put_invite("inv-old", {"defaults": {}, "uses": 1, "expires_ms": now - 1})
    assert [await store.use_invite("inv-1", now) for _ in range(3)] == [True, True, False]
    assert (await store.get_invite("inv-1"))["used"] >= 2
    assert not await store.use_invite("inv-old", now) and not await store.use_invite("nope", now)
    assert (await store.get_invite("inv-old"))["uses"] == 1 and await store.get_invite("nope") is None


async def test_another_process_follows_a_commit_from_its_published_message(
        tmp_path: Path, cfg: Any, redis_url: str) -> None:
    """The commit script builds the message from what it wrote: another process's writer
    follows the batch from it (scalars and alert queue operations) and its clients get the
    events as they were logged."""
    writer, other = RedisStore(redis_url), RedisStore(redis_url)
    await writer.open([cfg])
    await other.open([cfg])
    try:
        followed: list[Any] = []
        delivered: list[Any] = []
        other.follow(cfg.id, followed.append)
        other.subscribe(lambda channel, events: delivered.extend(events))
        await other.attend(cfg.id)
        base_state = await other.load(cfg)
        state, changes = base_state, []
        for amount, name in (("7.00", "Zoé \"the\" <b>donor</b>"), ("8.00", "Bob")):
            rec = donations.new_record(cfg, DonationInput(amount=amount, donor_name=name), NOW)
            changes.append(donations.accept_donation(cfg, state, rec, NOW))
            state = changes[-1].state
        assert state.alerts["queue"]  # the batch queues alerts: its message carries queue operations
        ok, _ = await writer.commit_batch(cfg.id, changes)
        assert ok
        await until(lambda: len(delivered), lambda n: n == len([e for ch in changes for e in ch.events]),
                    what="the other process's delivery")
        assert delivered == [e for ch in changes for e in ch.events]
        assert len(followed) == 1 and base_state.advanced(followed[0]) == state
    finally:
        await writer.close()
        await other.close()

"""overlay.store.writer.ChannelWriter on the embedded store (SQLite in a temporary folder): ops run
in order on the state the one before left, what waited commits together, a refused op fails its
caller alone, a lost race re-runs the batch, a store that fails or loses its data loses no order."""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from overlay.domain import donations
from overlay.domain.donations import DonationError, DonationInput
from overlay.domain.state import Change, ChannelState
from overlay.store.base import StoreUnavailable
from overlay.store.embedded import EmbeddedStore
from overlay.store.reads import Reads
from overlay.store.writer import ChannelWriter


class FailingStore(EmbeddedStore):
    """The embedded store, whose next commits fail as a stalled disk's would."""

    fail_commits = 0

    async def commit_batch(self, channel: str, changes: list[Change], absent: Any = ()) -> tuple[bool, int]:
        if self.fail_commits:
            self.fail_commits -= 1
            raise StoreUnavailable("SQLite: disk I/O error")
        return await super().commit_batch(channel, changes, absent)


@pytest.fixture
async def store(tmp_path: Path, cfg: Any) -> AsyncIterator[FailingStore]:
    s = FailingStore(tmp_path)
    await s.open([cfg])
    yield s
    await s.close()


def donation(cfg: Any, amount: str = "10.00", **kw: Any) -> Any:
    """An op accepting one donation (as the API's POST runs it on the writer)."""
    rec = donations.new_record(cfg, DonationInput(amount=amount, **kw), 0)

    async def op(state: ChannelState, now: int, reads: Reads) -> Change:
        return donations.accept_donation(cfg, state, rec, now)
    return op


def commits(store: EmbeddedStore) -> list[list[int]]:
    """The seqs of each commit's events, as subscribers get them: one list per commit."""
    seen: list[list[int]] = []
    store.subscribe(lambda channel, events: seen.append([e.seq for e in events]))
    return seen


async def test_what_waits_commits_together_in_order(cfg: Any, store: FailingStore) -> None:
    writer, seen = ChannelWriter(cfg, store), commits(store)
    first = await writer.submit(donation(cfg))
    changes = await asyncio.gather(*(writer.submit(donation(cfg, f"{n}.00")) for n in range(1, 6)))
    assert len(seen) == 2  # the first alone, the five that waited for it in one commit
    assert [c.donations[0]["amount"] for c in changes] == [100, 200, 300, 400, 500]
    assert [c.base_seq for c in changes] == [first.state.seq] + [c.state.seq for c in changes[:-1]]
    assert seen[1] == list(range(first.state.seq + 1, changes[-1].state.seq + 1))
    assert (await writer.current()).totals["raised"] == 2500


async def test_an_answer_means_durable(cfg: Any, store: FailingStore, tmp_path: Path) -> None:
    change = await ChannelWriter(cfg, store).submit(donation(cfg, donor_name="Alice"))
    other = EmbeddedStore(tmp_path)  # what a restarted process reads back
    await other.open([cfg])
    try:
        assert (await other.load(cfg)).seq == change.state.seq
        assert (await other.get_donation(cfg.id, change.donations[0]["id"]))["donor_name"] == "Alice"
    finally:
        await other.close()


async def test_a_refused_op_fails_its_caller_only(cfg: Any, store: FailingStore) -> None:
    writer = ChannelWriter(cfg, store)

    async def refused(state: ChannelState, now: int, reads: Reads) -> Change:
        raise DonationError("not_held", "no", "conflict")

    async def nothing(state: ChannelState, now: int, reads: Reads) -> None:
        return None
    results = await asyncio.gather(writer.submit(donation(cfg)), writer.submit(refused), writer.submit(nothing),
                                   writer.submit(donation(cfg)), return_exceptions=True)
    assert isinstance(results[1], DonationError) and results[2] is None
    assert results[3].base_seq == results[0].state.seq
    assert (await writer.current()).totals["count"] == 2


async def test_a_failed_commit_fails_its_batch_and_the_next_op_sees_the_store(cfg: Any, store: FailingStore) -> None:
    writer = ChannelWriter(cfg, store)
    kept = await writer.submit(donation(cfg))
    store.fail_commits = 1
    with pytest.raises(StoreUnavailable):
        await writer.submit(donation(cfg, "99.00"))
    after = await writer.submit(donation(cfg, "1.00"))
    assert after.base_seq == kept.state.seq and after.state.totals["raised"] == 1100


async def test_a_commit_another_process_made_first_is_counted_before_ours(
        cfg: Any, store: FailingStore, tmp_path: Path) -> None:
    ours = ChannelWriter(cfg, store)
    await ours.submit(donation(cfg))  # ours now holds the state in memory
    other_store = EmbeddedStore(tmp_path)
    await other_store.open([cfg])
    try:
        theirs = await ChannelWriter(cfg, other_store).submit(donation(cfg, "5.00"))
    finally:
        await other_store.close()
    mine = await ours.submit(donation(cfg, "2.00"))  # conflicts, reloads, runs again on their state
    assert mine.base_seq == theirs.state.seq and mine.state.totals["raised"] == 1700


async def test_a_store_that_lost_its_data_is_reseeded_and_seq_goes_on(
        cfg: Any, store: FailingStore, tmp_path: Path) -> None:
    writer = ChannelWriter(cfg, store)
    before = await writer.submit(donation(cfg))
    with sqlite3.connect(store.path) as db:  # the data goes away under the running process
        db.execute("DELETE FROM channel_state")
    after = await writer.submit(donation(cfg))
    assert after.base_seq == before.state.seq and after.state.totals["raised"] == 2000
    assert writer.reset_at is not None


async def test_after_refuse_nothing_new_is_accepted(cfg: Any, store: FailingStore) -> None:
    writer = ChannelWriter(cfg, store)
    await writer.submit(donation(cfg))
    writer.refuse(StoreUnavailable("shutting down"))
    with pytest.raises(StoreUnavailable):
        await writer.submit(donation(cfg))
    assert (await writer.current()).totals["count"] == 1

"""One ordered writer per channel: operations queue up, are applied in order to the
state held in memory, and whatever waited commits together (group commit).

An operation is ``op(state, now, reads) -> Change | None``, a pure domain function plus
the reads it needs, made through ``reads`` (``Reads``: the store as this batch will find
it), which the writer hands it. The writer runs each on the state the previous one left, so match
cap, idempotency and seq order are exact within a batch; then it commits the batch
in one store transaction (one fsync, one Redis script) and only then answers every
caller: a 201 still means durable. While no other process writes the channel, the
writer computes on the state it holds without hearing the channel's commits (the
commit's compare-and-set checks that nothing came between). If another process committed
first (Redis), it reloads, hears the channel's commits from then on, brings its memory up
to date from the other process's published commits, and runs the batch again. See
docs/write-path.md.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from overlay import metrics
from overlay.clock import now_ms
from overlay.config import ChannelSettings
from overlay.domain import alerts
from overlay.domain.state import Applied, Change, ChannelState
from overlay.store.base import KeysTaken, Store, StoreReset, StoreUnavailable
from overlay.store.reads import Reads
from overlay.store.settle import settle

log = logging.getLogger(__name__)
Op = Callable[[ChannelState, int, Reads], Awaitable[Change | None]]
MAX_BATCH = 256       # bounds one transaction's size and the wait of the ops behind it
MAX_ATTEMPTS = 50     # batches lost to other processes' commits before giving up (503)
FOLLOW_WAIT_S = 0.25  # after a lost race, wait this long for the winner's commit before reloading
ATTEND_S = 30.0       # a writer keeps hearing its channel's commits this long after a batch that needed it
CONTENDED_S = 5.0     # after a lost race, take turns with the other processes for this long
TURN_MS = 1000        # a turn a dead or stalled process holds expires after this


@dataclass
class _Waiting:
    op: Op
    future: asyncio.Future[Change | None]
    externals: tuple[tuple[str, str], ...]  # idempotency keys the op will look up


class ChannelWriter:
    def __init__(self, cfg: ChannelSettings, store: Store):
        self.cfg, self.store = cfg, store
        self._waiting: deque[_Waiting] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._state: ChannelState | None = None  # committed, as far as this process knows
        self._heard: int | None = None  # store.hearing() when _state was loaded
        self._attended: asyncio.TimerHandle | None = None  # while set: we attend, until it fires
        self._loading = asyncio.Lock()
        self._known: ChannelState | None = None  # the last state we saw committed; re-seeds a reset store
        self._followed: list[Applied] = []
        self._followed_arrived = asyncio.Event()
        self._contended_until = 0.0
        self.reset_at: int | None = None
        self._reset_handlers: list[Callable[[], None]] = []
        self._refusal: Exception | None = None
        self._metrics: dict[str, Any] = {}  # this channel's metric children, made on first use
        store.follow(cfg.id, self._on_applied)

    @property
    def busy(self) -> bool:
        """Ops waiting or being committed."""
        return bool(self._waiting) or (self._drainer is not None and not self._drainer.done())

    def close(self) -> None:
        """This writer is dropped (its channel idle): stop following other processes' commits."""
        self.store.unfollow(self.cfg.id, self._on_applied)

    def on_reset(self, handler: Callable[[], None]) -> None:
        self._reset_handlers.append(handler)

    def refuse(self, exc: Exception) -> None:
        """From now on (shutting down) every op not yet in a batch fails with ``exc``, stored
        nowhere; the batch being committed, if any, still completes."""
        self._refusal = exc
        _fail(list(self._waiting), exc)
        self._waiting.clear()

    async def submit(self, op: Op, externals: tuple[tuple[str, str], ...] = ()) -> Change | None:
        """Queue ``op``; its Change once committed (or its DonationError, or StoreUnavailable).
        ``externals``: the (source, external_id) keys it will look up, fetched for the whole
        batch in one store call instead of one call per op."""
        if self._refusal is not None:
            raise self._refusal
        future: asyncio.Future[Change | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(op, future, externals))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name=f"writer-{self.cfg.id}")
        return await future

    async def current(self) -> ChannelState:
        """The committed state (read-only: never change it)."""
        for _ in range(3):
            try:
                return await self._load()
            except StoreReset as exc:
                await self._recover(exc)
        raise StoreUnavailable("the store keeps losing its data")

    def held(self) -> ChannelState | None:
        """The committed state if this process holds it current without a read (its channel
        heard since it was loaded), else None (read-only: never change it)."""
        heard = self.store.hearing(self.cfg.id)
        if self._state is None or heard is None or heard != self._heard:
            return None
        self._catch_up()
        return self._state

    # -- the drain loop --------------------------------------------------------------------
    async def _drain(self) -> None:
        while self._waiting:
            batch: list[_Waiting] = []
            while self._waiting and len(batch) < MAX_BATCH:
                w = self._waiting.popleft()
                if not w.future.done():  # its caller went away
                    batch.append(w)
            try:
                await self._run(batch)
            except StoreUnavailable as exc:
                # Memory may now be ahead of the store or behind it: reload before the next batch.
                # What queued meanwhile fails too, rather than wait out another deadline.
                self._state = None
                batch += self._waiting
                self._waiting.clear()
                _fail(batch, exc)
            except Exception as exc:  # a bug: fail these callers, keep the channel writable
                log.exception("writer for %s failed", self.cfg.id)
                self._state = None
                _fail(batch, exc)

    async def _attend(self) -> None:
        """Hear the channel's commits (other processes' too) while other processes write it,
        and a while after: a lost race is then followed from the winner's message rather than
        a reload; and while alerts it queued wait to play. Otherwise a writer does not hear:
        each of its own commits would come back to it only to be skipped (docs/write-path.md)."""
        loop = asyncio.get_running_loop()
        if self._attended is None:
            self._attended = loop.call_later(ATTEND_S, self._leave)
            try:
                await self.store.attend(self.cfg.id)
            except StoreUnavailable:  # not heard yet: the state is read from the store, the CAS still holds
                pass
            return
        self._attended.cancel()
        self._attended = loop.call_later(ATTEND_S, self._leave)

    def _leave(self) -> None:
        self._attended = None
        self.store.leave(self.cfg.id)

    async def _run(self, batch: list[_Waiting]) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._contended_until:
            await self._attend()
        optimistic = True  # idempotency keys assumed new: the commit checks (a retry costs one more attempt)
        held = True  # the state held in memory may be used unheard: the commit checks it
        for _ in range(MAX_ATTEMPTS):
            turn = loop.time() < self._contended_until and await self._take_turn()
            from_memory = held and self._state is not None and self.store.hearing(self.cfg.id) is None
            base = self._state if from_memory else await self.current()
            changes, results, assumed = await self._apply(base, batch, optimistic)
            if not changes:
                if turn:
                    await self.store.give_turn(self.cfg.id)
                if assumed:  # an op's answer may rest on a key being new: look it up
                    optimistic = False
                    continue
                if from_memory:  # no commit checks an answer given on the state held: read it
                    held = False
                    continue
                settle((w.future for w in batch), results)
                return
            try:
                ok, stored = await self.store.commit_batch(self.cfg.id, changes, assumed)  # gives the turn back
            except KeysTaken:
                optimistic = False
                continue
            except StoreReset as exc:
                self._metric("reset").inc()
                await self._recover(exc)
                continue
            self._metric("ok" if ok else "conflict").inc()
            if ok:
                self._metric("batch").observe(len(changes))
                self._state = self._known = changes[-1].state
                settle((w.future for w in batch), results)
                if alerts.due_at(self._state.alerts, 0) is not None:
                    # Alerts play where the channel is heard (Realtime._tick): here too, clients or not.
                    await self._attend()
                return
            self._contended_until = loop.time() + CONTENDED_S
            if self.store.hearing(self.cfg.id) is None:  # not heard: no message to follow, read it
                self._state = None
                await self._attend()
                continue
            await self._follow_until(stored)
        raise StoreUnavailable("too many concurrent writers; try again")

    def _metric(self, name: str) -> Any:
        """The commit outcome counter (ok, conflict, reset) or the batch size histogram (batch)."""
        child = self._metrics.get(name)
        if child is None:
            child = self._metrics[name] = (metrics.BATCH_OPS.labels(self.cfg.id) if name == "batch"
                                           else metrics.COMMITS.labels(self.cfg.id, name))
        return child

    async def _take_turn(self) -> bool:
        """While other processes write this channel too, compute a batch only in our turn:
        a batch computed out of turn is mostly lost to a conflict, and its work wasted
        (both processes often share a core). Called only while contended."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TURN_MS / 1000
        while not await self.store.take_turn(self.cfg.id, TURN_MS):
            if loop.time() > deadline:
                return False  # the compare-and-set still keeps it correct
            self._followed_arrived.clear()  # the holder's commit gives the turn back and publishes
            try:
                await asyncio.wait_for(self._followed_arrived.wait(), 0.02)
            except TimeoutError:
                pass
        return True

    async def _apply(self, base: ChannelState, batch: list[_Waiting], optimistic: bool
                     ) -> tuple[list[Change], list[Change | BaseException | None], list[tuple[str, str]]]:
        """The batch's changes and each op's result, and the idempotency keys assumed absent.
        ``optimistic``: the ops' declared keys are taken as new without a store read (nearly
        every key is: a donation's first delivery), and the commit checks that none is stored;
        otherwise they are looked up first (again on every attempt: another process may have
        just written one)."""
        state, changes, results = base, [], []
        reads = Reads(self.cfg.id, self.store)  # afresh on every attempt
        keys = list({key for w in batch for key in w.externals})
        assumed = keys if optimistic else []
        if optimistic:
            reads.looked_up = dict.fromkeys(keys)
        elif keys:
            reads.looked_up = await self.store.find_externals(self.cfg.id, keys)
        for w in batch:
            try:
                change = await w.op(state, now_ms(), reads)
            except StoreUnavailable:
                raise
            except Exception as exc:  # a DonationError (or a bug) is this caller's problem only
                results.append(exc)
                continue
            results.append(change)
            if change is not None:
                changes.append(change)
                reads.add(change)
                state = change.state
        return changes, results, assumed

    # -- keeping memory current ------------------------------------------------------------
    def _on_applied(self, applied: Applied) -> None:
        self._followed.append(applied)
        self._followed_arrived.set()

    async def _load(self) -> ChannelState:
        heard = self.store.hearing(self.cfg.id)
        if self.held() is None:
            self._state = None  # other processes' commits may not have reached us: read the store
            async with self._loading:  # one read for all who wait (a ticker woken with its writer)
                if self._state is None or heard is None or heard != self._heard:
                    self._followed.clear()  # what arrives from now on is applied on top of the load
                    self._heard = heard
                    self._state = self._known = await self.store.load(self.cfg)
            self._catch_up()
        assert self._state is not None
        return self._state

    def _catch_up(self) -> None:
        """Apply other processes' commits in seq order; a gap means reload."""
        followed, self._followed = self._followed, []
        for applied in followed:
            if self._state is None:
                return
            if applied.seq <= self._state.seq:
                continue  # ours, or already in what we loaded
            if applied.base_seq != self._state.seq:
                self._state = None
                return
            self._state = self._known = self._state.advanced(applied)

    async def _follow_until(self, stored_seq: int) -> None:
        """We lost a race: the winner's commit is on its way through pub/sub. Apply it
        rather than reload (a reload reads the whole alert queue)."""
        deadline = asyncio.get_running_loop().time() + FOLLOW_WAIT_S
        while self._state is not None:
            self._catch_up()
            if self._state is None or self._state.seq >= stored_seq:
                return
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            self._followed_arrived.clear()
            try:
                await asyncio.wait_for(self._followed_arrived.wait(), remaining)
            except TimeoutError:
                break
        self._state = None

    async def _recover(self, exc: StoreReset) -> None:
        """The store lost its data: put back what we hold so seq never goes backwards."""
        log.error("STORE RESET on channel %s (%s): donation records, leaderboard, idempotency keys and the "
                  "event log stored before it are lost; re-seeding totals, match, campaign, alert queue and "
                  "seq from this process's memory", self.cfg.id, exc)
        await self.store.reseed(self.cfg, self._known or ChannelState.initial(self.cfg))
        self._state = None
        self.reset_at = now_ms()
        for handler in self._reset_handlers:
            handler()


def _fail(batch: list[_Waiting], exc: BaseException) -> None:
    settle((w.future for w in batch), itertools.repeat(exc))

"""The embedded backend: one process, state in SQLite under ``storage.data_dir``.

Commits run on one dedicated thread with ``synchronous=FULL``: when ``commit_batch``
returns, the batch is on disk, in one transaction and one fsync (an answer of 201
survives a SIGKILL or a power cut). The channel's writer keeps its state in memory,
so the state is read from disk only at start-up.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from overlay.config import ChannelSettings
from overlay.domain import alerts
from overlay.domain.state import Change, ChannelState, Event
from overlay.domain.teams import TOTALS, totals_moved
from overlay.store.presets import EmbeddedPresets
from overlay.store.deliveries import EmbeddedDeliveries
from overlay.store.group_commit import GroupCommit
from overlay.store.health import EmbeddedHealth
from overlay.store.leases import EmbeddedLeases
from overlay.store.channels import EmbeddedChannels
from overlay.store.pages import EmbeddedPages
from overlay.store.team_match import EmbeddedTeamMatch
from overlay.store.teams import EmbeddedTeams
from overlay.store.team_totals import EmbeddedTeamTotals
from overlay.store.base import (HARD_LIMIT, KEEP_EVENTS, KEEP_MS, Absent, KeysTaken, Store, StoreReset,
                                StoreUnavailable, leaderboard_key)

SCHEMA = """
CREATE TABLE IF NOT EXISTS channel_state (channel TEXT PRIMARY KEY, seq INTEGER NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS donations (channel TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,
    record TEXT NOT NULL, PRIMARY KEY (channel, id));
CREATE INDEX IF NOT EXISTS donations_by_seq ON donations (channel, seq);
CREATE TABLE IF NOT EXISTS external_ids (channel TEXT NOT NULL, source TEXT NOT NULL, external_id TEXT NOT NULL,
    donation_id TEXT NOT NULL, PRIMARY KEY (channel, source, external_id));
CREATE TABLE IF NOT EXISTS leaderboard (channel TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL,
    total INTEGER NOT NULL, PRIMARY KEY (channel, key));
CREATE TABLE IF NOT EXISTS events (channel TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (channel, seq));
CREATE TABLE IF NOT EXISTS alert_queue (channel TEXT NOT NULL, pos INTEGER NOT NULL, item TEXT NOT NULL,
    PRIMARY KEY (channel, pos));
"""
# One statement per queue operation: each touches one end of the queue through the primary key.
QUEUE_SQL = {
    alerts.PUSH_BACK: "INSERT INTO alert_queue SELECT ?1, COALESCE(MAX(pos), 0) + 1, ?2 FROM alert_queue "
                      "WHERE channel = ?1",
    alerts.PUSH_FRONT: "INSERT INTO alert_queue SELECT ?1, COALESCE(MIN(pos), 0) - 1, ?2 FROM alert_queue "
                       "WHERE channel = ?1",
    alerts.POP_FRONT: "DELETE FROM alert_queue WHERE channel = ?1 AND pos = "
                      "(SELECT MIN(pos) FROM alert_queue WHERE channel = ?1)",
    alerts.POP_BACK: "DELETE FROM alert_queue WHERE channel = ?1 AND pos = "
                     "(SELECT MAX(pos) FROM alert_queue WHERE channel = ?1)",
    alerts.CLEAR: "DELETE FROM alert_queue WHERE channel = ?1",
}
TOTALS_PAGE = 500  # channels a query of channel_totals reads (SQLite bounds a statement's parameters)
TRIM_SCAN = 200  # oldest log rows looked at per commit: trimming stays O(1), however long the log


class _PartFailed(Exception):
    """A group commit's write failed half-way, outside any savepoint."""


class EmbeddedStore(EmbeddedChannels, EmbeddedTeams, EmbeddedTeamTotals, EmbeddedTeamMatch, EmbeddedPresets,
                    EmbeddedDeliveries, EmbeddedHealth, EmbeddedLeases, EmbeddedPages, Store):
    backend = "embedded"

    def __init__(self, data_dir: Path):
        super().__init__()
        self.path = Path(data_dir) / "overlay.sqlite3"
        self._db: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._seq: dict[str, int] = {}  # last seq this process committed or loaded, per channel
        self._group: GroupCommit[tuple[str, list[Change], Absent], tuple[bool, int]] = GroupCommit(
            lambda items: self._run(self._write_many, items), "embedded")

    async def _run(self, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite: {exc}") from exc

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(SCHEMA)
        self._create_team_tables(db)
        self._create_team_match_tables(db)
        self._db = db

    async def open(self, channels: list[ChannelSettings]) -> None:
        await self._run(self._connect)

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._thread.shutdown(wait=True)

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        assert self._db is not None
        return self._db.execute(sql, args).fetchall()

    async def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return await self._run(self._query, sql, args)

    def _read_state(self, cfg: ChannelSettings) -> ChannelState:
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT seq, state FROM channel_state WHERE channel = ?", (cfg.id,)).fetchone()
            if row is None:
                db.execute("ROLLBACK")
                if self._seq.get(cfg.id, 0) > 0:
                    raise StoreReset(f"channel {cfg.id}: its state is gone")
                return ChannelState.initial(cfg)
            scalars = row[1]
            legacy = ChannelState.legacy_queue(scalars)
            if legacy:  # written before the queue moved to its own table: move it there once
                scalars = ChannelState.from_json(row[0], scalars, []).to_json()
                db.executemany(QUEUE_SQL[alerts.PUSH_FRONT], [(cfg.id, json.dumps(i)) for i in reversed(legacy)])
                db.execute("UPDATE channel_state SET state = ? WHERE channel = ?", (scalars, cfg.id))
            queue = [json.loads(r[0]) for r in db.execute(
                "SELECT item FROM alert_queue WHERE channel = ? ORDER BY pos", (cfg.id,))]
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return ChannelState.from_json(row[0], scalars, queue)

    async def load(self, cfg: ChannelSettings) -> ChannelState:
        state = await self._run(self._read_state, cfg)
        self._seq[cfg.id] = state.seq
        self._delivered_up_to(cfg.id, state.seq)
        return state

    def _write_many(self, items: list[tuple[str, list[Change], Absent]]) -> list[tuple[bool, int] | BaseException]:
        """Every channel's commit in one transaction (one fsync). Nearly always every part is
        checked first and the rows of those that pass are written together, table by table;
        if a write fails, the group runs again with each part in its own savepoint, so a part
        that fails (conflict, reset, error) is rolled back alone."""
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            try:
                outcomes = self._write_together(db, items)
            except _PartFailed:
                db.execute("ROLLBACK")
                db.execute("BEGIN IMMEDIATE")
                outcomes = [self._write_part(db, *item) for item in items]
            db.execute("COMMIT")
            return outcomes
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _write_together(self, db: sqlite3.Connection, items: list[tuple[str, list[Change], Absent]]
                        ) -> list[tuple[bool, int] | BaseException]:
        """Outside any savepoint: a failure half-way raises ``_PartFailed``."""
        if len({channel for channel, _, _ in items}) < len(items):  # (a channel's part checks what it stored)
            raise _PartFailed()
        try:
            refused = [self._check(db, *item) for item in items]
            self._write_rows(db, [(channel, changes) for (channel, changes, _), no in zip(items, refused)
                                  if no is None])
        except Exception as exc:
            raise _PartFailed() from exc
        return [(True, changes[-1].state.seq) if no is None else no for (_, changes, _), no in zip(items, refused)]

    def _write_part(self, db: sqlite3.Connection, channel: str, changes: list[Change],
                    absent: Absent) -> tuple[bool, int] | BaseException:
        """One channel's commit in its own savepoint: if it fails, it is rolled back alone and
        its error is its outcome."""
        db.execute("SAVEPOINT part")
        try:
            refused = self._check(db, channel, changes, absent)
            if refused is None:
                self._write_rows(db, [(channel, changes)])
        except Exception as exc:
            db.execute("ROLLBACK TO part")
            db.execute("RELEASE part")
            return StoreUnavailable(f"SQLite: {exc}") if isinstance(exc, sqlite3.OperationalError) else exc
        db.execute("RELEASE part")
        return (True, changes[-1].state.seq) if refused is None else refused

    @staticmethod
    def _check(db: sqlite3.Connection, channel: str, changes: list[Change],
               absent: Absent) -> tuple[bool, int] | BaseException | None:
        """Why a part may not be written, found before anything is: its conflict (False, the
        stored seq) or its error; None if it may."""
        row = db.execute("SELECT seq FROM channel_state WHERE channel = ?", (channel,)).fetchone()
        stored, base = (row[0] if row else 0), changes[0].base_seq
        if stored != base:
            if stored < base:  # seq never goes backwards unless the data went away
                return StoreReset(f"channel {channel}: stored seq {stored} is behind {base}")
            return False, stored
        taken = [key for key in absent if db.execute(
            "SELECT 1 FROM external_ids WHERE channel = ? AND source = ? AND external_id = ?",
            (channel, *key)).fetchone()]
        if taken:
            return KeysTaken(f"channel {channel}: {len(taken)} idempotency key(s) already stored")
        return None

    def _write_rows(self, db: sqlite3.Connection, parts: list[tuple[str, list[Change]]]) -> None:
        """The parts' rows, one statement per table for all of them (a group spread over many
        channels paid ~9 statements a part); queue operations in order, a run of one kind a
        statement."""
        changes = [(channel, change) for channel, part in parts for change in part]
        db.executemany("INSERT OR REPLACE INTO donations VALUES (?, ?, ?, ?)",
                       [(channel, d["id"], d["seq"], json.dumps(d)) for channel, ch in changes for d in ch.donations])
        db.executemany("INSERT INTO external_ids VALUES (?, ?, ?, ?)",
                       [(channel, *ch.external) for channel, ch in changes if ch.external])
        db.executemany("INSERT INTO leaderboard VALUES (?, ?, ?, ?) ON CONFLICT (channel, key) "
                       "DO UPDATE SET total = total + excluded.total",
                       [(channel, leaderboard_key(name), name, delta)
                        for channel, ch in changes for name, delta in ch.leaderboard])
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                       [(channel, e.seq, e.ts, e.to_json()) for channel, ch in changes for e in ch.events])
        ops = [(kind, (channel, json.dumps(item)) if item is not None else (channel,))
               for channel, ch in changes for kind, item in ch.queue_ops]
        for kind, run in itertools.groupby(ops, key=lambda op: op[0]):
            db.executemany(QUEUE_SQL[kind], [args for _, args in run])
        for channel, change in changes:
            self._write_presets(db, channel, change)
        self._move_team_totals(db, [(channel, totals_moved(part)) for channel, part in parts])
        db.executemany("INSERT OR REPLACE INTO channel_state VALUES (?, ?, ?)",
                       [(channel, part[-1].state.seq, part[-1].state.to_json()) for channel, part in parts])
        for channel, part in parts:
            self._trim(db, channel, part[-1].state.seq, part[-1].now)

    @staticmethod
    def _trim(db: sqlite3.Connection, channel: str, seq: int, now: int) -> None:
        """Drop log events beyond the last KEEP_EVENTS that are older than KEEP_MS (oldest
        first, stopping at the first young one), and anything beyond HARD_LIMIT."""
        if seq <= KEEP_EVENTS:  # (every seq is one event: the log holds no more than this)
            return
        oldest = db.execute("SELECT seq, ts FROM events WHERE channel = ? AND seq <= ? ORDER BY seq LIMIT ?",
                            (channel, seq - KEEP_EVENTS, TRIM_SCAN))
        upto, first = seq - HARD_LIMIT, None
        for old_seq, ts in oldest:  # read one by one: a busy channel's oldest event is mostly young
            first = old_seq if first is None else first
            if ts >= now - KEEP_MS:
                break
            upto = max(upto, old_seq)
        oldest.close()
        if first is not None and first <= upto:
            db.execute("DELETE FROM events WHERE channel = ? AND seq <= ?", (channel, upto))

    async def commit_batch(self, channel: str, changes: list[Change], absent: Absent = ()) -> tuple[bool, int]:
        ok, seq = await self._group.submit((channel, changes, absent))
        if ok:
            self._seq[channel] = seq
            events = [e for change in changes for e in change.events]
            if events:
                await self._deliver(channel, events)
        return ok, seq

    def _reseed(self, cfg: ChannelSettings, state: ChannelState) -> None:
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT seq FROM channel_state WHERE channel = ?", (cfg.id,)).fetchone()
            if row is None or row[0] < state.seq:
                db.execute("INSERT OR REPLACE INTO channel_state VALUES (?, ?, ?)",
                           (cfg.id, state.seq, state.to_json()))
                db.execute(QUEUE_SQL[alerts.CLEAR], (cfg.id,))
                db.executemany(QUEUE_SQL[alerts.PUSH_BACK], [(cfg.id, json.dumps(i)) for i in state.alerts["queue"]])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    async def reseed(self, cfg: ChannelSettings, state: ChannelState) -> None:
        await self._run(self._reseed, cfg, state)
        self._seq.pop(cfg.id, None)

    async def get_donation(self, channel: str, donation_id: str) -> dict[str, Any] | None:
        rows = await self._rows("SELECT record FROM donations WHERE channel = ? AND id = ?", channel, donation_id)
        return json.loads(rows[0][0]) if rows else None

    async def find_external(self, channel: str, source: str, external_id: str) -> dict[str, Any] | None:
        rows = await self._rows(
            "SELECT d.record FROM external_ids x JOIN donations d ON d.channel = x.channel AND d.id = x.donation_id "
            "WHERE x.channel = ? AND x.source = ? AND x.external_id = ?", channel, source, external_id)
        return json.loads(rows[0][0]) if rows else None

    def _find_many(self, channel: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        found = {}
        for source, external_id in keys:
            row = self._query(
                "SELECT d.record FROM external_ids x JOIN donations d ON d.channel = x.channel "
                "AND d.id = x.donation_id WHERE x.channel = ? AND x.source = ? AND x.external_id = ?",
                (channel, source, external_id))
            found[(source, external_id)] = json.loads(row[0][0]) if row else None
        return found

    async def find_externals(self, channel: str,
                             keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any] | None]:
        return await self._run(self._find_many, channel, keys)  # one trip to the SQLite thread

    async def list_donations(self, channel: str, *, after_seq: int | None = None,
                             limit: int = 50) -> list[dict[str, Any]]:
        if after_seq is None:
            rows = await self._rows("SELECT record FROM donations WHERE channel = ? ORDER BY seq DESC LIMIT ?",
                                    channel, limit)
        else:
            rows = await self._rows("SELECT record FROM donations WHERE channel = ? AND seq > ? ORDER BY seq LIMIT ?",
                                    channel, after_seq, limit)
        return [json.loads(r[0]) for r in rows]

    async def recent(self, channel: str, limit: int) -> list[dict[str, Any]]:
        rows = await self._rows(
            "SELECT record FROM donations WHERE channel = ? AND json_extract(record, '$.status') = 'approved' "
            "AND json_extract(record, '$.test') = 0 ORDER BY seq DESC LIMIT ?", channel, limit)
        return [json.loads(r[0]) for r in rows]

    async def leaderboard(self, channel: str, limit: int) -> list[tuple[str, int]]:
        rows = await self._rows("SELECT name, total FROM leaderboard WHERE channel = ? AND total > 0 "
                                "ORDER BY total DESC, name LIMIT ?", channel, limit)
        return [(r[0], r[1]) for r in rows]

    async def channel_totals(self, channels: list[str]) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for start in range(0, len(channels), TOTALS_PAGE):
            page = channels[start:start + TOTALS_PAGE]
            rows = await self._rows(
                "SELECT channel, " + ", ".join(f"json_extract(state, '$.totals.{k}')" for k in TOTALS)
                + f" FROM channel_state WHERE channel IN ({', '.join('?' * len(page))})", *page)
            found.update((row[0], dict(zip(TOTALS, row[1:]))) for row in rows)
        return found

    async def events_after(self, channel: str, seq: int) -> list[Event] | None:
        if seq >= await self.load_seq(channel):
            return []
        rows = await self._rows("SELECT seq, body FROM events WHERE channel = ? AND seq > ? ORDER BY seq",
                                channel, seq)
        # Every seq is one event, so the log is contiguous: it reaches back iff it starts at seq + 1.
        if not rows or rows[0][0] != seq + 1:
            return None
        return [Event.from_json(r[1]) for r in rows]

    async def load_seq(self, channel: str) -> int:
        if channel in self._seq:
            return self._seq[channel]
        rows = await self._rows("SELECT seq FROM channel_state WHERE channel = ?", channel)
        return rows[0][0] if rows else 0

    async def ping(self) -> bool:
        await self._rows("SELECT 1")
        return True

    # Logged-out sessions. The table is created on first use so that SCHEMA stays as it is.
    _REVOKED = ("CREATE TABLE IF NOT EXISTS revoked_sessions (channel TEXT NOT NULL, id TEXT NOT NULL, "
                "expires INTEGER NOT NULL, PRIMARY KEY (channel, id))")

    def _revoke(self, channel: str, session_id: str, expires_ms: int, now: int) -> None:
        assert self._db is not None
        self._db.execute(self._REVOKED)
        self._db.execute("INSERT OR REPLACE INTO revoked_sessions VALUES (?, ?, ?)", (channel, session_id, expires_ms))
        self._db.execute("DELETE FROM revoked_sessions WHERE expires < ?", (now,))

    async def revoke_session(self, channel: str, session_id: str, expires_ms: int) -> None:
        await self._run(self._revoke, channel, session_id, expires_ms, int(time.time() * 1000))

    def _is_revoked(self, channel: str, session_id: str, now: int) -> bool:
        assert self._db is not None
        self._db.execute(self._REVOKED)
        return self._db.execute("SELECT 1 FROM revoked_sessions WHERE channel = ? AND id = ? AND expires >= ?",
                                (channel, session_id, now)).fetchone() is not None

    async def session_revoked(self, channel: str, session_id: str) -> bool:
        return bool(await self._run(self._is_revoked, channel, session_id, int(time.time() * 1000)))

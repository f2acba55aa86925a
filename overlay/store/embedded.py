"""The embedded backend: one process, state in SQLite under ``storage.data_dir``.

Commits run on one dedicated thread with ``synchronous=FULL``: when ``commit``
returns, the donation is on disk (an answer of 201 survives a SIGKILL or a power
cut). The channel state is also kept in memory, so reads never wait for the disk.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from overlay.config import ChannelSettings
from overlay.state import Change, ChannelState, Event
from overlay.store.base import HARD_LIMIT, KEEP_EVENTS, KEEP_MS, Store, StoreUnavailable, leaderboard_key

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
"""


class EmbeddedStore(Store):
    backend = "embedded"

    def __init__(self, data_dir: Path):
        super().__init__()
        self.path = Path(data_dir) / "overlay.sqlite3"
        self._db: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._states: dict[str, ChannelState] = {}

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

    async def load(self, cfg: ChannelSettings) -> ChannelState:
        if cfg.id not in self._states:
            rows = await self._rows("SELECT seq, state FROM channel_state WHERE channel = ?", cfg.id)
            self._states[cfg.id] = ChannelState.from_json(*rows[0]) if rows else ChannelState.initial(cfg)
        return self._states[cfg.id].copy()

    def _write(self, channel: str, change: Change) -> bool:
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT seq FROM channel_state WHERE channel = ?", (channel,)).fetchone()
            if (row[0] if row else 0) != change.base_seq:
                db.execute("ROLLBACK")
                return False
            self._apply(db, channel, change)
            db.execute("COMMIT")
            return True
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @staticmethod
    def _apply(db: sqlite3.Connection, channel: str, change: Change) -> None:
        st = change.state
        db.execute("INSERT OR REPLACE INTO channel_state VALUES (?, ?, ?)", (channel, st.seq, st.to_json()))
        db.executemany("INSERT OR REPLACE INTO donations VALUES (?, ?, ?, ?)",
                       [(channel, d["id"], d["seq"], json.dumps(d)) for d in change.donations])
        if change.external:
            db.execute("INSERT INTO external_ids VALUES (?, ?, ?, ?)", (channel, *change.external))
        for name, delta in change.leaderboard:
            db.execute("INSERT INTO leaderboard VALUES (?, ?, ?, ?) ON CONFLICT (channel, key) "
                       "DO UPDATE SET total = total + excluded.total",
                       (channel, leaderboard_key(name), name, delta))
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                       [(channel, e.seq, e.ts, e.to_json()) for e in change.events])
        db.execute("DELETE FROM events WHERE channel = ? AND seq <= ? AND (ts < ? OR seq <= ?)",
                   (channel, st.seq - KEEP_EVENTS, change.now - KEEP_MS, st.seq - HARD_LIMIT))

    async def commit(self, channel: str, change: Change) -> bool:
        if not await self._run(self._write, channel, change):
            self._states.pop(channel, None)
            return False
        self._states[channel] = change.state.copy()
        if change.events:
            await self._notify(channel, change.events)
        return True

    async def get_donation(self, channel: str, donation_id: str) -> dict[str, Any] | None:
        rows = await self._rows("SELECT record FROM donations WHERE channel = ? AND id = ?", channel, donation_id)
        return json.loads(rows[0][0]) if rows else None

    async def find_external(self, channel: str, source: str, external_id: str) -> dict[str, Any] | None:
        rows = await self._rows(
            "SELECT d.record FROM external_ids x JOIN donations d ON d.channel = x.channel AND d.id = x.donation_id "
            "WHERE x.channel = ? AND x.source = ? AND x.external_id = ?", channel, source, external_id)
        return json.loads(rows[0][0]) if rows else None

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
        st = self._states.get(channel)
        if st is not None:
            return st.seq
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

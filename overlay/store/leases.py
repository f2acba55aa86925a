"""Named leases: of all processes sharing a store, one holds a given lease at a time.

A donation source the server polls or connects to (overlay.intake.sources) must run once
across every worker and host, or each would poll the platform and book the same donation
concurrently. The holder proves itself with ``owner`` (a random token per process) and keeps
the lease by renewing it before ``ttl_ms`` runs out; when it dies, the lease expires and
another process takes it. The contract, on both backends:

- ``acquire_lease(name, owner, ttl_ms)`` -> True if ``owner`` holds it now (it was free or
  expired, or already ``owner``'s: then it is extended).
- ``renew_lease(name, owner, ttl_ms)`` -> True if it was still ``owner``'s (and is extended);
  False once it expired or someone else took it: the holder must stop at once.
- ``release_lease(name, owner)`` gives it back if it is still ``owner``'s.

Errors reaching the store raise ``StoreUnavailable``; a holder that cannot renew must stop
before ``ttl_ms`` runs out, as another process may take the lease then.
"""
from __future__ import annotations

import sqlite3
import time
from typing import Any

_TABLE = ("CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, "
          "expires_ms INTEGER NOT NULL)")

# KEYS[1] the lease; ARGV owner, ttl_ms. 1 if it was ours and is extended.
RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


class EmbeddedLeases:
    """For ``EmbeddedStore``: one row per lease. Only one process uses the file, but the
    contract is the same, so the sources run alike on both backends."""

    _db: sqlite3.Connection | None
    _run: Any  # EmbeddedStore's: runs a function on its SQLite thread

    def _lease_sql(self, sql: str, args: tuple[Any, ...]) -> int:
        assert self._db is not None
        self._db.execute(_TABLE)
        return self._db.execute(sql, args).rowcount

    async def acquire_lease(self, name: str, owner: str, ttl_ms: int) -> bool:
        now = _now_ms()
        changed = await self._run(self._lease_sql, (
            "INSERT INTO leases VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
            "expires_ms = excluded.expires_ms WHERE leases.owner = excluded.owner OR leases.expires_ms <= ?"),
            (name, owner, now + ttl_ms, now))
        return changed == 1

    async def renew_lease(self, name: str, owner: str, ttl_ms: int) -> bool:
        now = _now_ms()
        changed = await self._run(self._lease_sql, (
            "UPDATE leases SET expires_ms = ? WHERE name = ? AND owner = ? AND expires_ms > ?"),
            (now + ttl_ms, name, owner, now))
        return changed == 1

    async def release_lease(self, name: str, owner: str) -> None:
        await self._run(self._lease_sql, "DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))


class RedisLeases:
    """For ``RedisStore``: one key per lease holding the owner, expiring by itself."""

    redis: Any
    _call: Any  # RedisStore's: one call, bounded in time, errors as StoreUnavailable

    @staticmethod
    def _lease_key(name: str) -> str:
        return f"overlay:lease:{name}"

    async def acquire_lease(self, name: str, owner: str, ttl_ms: int) -> bool:
        if await self._call(self.redis.set(self._lease_key(name), owner, nx=True, px=ttl_ms)):
            return True
        return await self.renew_lease(name, owner, ttl_ms)

    async def renew_lease(self, name: str, owner: str, ttl_ms: int) -> bool:
        return bool(await self._call(self.redis.eval(RENEW_LUA, 1, self._lease_key(name), owner, ttl_ms)))

    async def release_lease(self, name: str, owner: str) -> None:
        await self._call(self.redis.eval(RELEASE_LUA, 1, self._lease_key(name), owner))

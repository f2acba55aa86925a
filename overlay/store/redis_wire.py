"""Many commands in one write on one pooled connection, packed here (one Redis, not a cluster).

A group commit sends thousands of small arguments a second (keys, seqs, JSON). redis-py's
own packer re-copies its output buffer for each small argument (up to several kilobytes each
time), which made packing the largest single cost of a commit spread over many channels
(docs/write-path.md). This packs each command once with hiredis (C, linear time; redis-py's
connections parse replies with it too) and hands the bytes to the connection through its
public methods (``send_packed_command``, ``read_response``): the
connection's parser still reads the replies, and its health check still runs before a
write on a connection idle for ``health_check_interval``.
"""
from __future__ import annotations

import inspect
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

# redis-py before 5.3 wants a command name (unused by a plain pool); later ones warn if given one.
_NAMED = inspect.signature(aioredis.ConnectionPool.get_connection).parameters["command_name"].default \
    is inspect.Parameter.empty


def pack(commands: list[tuple[Any, ...]]) -> bytes:
    """The RESP request of ``commands`` (each: name, then arguments: str, bytes or int)."""
    for command in commands:
        if float in map(type, command):  # hiredis would send it; money and seqs are never floats here
            raise TypeError("cannot send float to Redis")
    return b"".join(map(hiredis.pack_command, commands))  # a bool or None: TypeError


async def send_many(client: aioredis.Redis, commands: list[tuple[Any, ...]]) -> list[Any]:
    """Run ``commands`` in order, in one round trip; one reply each (a command's error reply,
    such as NOSCRIPT, as its ResponseError in its place). A connection error raises."""
    packed = pack(commands)
    pool = client.connection_pool
    conn = await (pool.get_connection("_") if _NAMED else pool.get_connection())
    try:
        await conn.send_packed_command(packed)
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(await conn.read_response())
            except ResponseError as exc:
                replies.append(exc)
        return replies
    except BaseException:
        # Replies may still be on their way (a timeout, a cancellation): this connection must
        # not go back to the pool in that state.
        await conn.disconnect()
        raise
    finally:
        await pool.release(conn)

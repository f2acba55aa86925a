"""Commands packed for Redis by overlay/store/redis_wire.py: byte for byte RESP, as redis-py sends them."""
from __future__ import annotations

import pytest
from redis.asyncio.connection import Connection

from overlay.store.redis_wire import pack

COMMANDS = [
    ("EVALSHA", "a" * 40, 2, "overlay:c1:seq", "overlay:{c1}:state", 0, -17, 12345678901234),
    ("SET", "k", '{"donor_name":"Zoë 🎉","message":"\\r\\n$3\\r\\n"}'),
    ("HSET", b"raw\x00bytes", "", "x" * 70_000),  # an empty argument; one larger than redis-py's buffer
    ("WAIT", 1, 3333),
]


def resp(command: tuple[object, ...]) -> bytes:
    """RESP's request form: an array of bulk strings (integers in decimal, text in UTF-8)."""
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in command]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%b\r\n" % (len(p), p) for p in parts)


def test_each_command_packs_as_redis_py_packs_it() -> None:
    reference = Connection()
    assert pack(COMMANDS) == b"".join(b"".join(reference.pack_command(*c)) for c in COMMANDS)
    assert pack(COMMANDS) == b"".join(map(resp, COMMANDS))


@pytest.mark.parametrize("bad", [1.5, True, None])
def test_a_float_a_bool_or_none_is_refused_before_anything_is_sent(bad: object) -> None:
    with pytest.raises(TypeError):
        pack([("SET", "k", bad)])

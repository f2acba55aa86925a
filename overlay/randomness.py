"""Random identifiers from the operating system's generator, read in blocks.

``secrets.token_hex`` makes one ``getrandom`` system call per identifier, and a system
call lets go of the interpreter lock: with the SQLite thread busy, taking it back costs a
thread switch per donation. The bytes here are the same (``os.urandom``), read 4 KiB at a
time; a forked child starts from a block of its own, never its parent's.
"""
from __future__ import annotations

import os
import threading

BLOCK = 4096
_pool = bytearray()
_lock = threading.Lock()


def token_hex(nbytes: int) -> str:
    """``nbytes`` random bytes as hex, as ``secrets.token_hex``."""
    with _lock:
        if len(_pool) < nbytes:
            _pool[:] = os.urandom(max(BLOCK, nbytes))
        taken = _pool[-nbytes:]
        del _pool[-nbytes:]
    return taken.hex()


def _forget() -> None:
    global _lock
    _lock = threading.Lock()  # (another thread may have held it when the process forked)
    _pool.clear()


os.register_at_fork(after_in_child=_forget)

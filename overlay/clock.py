"""The wall clock every layer stamps with, in integer milliseconds (the store, the services, the handlers)."""
from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000

"""The rule that decides a connection stopped reading (overlay/realtime/stalls.py), without I/O.
The whole path, a real deaf client against the real server: tests/test_hostile_processes.py."""
from __future__ import annotations

import pytest

from overlay.realtime.stalls import Watch, is_stalled

TIMEOUT = 30.0


def replay(sizes: list[int], step: float = 7.5) -> list[bool]:
    """Feed one write-buffer size per sweep (every ``step`` seconds); the verdict of each sweep."""
    watch = Watch()
    return [is_stalled(watch, size, i * step, TIMEOUT) for i, size in enumerate(sizes)]


@pytest.mark.parametrize("sizes, verdicts", [
    # a client that keeps up: nothing waits at any sweep
    ([0] * 10, [False] * 10),
    # stuck at one size: cut at the sweep 30 s after it was first seen stuck
    ([500] * 6, [False, False, False, False, True, True]),
    # growing (falls further behind at every sweep): stuck too
    ([100, 200, 300, 400, 500], [False, False, False, False, True]),
    # shrinks once in a while: it reads, so the clock starts again
    ([500, 500, 500, 400, 400, 400, 400, 300], [False] * 8),
    # empties, then stalls: the clock starts at the first non-empty sweep after it
    ([500, 500, 500, 0, 700, 700, 700, 700, 700], [False] * 8 + [True]),
])
def test_a_buffer_that_never_shrinks_for_the_timeout_is_a_stall(sizes: list[int], verdicts: list[bool]) -> None:
    assert replay(sizes) == verdicts


def test_the_clock_is_the_time_stuck_not_the_number_of_sweeps() -> None:
    watch = Watch()
    assert not is_stalled(watch, 10, 100.0, TIMEOUT)
    assert not is_stalled(watch, 10, 129.9, TIMEOUT)
    assert is_stalled(watch, 10, 130.0, TIMEOUT)

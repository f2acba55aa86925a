"""Answering the callers a batch or a group commit holds: one outcome each, in order."""
from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


def settle(futures: Iterable[asyncio.Future[Any]], outcomes: Iterable[Any]) -> None:
    """Each future gets its outcome: an exception is raised to its caller, anything else is
    its result. A future already done (its caller went away) is left alone."""
    for future, outcome in zip(futures, outcomes):
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

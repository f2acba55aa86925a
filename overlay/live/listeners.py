"""Change listeners: plain or async callbacks, called in order; one that fails never stops the rest.

The live hub (in the live process) and the live link (in the web process) both tell
listeners about live status changes this way.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Listeners:
    def __init__(self, what: str) -> None:
        self._what = what
        self._callbacks: list[Callable[..., Any]] = []
        self._tasks: set[asyncio.Future[Any]] = set()  # async listeners still running

    def add(self, callback: Callable[..., Any]) -> None:
        self._callbacks.append(callback)

    def notify(self, *args: Any) -> None:
        for callback in self._callbacks:
            try:
                result = callback(*args)
            except Exception:  # a listener's bug must not stop the others, or the caller
                log.exception("%s listener failed", self._what)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s listener failed", self._what, exc_info=task.exception())

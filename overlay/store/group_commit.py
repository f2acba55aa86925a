"""Group commit across channels: the commits of different channels that are ready at the
same moment go to the store together (one SQLite transaction and fsync, one Redis round trip).

Nothing waits on purpose: the first commit leaves at once; the commits that become ready
while it is being written wait for it and then all leave together, and so on. Each commit
gets its own outcome (a result or an exception): one channel's conflict or failure is that
channel's only. See docs/write-path.md.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from overlay import metrics
from overlay.store.settle import settle

Item = TypeVar("Item")
Result = TypeVar("Result")
# items -> one outcome per item, in order; raising fails every item of the flush
Flush = Callable[[list[Item]], Awaitable[list["Result | BaseException"]]]


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    future: asyncio.Future[Result]


class GroupCommit(Generic[Item, Result]):
    def __init__(self, flush: Flush, name: str):
        self._flush, self._name = flush, name
        self._pending: list[_Pending[Item, Result]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._run(), name=f"group-commit-{self._name}")
        # A caller that goes away cancels its own future only: the group's flush goes on and
        # settles the others (``settle`` leaves a done future alone).
        return await future

    async def _run(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            metrics.GROUP_COMMIT.labels(self._name).observe(len(group))
            try:
                outcomes = await self._flush([p.item for p in group])
            except BaseException as exc:  # the shared part failed (COMMIT, the connection): all fail
                outcomes = [exc] * len(group)
                if not isinstance(exc, Exception):
                    settle((p.future for p in group), outcomes)
                    raise
            settle((p.future for p in group), outcomes)

"""The engine.io socket queue of the fast broadcast path (overlay/realtime/fastemit.py)."""
import asyncio


class LeanQueue:
    """The part of asyncio.Queue that engine.io's socket uses (unbounded), for a
    fraction of the memory, and knowing how many packets are not fully handled.

    Sized for 10,000 idle sockets: an asyncio.Queue holds four deques (~3 KiB;
    a deque's first block alone is 760 bytes), this two small lists created on
    first use; and get() returns a plain future, so the writer's
    `asyncio.wait_for(queue.get(), ...)` wraps no extra task. A getter is
    handed its packet directly; should `wait_for` time out at that very
    moment, the socket is being closed for that timeout anyway.
    `pending`: `AsyncSocket.poll` calls task_done() only after its task
    resumes, so this also covers a packet taken off the queue but not yet sent;
    and a packet on its way, from ``hold()`` to its own task_done().
    """

    __slots__ = ('_items', '_head', '_getters', '_idle', 'pending')

    def __init__(self):
        self._items = self._getters = self._idle = None
        self._head = 0  # index of the oldest item: no O(n) pop(0) on a backlog
        self.pending = 0

    def qsize(self):
        return len(self._items) - self._head if self._items else 0

    def empty(self):
        return not self.qsize()

    def put_nowait(self, item):
        self.pending += 1
        while self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(item)
                return
        if self._items is None:
            self._items = []
        self._items.append(item)

    async def put(self, item):
        self.put_nowait(item)

    def get_nowait(self):
        if not self.qsize():
            raise asyncio.QueueEmpty
        item = self._items[self._head]
        self._items[self._head] = None
        self._head += 1
        if self._head == len(self._items):
            self._items.clear()
            self._head = 0
        return item

    def get(self) -> asyncio.Future:
        getter = asyncio.get_running_loop().create_future()
        if self.qsize():
            getter.set_result(self.get_nowait())
        else:
            if self._getters is None:
                self._getters = []
            self._getters.append(getter)
        return getter

    def hold(self):
        self.pending += 1

    def task_done(self):
        self.pending -= 1
        if self.pending <= 0 and self._idle is not None:
            self._idle.set()

    async def join(self):
        if self.pending > 0:
            if self._idle is None:
                self._idle = asyncio.Event()
            self._idle.clear()
            await self._idle.wait()

"""Run each configured source in exactly one process across every worker and host.

For each source a task loops: take the source's lease in the store (overlay.store.leases),
run the source while renewing the lease, stop the source the moment the lease is lost;
a process that is not the holder tries again a little later. When the holder dies its lease
expires within LEASE_TTL_MS and another process takes the source over.

A source is a coroutine function that runs until cancelled (it handles its own platform's
errors and back-off); if it raises anyway, the error is logged once and it is started
again after a back-off, still under the lease. Each source has its own task: one that
cannot be reached never holds up the others or the server.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from overlay import keys
from overlay.intake.sources.book import StateLog
from overlay.intake.sources.health import SourceHealth
from overlay.errors import StoreUnavailable

if TYPE_CHECKING:  # annotations only: the wiring hands it the store
    from overlay.store.base import Store

log = logging.getLogger(__name__)
LEASE_TTL_MS = 10_000
RENEW_EVERY_S = LEASE_TTL_MS / 1000 / 4
RETRY_EVERY_S = LEASE_TTL_MS / 1000 / 3
MAX_RESTART_DELAY_S = 60.0


@dataclass(frozen=True)
class Source:
    lease: str  # e.g. "donordrive:demo": one holder of this name at a time
    run: Callable[[], Awaitable[None]]
    health: SourceHealth | None = None  # its state, refreshed in the store while held


async def _run_while_held(store: Store, source: Source, owner: str, quiet: StateLog) -> None:
    """Run ``source`` until it fails or the lease is lost; restart it after failures."""
    delay = 1.0
    while True:
        task = asyncio.create_task(source.run(), name=f"source:{source.lease}")
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=RENEW_EVERY_S)
                if not task.done() and not await _renewed(store, source, owner):
                    quiet.say("lease lost, stopped")
                    return
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            if source.health is not None:
                source.health.stopped()
        exc = task.exception()
        quiet.say(f"failed ({type(exc).__name__}: {exc}); restarting", logging.ERROR)
        if not await _hold_for(store, source, owner, delay):
            return
        delay = min(delay * 2, MAX_RESTART_DELAY_S)


async def _hold_for(store: Store, source: Source, owner: str, seconds: float) -> bool:
    """Wait ``seconds`` still renewing the lease (a back-off may outlast it): False if lost."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while (left := until - loop.time()) > 0:
        await asyncio.sleep(min(left, RENEW_EVERY_S))
        if not await _renewed(store, source, owner):
            return False
    return True


async def _renewed(store: Store, source: Source, owner: str) -> bool:
    try:
        held = await store.renew_lease(source.lease, owner, LEASE_TTL_MS)
    except StoreUnavailable:
        return False  # another process may take it once it expires: stop now, not later
    if held and source.health is not None:
        await source.health.beat()
    return held


async def hold_and_run(store: Store, source: Source, owner: str) -> None:
    """The loop of one source in one process, until cancelled."""
    quiet = StateLog(source.lease)
    try:
        while True:
            try:
                held = await store.acquire_lease(source.lease, owner, LEASE_TTL_MS)
            except StoreUnavailable as exc:
                quiet.say(f"store unavailable ({exc})")
                held = False
            if held:
                quiet.say("running here", logging.INFO)
                if source.health is not None:
                    await source.health.state("starting", level=logging.DEBUG)
                await _run_while_held(store, source, owner, quiet)
            else:
                quiet.say("held by another process", logging.DEBUG)
            await asyncio.sleep(RETRY_EVERY_S)
    finally:
        try:
            await asyncio.shield(store.release_lease(source.lease, owner))
        except (StoreUnavailable, asyncio.CancelledError):
            pass  # it expires by itself


def sources_context(make_sources: Callable[[web.Application], list[Source]]):  # noqa: ANN201
    """A cleanup_ctx that runs the app's sources while the app runs."""
    async def run_sources(app: web.Application) -> AsyncIterator[None]:
        owner = secrets.token_hex(8)
        tasks = [asyncio.create_task(hold_and_run(app[keys.STORE], s, owner)) for s in make_sources(app)]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return run_sources

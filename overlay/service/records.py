"""A channel's stored records besides its state, read and written for its handlers: donations,
presets, webhook delivery ids, integration status and delivery health. Part of ``ChannelService``
(mixed in), so a handler never holds the store."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from overlay.config import ChannelSettings
from overlay.store.base import Store

PAGE = 500  # donations per read when walking all of them


class ChannelRecords:
    """Mixed into ``ChannelService``: uses its ``cfg`` and ``store``."""

    cfg: ChannelSettings
    _store: Store

    # -- donations -------------------------------------------------------------------------
    async def get_donation(self, donation_id: str) -> dict[str, Any] | None:
        return await self._store.get_donation(self.cfg.id, donation_id)

    async def find_external(self, source: str, external_id: str) -> dict[str, Any] | None:
        return await self._store.find_external(self.cfg.id, source, external_id)

    async def find_externals(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any] | None]:
        return await self._store.find_externals(self.cfg.id, keys)

    async def donations_page(self, *, after_seq: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        return await self._store.list_donations(self.cfg.id, after_seq=after_seq, limit=limit)

    async def all_donations(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Every stored donation, oldest first, a page at a time, each once."""
        seen: set[str] = set()  # a donation changed during the walk moves to a later seq: count it once
        after = 0
        while True:
            page = await self.donations_page(after_seq=after, limit=PAGE)
            fresh = [r for r in page if r["id"] not in seen]
            seen.update(r["id"] for r in fresh)
            if fresh:
                yield fresh
            if len(page) < PAGE:
                return
            after = page[-1]["seq"]

    async def leaderboard(self, limit: int) -> list[tuple[str, int]]:
        return await self._store.leaderboard(self.cfg.id, limit)

    # -- presets ---------------------------------------------------------------------------
    async def get_preset(self, widget: str, name: str) -> dict[str, Any] | None:
        return await self._store.get_preset(self.cfg.id, widget, name)

    async def list_presets(self, widget: str) -> dict[str, dict[str, Any]]:
        return await self._store.list_presets(self.cfg.id, widget)

    # -- integrations ----------------------------------------------------------------------
    async def delivery_seen(self, provider: str, delivery_id: str) -> bool:
        return await self._store.delivery_seen(self.cfg.id, provider, delivery_id)

    async def remember_delivery(self, provider: str, delivery_id: str, expires_ms: int) -> None:
        await self._store.remember_delivery(self.cfg.id, provider, delivery_id, expires_ms)

    async def put_integration_status(self, provider: str, name: str, status: dict[str, Any]) -> None:
        await self._store.put_integration_status(self.cfg.id, provider, name, status)

    async def integration_status(self) -> dict[str, dict[str, dict[str, Any]]]:
        return await self._store.integration_status(self.cfg.id)

    async def record_delivery(self, provider: str, outcome: str, at_ms: int, count: int = 1,
                              last: bool = True) -> None:
        await self._store.record_delivery(self.cfg.id, provider, outcome, at_ms, count=count, last=last)

    async def delivery_health(self, now_ms: int) -> dict[str, dict[str, Any]]:
        return await self._store.delivery_health(self.cfg.id, now_ms)

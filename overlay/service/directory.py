"""The records the admin API and the sign-in keep beside the channels' own data: stored channels'
records, invites and logged-out sessions. The admin handlers read and write them here
(``keys.DIRECTORY``), never through the store; team records go through the team board."""
from __future__ import annotations

from typing import Any

from overlay.store.base import Store


class Directory:
    def __init__(self, store: Store):
        self._store = store

    # -- stored channels (docs/channels.md) --------------------------------------------------
    async def channel(self, channel_id: str) -> dict[str, Any] | None:
        return await self._store.get_channel(channel_id)

    async def put_channel(self, channel_id: str, record: dict[str, Any], *, create: bool) -> bool:
        """False if ``create`` and the channel exists. Every process hears of the change."""
        return await self._store.put_channel(channel_id, record, create=create)

    async def delete_channel(self, channel_id: str) -> bool:
        return await self._store.delete_channel(channel_id)

    async def channels(self, q: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        return await self._store.list_channels(q, limit, cursor)

    async def has_donations(self, channel_id: str) -> bool:
        return bool(await self._store.list_donations(channel_id, limit=1))

    # -- invites -----------------------------------------------------------------------------
    async def put_invite(self, invite_id: str, record: dict[str, Any]) -> None:
        await self._store.put_invite(invite_id, record)

    async def invite(self, invite_id: str) -> dict[str, Any] | None:
        return await self._store.get_invite(invite_id)

    async def use_invite(self, invite_id: str, now_ms: int) -> bool:
        return await self._store.use_invite(invite_id, now_ms)

    # -- moderator sessions ------------------------------------------------------------------
    async def revoke_session(self, channel: str, session_id: str, expires_ms: int) -> None:
        await self._store.revoke_session(channel, session_id, expires_ms)

    async def session_revoked(self, channel: str, session_id: str) -> bool:
        return await self._store.session_revoked(channel, session_id)

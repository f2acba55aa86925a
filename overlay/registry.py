"""Which channels exist, with which settings: the one place that answers it.

Two sources: config.yaml's channels (fixed for the life of the process) and channels stored
through the admin API (docs/channels.md). A channel's ``ChannelService`` is created on first
use, so its state is loaded then rather than at start-up. A stored channel that changes
(created, patched, disabled, rotated) on any process reaches this one through the store's
channel notifications (``Store.watch_channels``); listeners (``on_change``) then learn which
channel changed, with its old and new settings (None: unknown or disabled).

Stored records are kept as read and validated into settings on first use: validating one
takes a third of a millisecond, so 10,000 of them at start-up would take seconds.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from overlay import metrics
from overlay.channel_records import settings_of
from overlay.config import ChannelSettings, Config
from overlay.service.channel import ChannelService
from overlay.store.base import Store
from overlay.store.teams import team_notice

log = logging.getLogger(__name__)
ChangeListener = Callable[[str, "ChannelSettings | None", "ChannelSettings | None"], None]
RELOAD_PAGE = 1_000_000  # every record in one read: on Redis each page is one HVALS of them all


class ChannelRegistry:
    def __init__(self, config: Config, store: Store):
        self.config, self.store = config, store
        self._config = {c.id: c for c in config.channels}
        self._stored: dict[str, dict[str, Any]] = {}   # enabled stored channels' records
        self._parsed: dict[str, ChannelSettings] = {}   # their settings, once asked for
        self._disabled: set[str] = set()
        self._services: dict[str, ChannelService] = {}
        self._used: dict[str, float] = {}   # channel -> monotonic time of its service's last use
        self._kept: set[str] = set()        # services something holds for good (a source): never dropped
        self._listeners: list[ChangeListener] = []
        self._enabled_listeners: list[Callable[[str], None]] = []
        self._created: list[Callable[[ChannelService], None]] = []
        store.watch_channels(self.reload)

    # -- questions -------------------------------------------------------------------------
    def settings(self, channel_id: object) -> ChannelSettings | None:
        """The channel's settings; None for an unknown or disabled channel."""
        if not isinstance(channel_id, str):
            return None
        found = self._config.get(channel_id) or self._parsed.get(channel_id)
        if found is not None or channel_id not in self._stored:
            return found
        try:
            found = self._parsed[channel_id] = settings_of(self._stored[channel_id])
        except ValueError as exc:  # a record written by a newer version, say: keep it off
            log.error("stored channel %s is not valid here and stays off: %s", channel_id, exc)
            del self._stored[channel_id]
            self._disabled.add(channel_id)
        return found

    def service(self, channel_id: object, *, keep: bool = False) -> ChannelService | None:
        """The channel's service, created (its state loaded on first read) if need be; each call
        is a use that keeps it in memory. ``keep``: the caller holds it for good, never drop it."""
        cfg = self.settings(channel_id)
        if cfg is None:
            return None
        svc = self._services.get(cfg.id)
        if svc is None:
            svc = self._services[cfg.id] = ChannelService(cfg, self.store)
            metrics.CHANNELS_LOADED.set(len(self._services))
            for created in self._created:
                created(svc)
        self._used[cfg.id] = time.monotonic()
        if keep:
            self._kept.add(cfg.id)
        return svc

    def loaded(self, channel_id: str) -> ChannelService | None:
        """The channel's service if it is in memory, without counting as a use."""
        return self._services.get(channel_id)

    def unused_for(self, seconds: float) -> list[str]:
        """Channels whose service nobody asked for in ``seconds`` (and that nothing keeps)."""
        return [c for c in self._used if self.unused(c, seconds)]

    def unused(self, channel_id: str, seconds: float) -> bool:
        used = self._used.get(channel_id)
        return used is not None and used <= time.monotonic() - seconds and channel_id not in self._kept

    def drop(self, channel_id: str) -> None:
        """Forget the channel's service: the next use reads its state from the store again."""
        svc = self._services.pop(channel_id, None)
        self._used.pop(channel_id, None)
        if svc is not None:
            svc.writer.close()
            metrics.CHANNELS_LOADED.set(len(self._services))

    def is_disabled(self, channel_id: str) -> bool:
        return channel_id in self._disabled

    def in_config(self, channel_id: str) -> bool:
        return channel_id in self._config

    def config_ids(self) -> list[str]:
        return list(self._config)

    def ids(self) -> list[str]:
        """Every enabled channel, config channels first."""
        return list(self._config) + sorted(self._stored)

    def ids_setting(self, key: str) -> list[str]:
        """The enabled channels whose settings may set ``key`` (a top-level setting, such as
        ``sources``): every config channel, the stored ones whose record has it."""
        return list(self._config) + sorted(c for c, record in self._stored.items() if record.get(key))

    def services(self) -> list[ChannelService]:
        """The services created so far (those with state in memory), disabled ones included."""
        return list(self._services.values())

    # -- changes ---------------------------------------------------------------------------
    def on_change(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def on_enabled(self, listener: Callable[[str], None]) -> None:
        """``listener(channel)`` when a stored channel becomes enabled (created, re-enabled, or
        first read): cheap to tell, as no settings are parsed for it."""
        self._enabled_listeners.append(listener)

    def on_service(self, created: Callable[[ChannelService], None]) -> None:
        """``created(service)`` for each service made from now on."""
        self._created.append(created)

    async def reload(self, channel_id: str | None = None) -> None:
        """Read one stored channel again (None: all of them, after a missed notification)."""
        if team_notice(channel_id) is not None:
            return  # a stored team's: the team board's
        if channel_id is not None:
            self.apply(channel_id, await self.store.get_channel(channel_id))
            return
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            records, cursor = await self.store.list_channels("", RELOAD_PAGE, cursor)
            for record in records:
                seen.add(record["id"])
                self.apply(record["id"], record)
            if cursor is None:
                break
        for gone in (set(self._stored) | self._disabled) - seen:
            self.apply(gone, None)

    def apply(self, channel_id: str, record: dict[str, Any] | None) -> None:
        """Take a stored channel's record (None: deleted) as the truth about it. Listeners are
        told of a change to a channel that was enabled before; one newly enabled has no client yet."""
        if channel_id in self._config:
            return  # config.yaml wins; the admin API refuses to store such a channel
        before = self._stored.get(channel_id)
        enabled = record is not None and not record.get("disabled")
        if enabled and before == record:
            return
        old = self.settings(channel_id) if before is not None else None
        self._stored.pop(channel_id, None)
        self._parsed.pop(channel_id, None)
        self._disabled.discard(channel_id)
        if enabled:
            assert record is not None
            self._stored[channel_id] = record
        elif record is not None:
            self._disabled.add(channel_id)
        svc = self._services.get(channel_id)
        new = self.settings(channel_id) if enabled and (old is not None or svc is not None) else None
        if svc is not None and new is not None:
            svc.reconfigure(new)
        if old is not None and old != new:
            for listener in self._listeners:
                listener(channel_id, old, new)
        if enabled and before is None:  # enabled again, or first read: no settings parsed for it here
            for on_enabled in self._enabled_listeners:
                on_enabled(channel_id)

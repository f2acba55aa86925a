"""What a writer's operation may read besides the state (overlay/store/writer.py): the store
as the operation's batch will find it once committed."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from overlay.domain.state import Change
from overlay.store.base import Store


@dataclass
class Reads:
    """What an op may read besides the state, as its batch's commit will find it: the store,
    plus what earlier ops of the batch wrote (not committed yet), plus the idempotency keys
    looked up for the whole batch at once."""
    channel: str
    store: Store
    looked_up: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    written_keys: dict[tuple[str, str], str] = field(default_factory=dict)  # idempotency key -> donation id
    presets: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)

    async def donation(self, donation_id: str) -> dict[str, Any] | None:
        """The donation record, as written by an earlier op of the batch or else stored."""
        return self.records.get(donation_id) or await self.store.get_donation(self.channel, donation_id)

    async def external(self, source: str, external_id: str) -> dict[str, Any] | None:
        """The donation stored under an idempotency key (two ops, one donation: the batch counts)."""
        donation_id = self.written_keys.get((source, external_id))
        if donation_id is not None:
            return self.records[donation_id]
        key = (source, external_id)
        if key not in self.looked_up:
            return await self.store.find_external(self.channel, source, external_id)
        rec = self.looked_up[key]
        return None if rec is None else self.records.get(rec["id"], rec)  # changed in this batch?

    async def preset_names(self, widget: str) -> set[str]:
        """The widget's preset names: stored, then changed by earlier ops of the batch."""
        names = set(await self.store.list_presets(self.channel, widget))
        for (w, name), settings in self.presets.items():
            if w != widget:
                continue
            if settings is None:
                names.discard(name)
            else:
                names.add(name)
        return names

    def add(self, change: Change) -> None:
        for rec in change.donations:
            self.records[rec["id"]] = rec
        for widget, name, settings in change.presets:
            self.presets[(widget, name)] = settings
        if change.external:
            self.written_keys[change.external[:2]] = change.external[2]

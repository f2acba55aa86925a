"""A channel's widget presets, written by its ordered writer (part of ``ChannelService``,
like its incentive operations): the limit on their number is checked in the commit that writes them."""
from __future__ import annotations

from typing import Any

from overlay.domain import presets
from overlay.domain.state import Change, ChannelState
from overlay.store.reads import Reads


class PresetOps:
    """Mixed into ``ChannelService``: uses its ``cfg`` and ``mutate``."""

    def _preset_values(self, widget: str, values: dict[str, Any]) -> dict[str, Any]:
        return presets.effective(widget, self.cfg.widgets.get(widget, {}), values)

    async def save_preset(self, widget: str, name: str, values: dict[str, Any]) -> bool:
        """Store the preset and announce it to overlays; True if it is new."""
        full, created = self._preset_values(widget, values), False

        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            nonlocal created
            known = await reads.preset_names(widget)
            created = name not in known
            return presets.save(state, now, widget, name, values, full, known)
        await self.mutate(op)
        return created

    async def delete_preset(self, widget: str, name: str) -> None:
        """Delete it (404 if there is none); overlays showing it fall back to the channel's settings."""
        fallback = self._preset_values(widget, {})

        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return presets.delete(state, now, widget, name, fallback, await reads.preset_names(widget))
        await self.mutate(op)

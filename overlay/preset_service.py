"""A channel's widget presets, written by its ordered writer (like ``incentive_service``'s
operations): the limit on their number is checked in the commit that writes them."""
from __future__ import annotations

from typing import Any

from overlay.domain import presets
from overlay.domain.state import Change, ChannelState
from overlay.service import ChannelService
from overlay.store.writer import Reads


def _full(svc: ChannelService, widget: str, values: dict[str, Any]) -> dict[str, Any]:
    return presets.effective(widget, svc.cfg.widgets.get(widget, {}), values)


async def save(svc: ChannelService, widget: str, name: str, values: dict[str, Any]) -> bool:
    """Store the preset and announce it to overlays; True if it is new."""
    full, created = _full(svc, widget, values), False

    async def op(state: ChannelState, now: int, reads: Reads) -> Change:
        nonlocal created
        known = await reads.preset_names(widget)
        created = name not in known
        return presets.save(state, now, widget, name, values, full, known)
    await svc.mutate(op)
    return created


async def delete(svc: ChannelService, widget: str, name: str) -> None:
    """Delete it (404 if there is none); overlays showing it fall back to the channel's settings."""
    fallback = _full(svc, widget, {})

    async def op(state: ChannelState, now: int, reads: Reads) -> Change:
        return presets.delete(state, now, widget, name, fallback, await reads.preset_names(widget))
    await svc.mutate(op)

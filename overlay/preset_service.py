"""A channel's widget presets, written by its ordered writer (like ``incentive_service``'s
operations): the limit on their number is checked in the commit that writes them."""
from __future__ import annotations

from typing import Any

from overlay.domain import presets
from overlay.domain.state import Change, ChannelState
from overlay.service import ChannelService


async def _names(svc: ChannelService, widget: str) -> set[str]:
    """The widget's preset names as an op sees them: stored, then changed earlier in its batch."""
    names = set(await svc.store.list_presets(svc.cfg.id, widget))
    for name, settings in svc.writer.pending_presets(widget).items():
        if settings is None:
            names.discard(name)
        else:
            names.add(name)
    return names


def _full(svc: ChannelService, widget: str, values: dict[str, Any]) -> dict[str, Any]:
    return presets.effective(widget, svc.cfg.widgets.get(widget, {}), values)


async def save(svc: ChannelService, widget: str, name: str, values: dict[str, Any]) -> bool:
    """Store the preset and announce it to overlays; True if it is new."""
    full, created = _full(svc, widget, values), False

    async def op(state: ChannelState, now: int) -> Change:
        nonlocal created
        known = await _names(svc, widget)
        created = name not in known
        return presets.save(state, now, widget, name, values, full, known)
    await svc.mutate(op)
    return created


async def delete(svc: ChannelService, widget: str, name: str) -> None:
    """Delete it (404 if there is none); overlays showing it fall back to the channel's settings."""
    fallback = _full(svc, widget, {})

    async def op(state: ChannelState, now: int) -> Change:
        return presets.delete(state, now, widget, name, fallback, await _names(svc, widget))
    await svc.mutate(op)

"""A channel's alert variations as its state holds them (overlay.domain.alert_variations):
which list applies, its wire form, and the run-time change, committed on the channel's
ordered writer and sent to the moderators as an ``alert_variations`` event."""
from __future__ import annotations

from typing import Any

from overlay.settings.channel import ChannelSettings
from overlay.domain import alert_variations
from overlay.domain.state import DASHBOARD, Change, ChannelState


def config_items(cfg: ChannelSettings) -> list[dict[str, Any]]:
    """config.yaml's list, as stored (checked when the config loaded: this cannot fail)."""
    if not cfg.alerts.variations:
        return []
    return alert_variations.check(cfg.alerts.variations, cfg.currency, {i.id for i in cfg.incentives})


def items(cfg: ChannelSettings, state: ChannelState) -> list[dict[str, Any]]:
    """The list that applies now: the moderators' once changed, else config.yaml's."""
    changed = (state.variations or {}).get("items")
    return config_items(cfg) if changed is None else changed


def pick(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], *,
         counts: bool) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(``state.variations`` after this alert, the variation it shows): chosen now, once.
    A channel without variations keeps nothing."""
    applying = items(cfg, state)
    if not applying:
        return state.variations, None
    return alert_variations.pick(applying, state.variations, rec, counts=counts)


def public(cfg: ChannelSettings, state: ChannelState) -> dict[str, Any]:
    """The wire form (docs/api.md): what applies, whether it is config.yaml's, config.yaml's."""
    changed = (state.variations or {}).get("items")
    return {"variations": alert_variations.public(items(cfg, state), cfg.currency),
            "changed": changed is not None,
            "config": alert_variations.public(config_items(cfg), cfg.currency)}


def set_variations(cfg: ChannelSettings, state: ChannelState, new: list[dict[str, Any]] | None, now: int) -> Change:
    """Store the list (None: back to config.yaml's) and tell the moderators."""
    ch = Change.begin(state, now)
    ch.state.variations = {**(state.variations or alert_variations.empty()), "items": new}
    ch.emit("alert_variations", DASHBOARD, {"alert_variations": public(cfg, ch.state)})
    return ch

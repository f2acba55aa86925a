"""A channel's alert timing: how long an alert plays, per tier, and the pause between two.

config.yaml gives it (``alerts.duration_ms``, ``alerts.gap_ms``, ``alerts.tiers[i].duration_ms``);
moderators may change it at run time (``PUT …/alerts/timing``, the widget editor). It is
channel-wide, not a widget setting: every alert box of a channel plays the one queue the
server schedules. The change is part of the channel's committed state (``ChannelState.timing``),
made by an operation on its ordered writer like a donation, so it is the same in every
worker, survives a restart, and is ordered exactly with donations:

- an alert queued after the change gets the new duration; alerts already waiting (and the
  one playing) keep the duration they were queued with;
- the gap applies to the next alert started after the change (after the playing one too).

``state.timing`` holds only the changes: ``{"duration_ms": int | None, "gap_ms": int | None,
"tiers": {"<tier min amount in minor units>": int}}``; None, or a key left out, means
config.yaml's value. Tiers are config.yaml's: only their durations can change.
"""
from __future__ import annotations

from typing import Any

from overlay.settings.channel import ChannelSettings, TierSettings
from overlay.domain import money
from overlay.domain.state import DASHBOARD, Change, ChannelState
from overlay.errors import Refusal


class TimingError(Refusal, ValueError):
    """A timing the API refuses (kind "invalid": 422)."""


def _changed(state: ChannelState) -> dict[str, Any]:
    return state.timing or {}


def duration_ms(cfg: ChannelSettings, state: ChannelState) -> int:
    value = _changed(state).get("duration_ms")
    return cfg.alerts.duration_ms if value is None else value


def gap_ms(cfg: ChannelSettings, state: ChannelState) -> int:
    value = _changed(state).get("gap_ms")
    return cfg.alerts.gap_ms if value is None else value


def tier_key(cfg: ChannelSettings, tier: TierSettings) -> str:
    return str(money.setting_amount(tier.min_amount, cfg.currency))


def for_tier(cfg: ChannelSettings, state: ChannelState,
             tier: TierSettings | None) -> tuple[dict[str, Any] | None, int]:
    """(the tier as an alert carries it, the alert's duration before any speech is added)."""
    if tier is None:
        return None, duration_ms(cfg, state)
    shown = tier.model_dump(mode="json")
    changed = _changed(state).get("tiers", {}).get(tier_key(cfg, tier))
    if changed is not None:
        shown["duration_ms"] = changed
    return shown, shown["duration_ms"] or duration_ms(cfg, state)


def config_tiers(cfg: ChannelSettings) -> dict[str, TierSettings]:
    """key -> tier, by amount; of two tiers with one amount, the one an alert gets (the last)."""
    return {tier_key(cfg, t): t for t in sorted(cfg.alerts.tiers, key=lambda t: t.min_amount)}


def check(cfg: ChannelSettings, duration: int | None, gap: int | None,
          tiers: list[tuple[Any, int | None]]) -> dict[str, Any] | None:
    """The changes to store (None: none, config.yaml's timing) from what a moderator sent:
    ``tiers`` as (min_amount, duration or None). Bounds are the model's; this checks tiers."""
    known, out = config_tiers(cfg), {}
    for amount, tier_duration in tiers:
        try:
            key = str(money.parse_amount(amount, cfg.currency, allow_zero=True))
        except money.MoneyError as exc:
            raise TimingError("invalid_tiers", f"tiers: min_amount {str(amount)[:40]!r}: {exc}") from None
        if key not in known:
            raise TimingError("unknown_tier", f"tiers: no tier from {str(amount)[:40]} in config.yaml; "
                              f"tiers: {', '.join(_amount(cfg, k) for k in known) or 'none'}")
        if key in out:
            raise TimingError("invalid_tiers", f"tiers: the tier from {_amount(cfg, key)} is given twice")
        out[key] = tier_duration
    changed = {k: v for k, v in out.items() if v is not None}
    if duration is None and gap is None and not changed:
        return None
    return {"duration_ms": duration, "gap_ms": gap, "tiers": changed}


def _amount(cfg: ChannelSettings, key: str) -> str:
    return money.to_decimal_string(int(key), cfg.currency)


def public(cfg: ChannelSettings, state: ChannelState) -> dict[str, Any]:
    """The wire form (docs/api.md): the changes (null: config.yaml's), what applies, config.yaml's."""
    changed = _changed(state)
    base = duration_ms(cfg, state)
    tiers = config_tiers(cfg)
    set_tiers = changed.get("tiers", {})
    return {
        "duration_ms": changed.get("duration_ms"), "gap_ms": changed.get("gap_ms"),
        "tiers": [{"min_amount": _amount(cfg, k), "duration_ms": set_tiers.get(k)} for k in tiers],
        "effective": {"duration_ms": base, "gap_ms": gap_ms(cfg, state), "tiers": [
            {"min_amount": _amount(cfg, k), "duration_ms": set_tiers.get(k) or t.duration_ms or base}
            for k, t in tiers.items()]},
        "config": {"duration_ms": cfg.alerts.duration_ms, "gap_ms": cfg.alerts.gap_ms, "tiers": [
            {"min_amount": _amount(cfg, k), "duration_ms": t.duration_ms} for k, t in tiers.items()]},
    }


def set_timing(cfg: ChannelSettings, state: ChannelState, changes: dict[str, Any] | None, now: int) -> Change:
    """Store the changes (None: back to config.yaml's) and tell the moderators."""
    ch = Change.begin(state, now)
    ch.state.timing = changes
    ch.emit("alert_timing", DASHBOARD, {"alert_timing": public(cfg, ch.state)})
    return ch

"""The subathon timer: a countdown that donations extend (docs/timer.md). Pure functions.

The timer is part of the channel's state, so its end moves in the same commit as the
donation that moved it: every overlay, worker and host shows the same second, and a restart
or reconnect neither loses nor counts time twice. State (``ChannelState.timer``, None until
first started): ``ends_at`` (ms, None while paused), ``paused``, ``remaining_ms`` (while
paused), ``added_ms`` (added by donations, what ``cap_s`` bounds)."""
from __future__ import annotations

from typing import Any

from overlay.settings.channel import ChannelSettings
from overlay.domain import money, wire
from overlay.domain.state import OVERLAY, Change, ChannelState
from overlay.settings.timer import MAX_SECONDS
from overlay.errors import Refusal


class TimerError(Refusal, ValueError):
    """An action the timer's state forbids (kind "conflict") or a bad value ("invalid")."""


def _left(timer: dict[str, Any], now: int) -> int:
    return timer["remaining_ms"] if timer["paused"] else max(0, timer["ends_at"] - now)


def donation_ms(cfg: ChannelSettings, rec: dict[str, Any], now: int) -> int:
    """Time this donation adds before the cap: its first matching rule, times a happy hour's multiplier."""
    t = cfg.timer
    amount = rec["amount"]
    if (rec["test"] and not t.count_tests) or amount < money.setting_amount(t.min_amount, cfg.currency):
        return 0
    chosen = (rec.get("incentive") or {}).get("id")
    for rule in t.rules:
        if amount >= money.setting_amount(rule.min_amount, cfg.currency) and rule.incentive in (None, chosen):
            units = amount // 10 ** money.exponent(cfg.currency)  # whole units of the currency
            seconds = rule.seconds + rule.seconds_per_unit * units
            break
    else:
        return 0
    for hour in t.happy_hours:
        if wire.to_ms(hour.starts_at) <= now < wire.to_ms(hour.ends_at):
            seconds *= hour.multiplier
            break
    return int(min(seconds, MAX_SECONDS) * 1000)


def extend(cfg: ChannelSettings, ch: Change, rec: dict[str, Any]) -> None:
    """A donation counted in ``ch``: add its time to a timer that is still counting down (or paused)."""
    timer = ch.state.timer
    if timer is None or _left(timer, ch.now) == 0:
        return  # never started, or over: a finished subathon stays finished
    add = donation_ms(cfg, rec, ch.now)
    if cfg.timer.cap_s is not None:
        add = min(add, max(0, cfg.timer.cap_s * 1000 - timer["added_ms"]))
    if add <= 0:
        return
    ch.state.timer = _shifted(timer, add, ch.now) | {"added_ms": timer["added_ms"] + add}
    _emit(cfg, ch)


def _shifted(timer: dict[str, Any], delta_ms: int, now: int) -> dict[str, Any]:
    """``timer`` with ``delta_ms`` more (or less, never below zero) left."""
    if timer["paused"]:
        return dict(timer, remaining_ms=max(0, timer["remaining_ms"] + delta_ms))
    return dict(timer, ends_at=max(now, timer["ends_at"] + delta_ms))


def start(cfg: ChannelSettings, state: ChannelState, seconds: int | None, now: int) -> Change:
    """Start (or restart) the countdown: ``seconds`` or ``timer.initial_s`` from now, nothing added yet."""
    ch = Change.begin(state, now)
    length = cfg.timer.initial_s if seconds is None else _seconds(seconds, low=1)
    ch.state.timer = {"ends_at": now + length * 1000, "paused": False, "remaining_ms": None, "added_ms": 0}
    _emit(cfg, ch)
    return ch


def pause(cfg: ChannelSettings, state: ChannelState, now: int) -> Change:
    timer = _started(state)
    if timer["paused"]:
        raise TimerError("timer_paused", "the timer is paused already", "conflict")
    ch = Change.begin(state, now)
    ch.state.timer = dict(timer, paused=True, ends_at=None, remaining_ms=_left(timer, now))
    _emit(cfg, ch)
    return ch


def resume(cfg: ChannelSettings, state: ChannelState, now: int) -> Change:
    timer = _started(state)
    if not timer["paused"]:
        raise TimerError("timer_running", "the timer is not paused", "conflict")
    ch = Change.begin(state, now)
    ch.state.timer = dict(timer, paused=False, ends_at=now + timer["remaining_ms"], remaining_ms=None)
    _emit(cfg, ch)
    return ch


def add(cfg: ChannelSettings, state: ChannelState, seconds: int, now: int) -> Change:
    """A moderator adds time (or takes it away with a negative number, down to zero)."""
    timer = _started(state)
    ch = Change.begin(state, now)
    ch.state.timer = _shifted(timer, _seconds(seconds, low=-MAX_SECONDS) * 1000, now)
    _emit(cfg, ch)
    return ch


def _started(state: ChannelState) -> dict[str, Any]:
    if state.timer is None:
        raise TimerError("timer_not_started", "start the timer first", "conflict")
    return state.timer


def _seconds(value: int, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_SECONDS:
        raise TimerError("invalid_seconds", f"seconds must be a whole number from {low} to {MAX_SECONDS}")
    return value


def _emit(cfg: ChannelSettings, ch: Change) -> None:
    ch.emit("timer", OVERLAY, {"timer": public(cfg, ch.state.timer)})


def public(cfg: ChannelSettings, timer: dict[str, Any] | None) -> dict[str, Any]:
    """The ``timer`` object of the snapshot and the ``timer`` event (API.md §8)."""
    cap_ms = None if cfg.timer.cap_s is None else cfg.timer.cap_s * 1000
    if timer is None:
        return {"started": False, "ends_at": None, "paused": False, "remaining_ms": None, "added_ms": 0,
                "cap_ms": cap_ms}
    return {"started": True, "ends_at": timer["ends_at"], "paused": timer["paused"],
            "remaining_ms": timer["remaining_ms"], "added_ms": timer["added_ms"], "cap_ms": cap_ms}

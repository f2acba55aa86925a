"""The sponsor's match: when it is active, and how much it adds to a gift. Pure rules, no I/O.

A match is the dict a moderator sets (API.md §3): sponsor, multiplier, cap and used in
minor units, optional starts_at/ends_at in epoch ms.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from overlay.domain import money


def is_match_active(m: dict[str, Any] | None, now_ms: int) -> bool:
    if not m or m["used"] >= m["cap"]:
        return False
    if m.get("starts_at") is not None and now_ms < m["starts_at"]:
        return False
    return m.get("ends_at") is None or now_ms < m["ends_at"]


def multiplier_factor(m: dict[str, Any]) -> Decimal:
    """What the sponsor adds per unit given: x2 adds 1, x1.5 adds 0.5."""
    return Decimal(m["multiplier"]) - 1


def match_share(m: dict[str, Any] | None, amount: int, now_ms: int) -> int:
    """The sponsor's part of a gift of ``amount`` minor units, within what is left of the cap."""
    if m is None or not is_match_active(m, now_ms):
        return 0
    return min(money.scale(amount, multiplier_factor(m)), m["cap"] - m["used"])


def take_match(m: dict[str, Any] | None, amount: int, now_ms: int) -> int:
    """The sponsor's part of a gift, counted as used."""
    matched = match_share(m, amount, now_ms)
    if matched:
        m["used"] += matched  # type: ignore[index]  # a share is only ever taken from a match
    return matched

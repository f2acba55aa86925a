"""What a donor chose the public to see of their donation: which name, and whether the amount.

Moderators always see everything; overlays, the public API and the leaderboard see only this.
"""
from __future__ import annotations

from typing import Any

from overlay.settings.channel import ModerationSettings
from overlay.domain import moderation
from overlay.errors import Refusal

CHOICES = ("full", "first", "alias", "anonymous")


class DisplayError(Refusal, ValueError):
    """A display choice the donor must correct."""


def check(rules: ModerationSettings, choice: Any, alias: Any, show_amount: Any) -> tuple[str, str | None, bool]:
    """-> (choice, the alias as the public may read it, show_amount); refuses what cannot be shown."""
    choice = "full" if choice is None else choice
    if choice not in CHOICES:
        raise DisplayError("invalid_display_name", f"display_name must be one of {', '.join(CHOICES)}")
    if not isinstance(show_amount, bool):
        raise DisplayError("invalid_show_amount", "show_amount must be true or false")
    if choice != "alias":
        return choice, None, show_amount
    if alias is not None and not isinstance(alias, str):
        raise DisplayError("invalid_alias", "alias must be a string")
    cleaned = moderation.clean_text(alias)
    if cleaned is None:
        raise DisplayError("alias_required", "display_name \"alias\" needs a non-empty alias")
    if len(cleaned) > moderation.MAX_NAME_LENGTH:
        raise DisplayError("invalid_alias", f"alias must be at most {moderation.MAX_NAME_LENGTH} characters")
    masked, _ = moderation.mask_banned(cleaned, tuple(rules.banned_words))
    return choice, masked, show_amount


def public_name(rec: dict[str, Any]) -> str | None:
    """The name overlays show: the full name, its first word, the alias, or none (anonymous)."""
    choice, name = rec.get("display_name", "full"), rec["donor_name"]
    if choice == "alias":
        return rec.get("alias")
    if choice == "anonymous" or name is None:
        return None
    return name.split(" ", 1)[0] if choice == "first" else name


def shows_amount(rec: dict[str, Any]) -> bool:
    return rec.get("show_amount", True)


def restricted(rec: dict[str, Any]) -> bool:
    """Whether the public sees less of the donor than moderators do (beyond the usual)."""
    return rec.get("display_name", "full") != "full" or not shows_amount(rec)


def board_name(rec: dict[str, Any]) -> str | None:
    """The leaderboard entry a counted donation adds to: its public name, and only when its
    amount is public (the board shows totals, so a hidden amount would show through)."""
    return public_name(rec) if shows_amount(rec) else None

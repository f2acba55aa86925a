"""Options suggested by donors for a poll (a bid war's "name the next game").

A suggesting donation counts in the poll at once, on no bar: its weight is in the poll's
``unallocated`` money and its text waits in the poll's ``suggestions`` until a moderator
accepts it (a new option holding the donation's weight), merges it into an option (the money
moves there) or rejects it (the money stays unallocated). A poll's total is always the sum of
its bars plus ``unallocated``. The text is screened like a message (links dropped, banned words
masked); a moderator reads every suggestion before it can show anywhere.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from overlay.settings.channel import ChannelSettings
from overlay.domain import moderation, wire
from overlay.domain.donations import DonationError

MAX_LENGTH = 100  # an option's label
PENDING = "pending"
VERDICTS = {"accept": "accepted", "merge": "merged", "reject": "rejected"}


def choose(cfg: ChannelSettings, item: dict[str, Any], text: str, amount: int) -> dict[str, Any]:
    """What a suggesting donation's record carries, or a refusal (422)."""
    if not item.get("allow_suggestions"):
        raise DonationError("suggestions_not_allowed", f"{item['title']!r} does not take suggestions")
    if amount < item.get("suggestion_min", 0):
        least = wire.amount(cfg, item["suggestion_min"])
        raise DonationError("below_suggestion_minimum", f"a suggestion for {item['title']!r} needs at least "
                            f"{least} {cfg.currency}")
    cleaned = moderation.clean_text(text) or ""
    shown, _ = moderation.strip_links(cleaned)
    shown, _ = moderation.mask_banned(shown, tuple(cfg.moderation.banned_words))
    if not shown:
        raise DonationError("invalid_suggestion", "incentive.suggestion has nothing left to show once screened")
    return {"suggestion": shown[:MAX_LENGTH], "suggestion_status": PENDING}


def is_pending(chosen: dict[str, Any] | None) -> bool:
    return bool(chosen) and chosen.get("suggestion_status") == PENDING


def track(item: dict[str, Any], rec: dict[str, Any], sign: int) -> None:
    """Keep ``item["suggestions"]`` = the counted donations whose suggestion waits."""
    waiting = [s for s in item.get("suggestions", []) if s["donation_id"] != rec["id"]]
    if sign > 0 and is_pending(rec["incentive"]):
        waiting.append({"donation_id": rec["id"], "text": rec["incentive"]["suggestion"],
                        "weight": rec["amount"] + rec["matched"]})
    if waiting or "suggestions" in item:
        item["suggestions"] = waiting


def new_option_id(item: dict[str, Any], text: str) -> str:
    """A readable id from the text ("Hollow Knight" -> "hollow-knight"), unique in the poll."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:24] or "suggestion"
    taken = {o["id"] for o in item["options"]}
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def listing(cfg: ChannelSettings, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The waiting suggestions as moderators see them, oldest first."""
    return [{"donation_id": s["donation_id"], "text": s["text"], "amount": wire.amount(cfg, s["weight"]),
             "display": wire.display(cfg, s["weight"])} for s in item.get("suggestions", [])]

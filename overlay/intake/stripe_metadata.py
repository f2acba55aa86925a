"""What our donate page writes into a Stripe Checkout Session's metadata, and reads back from
the ``checkout.session.completed`` webhook. Pure: both directions side by side.

Stripe keeps metadata as strings, at most 50 keys of 40 characters and values of 500: a long
message is cut into ``message``, ``message_2``… and joined again. The donor's name and message
are the ones typed on our page, never the card holder's name (a donor who left the name
empty stays anonymous).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CHANNEL = "overlay_channel"
VALUE_LIMIT = 500
MAX_MESSAGE_PARTS = 8  # 4,000 characters: above the largest moderation.max_message_length


@dataclass(frozen=True)
class CheckoutDonor:
    """The donor's choices carried through Checkout."""
    channel: str
    donor_name: str | None
    message: str | None
    incentive: dict[str, str] | None  # {id, option?}: API.md §7 (incentives are booked by their owner)
    display_name: str = "full"        # overlay.domain.display: what the public sees
    alias: str | None = None
    show_amount: bool = True


def encode(donor: CheckoutDonor) -> dict[str, str]:
    meta = {CHANNEL: donor.channel, "anonymous": "true" if donor.donor_name is None else "false"}
    if donor.donor_name is not None:
        meta["donor_name"] = donor.donor_name[:VALUE_LIMIT]
    text = donor.message or ""
    parts = [text[i:i + VALUE_LIMIT] for i in range(0, len(text), VALUE_LIMIT)][:MAX_MESSAGE_PARTS]
    for i, part in enumerate(parts):
        meta["message" if i == 0 else f"message_{i + 1}"] = part
    if donor.incentive is not None:
        meta["incentive_id"] = donor.incentive["id"]
        if donor.incentive.get("option"):
            meta["incentive_option"] = donor.incentive["option"]
    if donor.display_name != "full":
        meta["display_name"] = donor.display_name
    if donor.alias is not None:
        meta["alias"] = donor.alias[:VALUE_LIMIT]
    if not donor.show_amount:
        meta["show_amount"] = "false"
    return meta


def _text(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) and value.strip() else None


def decode(meta: Any) -> CheckoutDonor | None:
    """The donor's choices, or None for a session our page did not create (a Payment Link)."""
    if not isinstance(meta, Mapping) or not isinstance(meta.get(CHANNEL), str):
        return None
    name = None if meta.get("anonymous") == "true" else _text(meta, "donor_name")
    parts = [meta.get("message")] + [meta.get(f"message_{i}") for i in range(2, MAX_MESSAGE_PARTS + 1)]
    message = "".join(p for p in parts if isinstance(p, str))
    incentive = None
    if _text(meta, "incentive_id") is not None:
        incentive = {"id": meta["incentive_id"]}
        if _text(meta, "incentive_option") is not None:
            incentive["option"] = meta["incentive_option"]
    return CheckoutDonor(meta[CHANNEL], name, message if message.strip() else None, incentive,
                         *_shown(meta), show_amount=meta.get("show_amount") != "false")


def _shown(meta: Mapping[str, Any]) -> tuple[str, str | None]:
    """The donor has paid by now: a choice that no longer reads well shows less, never more."""
    choice, alias = meta.get("display_name", "full"), _text(meta, "alias")
    if choice not in ("full", "first", "alias", "anonymous") or (choice == "alias" and alias is None):
        return "anonymous", None
    return choice, alias if choice == "alias" else None

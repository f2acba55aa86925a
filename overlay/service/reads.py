"""What a service's op reads besides the channel's state."""
from __future__ import annotations

from typing import Any

from overlay.domain.donations import DonationError
from overlay.store.reads import Reads


async def donation(reads: Reads, donation_id: str) -> dict[str, Any]:
    """The record as an op's commit will find it (404 if there is none)."""
    rec = await reads.donation(donation_id)
    if rec is None:
        raise DonationError("donation_not_found", "no such donation", "not_found")
    return rec

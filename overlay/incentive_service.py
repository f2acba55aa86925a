"""A channel's incentive operations, queued on its ordered writer like ``ChannelService``'s."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from overlay.settings.incentives import INCENTIVE, IncentiveSettings, problem
from overlay.domain import incentive_ops, incentives, suggestions, wire
from overlay.domain.donations import DonationError
from overlay.domain.state import Change, ChannelState
from overlay.service import ChannelService, donation
from overlay.store.writer import Reads, now_ms

# The dashboard lists at most this many claims, unfulfilled first.
MAX_CLAIMS = 200


async def listing(svc: ChannelService) -> list[dict[str, Any]]:
    return incentive_ops.snapshot(svc.cfg, await svc.current(), now_ms())


async def _one(svc: ChannelService, change: Change | None, incentive_id: str) -> dict[str, Any]:
    assert change is not None
    item = incentives.find(incentives.listing(svc.cfg, change.state), incentive_id)
    assert item is not None
    return incentives.public(svc.cfg, item, change.now)


async def create(svc: ChannelService, s: IncentiveSettings) -> dict[str, Any]:
    async def op(state: ChannelState, now: int, reads: Reads) -> Change:
        return incentive_ops.create(svc.cfg, state, s, now)
    return await _one(svc, await svc.mutate(op), s.id)


async def update(svc: ChannelService, incentive_id: str, patch: dict[str, Any]) -> dict[str, Any]:
    """Merge ``patch`` into the current definition, validate the whole, store it."""
    async def op(state: ChannelState, now: int, reads: Reads) -> Change:
        item = incentives.find(incentives.listing(svc.cfg, state), incentive_id)
        if item is None:
            raise DonationError("incentive_not_found", "no such incentive", "not_found")
        merged = {**incentives.definition(svc.cfg, item), **patch}
        return incentive_ops.update(svc.cfg, state, settings_from(merged), now)
    return await _one(svc, await svc.mutate(op), incentive_id)


async def remove(svc: ChannelService, incentive_id: str) -> None:
    async def op(state: ChannelState, now: int, reads: Reads) -> Change:
        return incentive_ops.remove(svc.cfg, state, incentive_id, now)
    await svc.mutate(op)


async def _on_donation(svc: ChannelService, donation_id: str, apply: Any) -> dict[str, Any]:
    """Run ``apply(state, record, now)`` -> Change in the channel's order; the record as changed."""
    async def op(state: ChannelState, now: int, reads: Reads) -> Change:
        return apply(state, await donation(reads, donation_id), now)
    change = await svc.mutate(op)
    assert change is not None
    return wire.donation(svc.cfg, change.donations[-1], private=True)


async def reallocate(svc: ChannelService, donation_id: str, choice: Any) -> dict[str, Any]:
    return await _on_donation(svc, donation_id, lambda state, rec, now: incentive_ops.reallocate(
        svc.cfg, state, rec, choice, now))


async def decide(svc: ChannelService, incentive_id: str, donation_id: str, verdict: str,
                 option: str | None = None) -> dict[str, Any]:
    """Accept, merge or reject a donor's suggestion, in the channel's order."""
    async def op(state: ChannelState, now: int, reads: Reads) -> Change:
        return incentive_ops.decide(svc.cfg, state, await donation(reads, donation_id), incentive_id,
                                    verdict, option, now)
    change = await svc.mutate(op)
    assert change is not None
    return {"donation": wire.donation(svc.cfg, change.donations[-1], private=True),
            "incentive": await _one(svc, change, incentive_id)}


async def suggestion_list(svc: ChannelService, incentive_id: str) -> list[dict[str, Any]]:
    item = incentives.find(incentives.listing(svc.cfg, await svc.current()), incentive_id)
    if item is None or item["kind"] != "poll":
        raise DonationError("incentive_not_found", "no such poll", "not_found")
    return suggestions.listing(svc.cfg, item)


async def fulfil(svc: ChannelService, donation_id: str, done: bool) -> dict[str, Any]:
    return await _on_donation(svc, donation_id, lambda state, rec, now: incentive_ops.fulfil(
        svc.cfg, state, rec, done, now))


async def rewards(svc: ChannelService) -> list[dict[str, Any]]:
    """Reward claims with their donations, to fulfil first, then the fulfilled ones."""
    claims = sorted(incentive_ops.claims(svc.cfg, await svc.current()), key=lambda c: c[2])[:MAX_CLAIMS]
    out = []
    for item, donation_id, done in claims:
        rec = await svc.store.get_donation(svc.cfg.id, donation_id)
        if rec is not None:
            out.append({"incentive": {"id": item["id"], "title": item["title"]}, "fulfilled": done,
                        "donation": wire.donation(svc.cfg, rec, private=True)})
    return out


def settings_from(body: dict[str, Any]) -> IncentiveSettings:
    """A definition (an edit merged into the stored one) -> validated like config.yaml's, by the
    model of its kind (422 ``invalid_incentive`` naming the field)."""
    try:
        return INCENTIVE.validate_python(body)
    except ValidationError as exc:
        raise DonationError("invalid_incentive", problem(exc.errors()[0])) from None


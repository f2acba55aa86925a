"""A channel's incentive operations, queued on its ordered writer: part of ``ChannelService``."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from overlay.settings.incentives import INCENTIVE, IncentiveSettings, problem
from overlay.domain import incentive_ops, incentives, suggestions, wire
from overlay.domain.donations import DonationError
from overlay.domain.state import Change, ChannelState
from overlay.clock import now_ms
from overlay.service.reads import donation
from overlay.store.reads import Reads

# The dashboard lists at most this many claims, unfulfilled first.
MAX_CLAIMS = 200


class IncentiveOps:
    """Mixed into ``ChannelService``: uses its ``cfg``, ``current`` and ``mutate``."""

    async def incentive_list(self) -> list[dict[str, Any]]:
        return incentive_ops.snapshot(self.cfg, await self.current(), now_ms())

    async def _incentive(self, change: Change | None, incentive_id: str) -> dict[str, Any]:
        assert change is not None
        item = incentives.find(incentives.listing(self.cfg, change.state), incentive_id)
        assert item is not None
        return incentives.public(self.cfg, item, change.now)

    async def create_incentive(self, s: IncentiveSettings) -> dict[str, Any]:
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return incentive_ops.create(self.cfg, state, s, now)
        return await self._incentive(await self.mutate(op), s.id)

    async def update_incentive(self, incentive_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Merge ``patch`` into the current definition, validate the whole, store it."""
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            item = incentives.find(incentives.listing(self.cfg, state), incentive_id)
            if item is None:
                raise DonationError("incentive_not_found", "no such incentive", "not_found")
            merged = {**incentives.definition(self.cfg, item), **patch}
            return incentive_ops.update(self.cfg, state, settings_from(merged), now)
        return await self._incentive(await self.mutate(op), incentive_id)

    async def remove_incentive(self, incentive_id: str) -> None:
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return incentive_ops.remove(self.cfg, state, incentive_id, now)
        await self.mutate(op)

    async def _on_donation(self, donation_id: str, apply: Any) -> dict[str, Any]:
        """Run ``apply(state, record, now)`` -> Change in the channel's order; the record as changed."""
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return apply(state, await donation(reads, donation_id), now)
        change = await self.mutate(op)
        assert change is not None
        return wire.donation(self.cfg, change.donations[-1], private=True)

    async def reallocate(self, donation_id: str, choice: Any) -> dict[str, Any]:
        return await self._on_donation(donation_id, lambda state, rec, now: incentive_ops.reallocate(
            self.cfg, state, rec, choice, now))

    async def decide_suggestion(self, incentive_id: str, donation_id: str, verdict: str,
                     option: str | None = None) -> dict[str, Any]:
        """Accept, merge or reject a donor's suggestion, in the channel's order."""
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return incentive_ops.decide(self.cfg, state, await donation(reads, donation_id), incentive_id,
                                        verdict, option, now)
        change = await self.mutate(op)
        assert change is not None
        return {"donation": wire.donation(self.cfg, change.donations[-1], private=True),
                "incentive": await self._incentive(change, incentive_id)}

    async def suggestions(self, incentive_id: str) -> list[dict[str, Any]]:
        item = incentives.find(incentives.listing(self.cfg, await self.current()), incentive_id)
        if item is None or item["kind"] != "poll":
            raise DonationError("incentive_not_found", "no such poll", "not_found")
        return suggestions.listing(self.cfg, item)

    async def fulfil_reward(self, donation_id: str, done: bool) -> dict[str, Any]:
        return await self._on_donation(donation_id, lambda state, rec, now: incentive_ops.fulfil(
            self.cfg, state, rec, done, now))

    async def rewards(self) -> list[dict[str, Any]]:
        """Reward claims with their donations, to fulfil first, then the fulfilled ones."""
        claims = sorted(incentive_ops.claims(self.cfg, await self.current()), key=lambda c: c[2])[:MAX_CLAIMS]
        out = []
        for item, donation_id, done in claims:
            rec = await self._store.get_donation(self.cfg.id, donation_id)
            if rec is not None:
                out.append({"incentive": {"id": item["id"], "title": item["title"]}, "fulfilled": done,
                            "donation": wire.donation(self.cfg, rec, private=True)})
        return out


def settings_from(body: dict[str, Any]) -> IncentiveSettings:
    """A definition (an edit merged into the stored one) -> validated like config.yaml's, by the
    model of its kind (422 ``invalid_incentive`` naming the field)."""
    try:
        return INCENTIVE.validate_python(body)
    except ValidationError as exc:
        raise DonationError("invalid_incentive", problem(exc.errors()[0])) from None


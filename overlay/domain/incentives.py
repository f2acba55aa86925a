"""Incentives (API.md §7): targets, polls (bid wars) and rewards that a donation chooses.

Pure rules, no I/O. The list lives in ``ChannelState.incentives`` so that an incentive's totals
change in the same commit as the donation that moves them (both stores, every process).

Rules (docs/incentives.md says them to streamers):
- A donation counts toward its incentive with its whole weight, ``amount + matched``: the
  sponsor's matched money follows the donor's choice. A test donation never counts.
- A closed incentive (``open`` false, or past ``ends_at``) refuses new allocations with 409; the
  donation is not booked at all, so the donor can send it again without an incentive.
- A refund takes the donation's weight back out; moving a donation moves its weight.
- A target is ``reached`` once: the first time its total gets to its amount. A refund below
  the amount afterwards does not un-reach it (the hair stays dyed).
- A closed poll's winner is its leader: the highest total, ties to the option listed first
  (a moderator moving a donation out of a closed poll can still change it). Reopening clears it.
- A reward needs ``amount >= min_amount`` (the donor's part, in the channel currency) and,
  with a ``quantity``, a claim left; each claim waits in ``claims`` until fulfilled.
- Limits hold when money is counted, not only when it is promised: counting a pending pledge
  (confirm) refuses a sold-out reward or a poll option that is gone, with 409, and changes
  nothing. A poll option keeps a count of the pending pledges that chose it, so that an option
  that money (pending or counted) points to cannot be removed.
"""
from __future__ import annotations

import copy
from typing import Any

from overlay.settings.channel import ChannelSettings
from overlay.settings.incentives import IncentiveSettings
from overlay.domain import money, suggestions, wire
from overlay.domain.donations import DonationError
from overlay.domain.state import ChannelState

Item = dict[str, Any]


# The codes a donation's incentive choice is refused with (the donation itself is fine).
REFUSALS = frozenset({"unknown_incentive", "incentive_closed", "invalid_incentive", "invalid_incentive_option",
                      "below_reward_minimum", "reward_sold_out", "invalid_suggestion",
                      "suggestions_not_allowed", "below_suggestion_minimum"})


def from_settings(cfg: ChannelSettings, s: IncentiveSettings, old: Item | None = None) -> Item:
    """An incentive as stored, from its definition; ``old`` keeps the money already counted."""
    old = old or {}
    item: Item = {"id": s.id, "kind": s.kind, "title": s.title, "open": s.open,
                  "ends_at": wire.to_ms(s.ends_at) if s.ends_at else None,
                  "total": old.get("total", 0), "count": old.get("count", 0), "tiltify_id": s.tiltify_id,
                  "donordrive_id": s.donordrive_id}
    if s.kind == "target":
        item["amount"] = money.parse_amount(s.amount, cfg.currency)
        item["reached_at"] = old.get("reached_at")
    elif s.kind == "poll":
        before = {o["id"]: o for o in old.get("options", [])}
        item["options"] = [{"id": o.id, "label": o.label, "total": before.get(o.id, {}).get("total", 0),
                            "count": before.get(o.id, {}).get("count", 0), "tiltify_id": o.tiltify_id,
                            "donordrive_id": o.donordrive_id,
                            "pending": before.get(o.id, {}).get("pending", 0)}
                           for o in s.options]
        suggest_min = s.suggestion_min_amount
        item.update(allow_suggestions=s.allow_suggestions, unallocated=old.get("unallocated", 0),
                    suggestions=old.get("suggestions", []),
                    suggestion_min=money.parse_amount(suggest_min, cfg.currency) if suggest_min else 0)
    else:
        item["min_amount"] = money.parse_amount(s.min_amount, cfg.currency)
        item["quantity"] = s.quantity
        item["claims"] = old.get("claims", [])
    return item


def definition(cfg: ChannelSettings, item: Item) -> dict[str, Any]:
    """What a moderator can edit, in config.yaml's shape (a PATCH is merged into it)."""
    out: dict[str, Any] = {"id": item["id"], "kind": item["kind"], "title": item["title"],
                           "open": item["open"], "ends_at": wire.iso(item["ends_at"]),
                           "tiltify_id": item.get("tiltify_id"), "donordrive_id": item.get("donordrive_id")}
    if item["kind"] == "target":
        out["amount"] = wire.amount(cfg, item["amount"])
    elif item["kind"] == "poll":
        out["options"] = [{"id": o["id"], "label": o["label"], "tiltify_id": o.get("tiltify_id"),
                           "donordrive_id": o.get("donordrive_id")} for o in item["options"]]
        out["allow_suggestions"] = item.get("allow_suggestions", False)
        out["suggestion_min_amount"] = wire.amount(cfg, item["suggestion_min"]) if item.get("suggestion_min") else None
    else:
        out.update(min_amount=wire.amount(cfg, item["min_amount"]), quantity=item["quantity"])
    return out


def listing(cfg: ChannelSettings, state: ChannelState) -> list[Item]:
    """The channel's incentives: those stored, then config.yaml's that were never stored nor removed."""
    stored = state.incentives.get("items") or []
    known = {i["id"] for i in stored} | set(state.incentives.get("removed", []))
    return stored + [from_settings(cfg, s) for s in cfg.incentives if s.id not in known]


def items_for_change(cfg: ChannelSettings, state: ChannelState) -> list[Item]:
    """A private copy of the list, put in ``state`` (a Change's copy), for an operation to edit."""
    items = copy.deepcopy(listing(cfg, state))
    state.incentives = {"items": items, "removed": list(state.incentives.get("removed", []))}
    return items


def find(items: list[Item], incentive_id: Any) -> Item | None:
    return next((i for i in items if i["id"] == incentive_id), None)


def is_open(item: Item, now: int) -> bool:
    return item["open"] and (item["ends_at"] is None or now < item["ends_at"])


# A platform's own incentive ids, as a webhook or a source hands them over: {key: id}.
PLATFORM_IDS = ("tiltify_id", "donordrive_id")


def from_platform(items: list[Item], key: str, platform_id: str) -> dict[str, str] | None:
    """The choice whose ``key`` (``tiltify_id``, ``donordrive_id``: an incentive's or a poll
    option's) is the platform's id."""
    for item in items:
        if item.get(key) == platform_id and item["kind"] != "poll":
            return {"id": item["id"]}
        for o in item.get("options", []):
            if o.get(key) == platform_id:
                return {"id": item["id"], "option": o["id"]}
    return None


def parse_choice(raw: Any) -> dict[str, str] | None:
    """``{id, option?}`` as a client sent it -> its shape checked (not yet against the list)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"id", "option", "suggestion"} or not isinstance(raw.get("id"), str):
        raise DonationError("invalid_incentive", "incentive must be {id, option?, suggestion?} with string values")
    option, suggestion = raw.get("option"), raw.get("suggestion")
    if option is not None and not isinstance(option, str):
        raise DonationError("invalid_incentive", "incentive.option must be a string")
    if len(raw["id"]) > 64 or (option is not None and len(option) > 64):
        raise DonationError("unknown_incentive", "no such incentive")
    if suggestion is None:
        return {"id": raw["id"], **({"option": option} if option is not None else {})}
    if option is not None or not isinstance(suggestion, str) or not suggestion.strip() \
            or len(suggestion) > suggestions.MAX_LENGTH:
        raise DonationError("invalid_suggestion", f"incentive.suggestion must be 1 to {suggestions.MAX_LENGTH} "
                            "characters, without an option")
    return {"id": raw["id"], "suggestion": suggestion}


def choose(cfg: ChannelSettings, state: ChannelState, choice: dict[str, str], amount: int,
           now: int, *, keep: str | None = None) -> dict[str, Any]:
    """Check a choice against the current list -> what the donation record carries.
    ``keep``: the id of a donation already holding a claim (a move within the same reward)."""
    item = find(listing(cfg, state), choice["id"])
    if item is None:
        raise DonationError("unknown_incentive", f"no incentive {choice['id']!r} on this channel")
    if not is_open(item, now):
        raise DonationError("incentive_closed", f"{item['title']!r} is closed; send the donation without it", "conflict")
    chosen: dict[str, Any] = {"id": item["id"], "kind": item["kind"], "title": item["title"]}
    if item["kind"] == "poll" and "suggestion" in choice:
        chosen.update(suggestions.choose(cfg, item, choice["suggestion"], amount))
    elif item["kind"] == "poll":
        option = next((o for o in item["options"] if o["id"] == choice.get("option")), None)
        if option is None:
            ids = ", ".join(o["id"] for o in item["options"])
            what = "unknown option" if "option" in choice else "an option is required"
            raise DonationError("invalid_incentive_option", f"{item['title']!r}: {what} (one of {ids})")
        chosen.update(option=option["id"], label=option["label"])
    elif "option" in choice:
        raise DonationError("invalid_incentive_option", f"{item['title']!r} has no options")
    if item["kind"] == "reward":
        _check_reward(cfg, item, amount, keep)
        chosen["fulfilled"] = False
    return chosen


def _check_reward(cfg: ChannelSettings, item: Item, amount: int, keep: str | None) -> None:
    if amount < item["min_amount"]:
        raise DonationError("below_reward_minimum",
                            f"{item['title']!r} needs at least {wire.amount(cfg, item['min_amount'])} {cfg.currency}")
    held = any(c[0] == keep for c in item["claims"])
    if item["quantity"] is not None and len(item["claims"]) >= item["quantity"] and not held:
        raise DonationError("reward_sold_out", f"{item['title']!r} has no claims left", "conflict")


def counts(rec: dict[str, Any]) -> bool:
    """Whether the donation's money is in the totals (so in its incentive's)."""
    return (not rec["test"] and rec["status"] in ("approved", "held", "rejected")
            and rec.get("counted", True) and rec.get("incentive") is not None)


def option_of(item: Item, rec: dict[str, Any]) -> Item | None:
    return next((o for o in item["options"] if o["id"] == rec["incentive"].get("option")), None)


def check_countable(item: Item, rec: dict[str, Any]) -> None:
    """Refuse to count ``rec`` in ``item`` if that would break a limit: a reward's quantity, a
    poll's options. Checked in the operation that counts, so in the channel's order."""
    if item["kind"] == "poll" and option_of(item, rec) is None and "suggestion" not in rec["incentive"]:
        raise DonationError("incentive_option_removed",
                            f"{item['title']!r} no longer has the option this donation chose: move it to "
                            "another option first (nothing was changed)", "conflict")
    if item["kind"] == "reward" and item["quantity"] is not None:
        others = [c for c in item["claims"] if c[0] != rec["id"]]
        if len(others) >= item["quantity"]:
            raise DonationError("reward_sold_out", f"{item['title']!r} has no claims left ({len(others)} of "
                                f"{item['quantity']} claimed): move the donation to another incentive or "
                                "reject it (nothing was changed)", "conflict")


def add(item: Item, rec: dict[str, Any], sign: int, now: int) -> bool:
    """Move ``rec``'s weight into (sign 1) or out of (sign -1) ``item``; True if a target was
    reached just now."""
    weight = sign * (rec["amount"] + rec["matched"])
    item["total"] += weight
    item["count"] += sign
    if item["kind"] == "poll":
        option = option_of(item, rec)
        if option is not None:
            option["total"] += weight
            option["count"] += sign
        else:  # a suggestion waiting or rejected: in the poll, on no bar
            item["unallocated"] = item.get("unallocated", 0) + weight
        suggestions.track(item, rec, sign)
    elif item["kind"] == "reward":
        item["claims"] = [c for c in item["claims"] if c[0] != rec["id"]]
        if sign > 0:
            item["claims"].append([rec["id"], bool(rec["incentive"].get("fulfilled"))])
    elif item["reached_at"] is None and item["total"] >= item["amount"]:
        item["reached_at"] = now
        return True
    return False


def _leader(options: list[Item]) -> str | None:
    best = max(options, key=lambda o: o["total"], default=None)  # max keeps the first of equals
    return best["id"] if best is not None and best["total"] > 0 else None


def public(cfg: ChannelSettings, item: Item, now: int) -> dict[str, Any]:
    """An incentive as clients see it (API.md §7), with display strings for overlays."""
    out: dict[str, Any] = {"id": item["id"], "kind": item["kind"], "title": item["title"],
                           "open": is_open(item, now), "total": wire.amount(cfg, item["total"]),
                           "count": item["count"], "ends_at": wire.iso(item["ends_at"]),
                           "display": {"total": wire.display(cfg, item["total"])}}
    if item["kind"] == "target":
        out.update(amount=wire.amount(cfg, item["amount"]), reached=item["reached_at"] is not None,
                   reached_at=wire.iso(item["reached_at"]),
                   percent=min(item["total"] * 10000 // item["amount"], 10000) / 100)
        out["display"]["amount"] = wire.display(cfg, item["amount"])
    elif item["kind"] == "poll":
        out.update(_poll(cfg, item, out["open"]))
    else:
        q = item["quantity"]
        out.update(min_amount=wire.amount(cfg, item["min_amount"]), quantity=q, claimed=len(item["claims"]),
                   remaining=None if q is None else max(q - len(item["claims"]), 0))
        out["display"]["min_amount"] = wire.display(cfg, item["min_amount"])
    return out


def _poll(cfg: ChannelSettings, item: Item, open_: bool) -> dict[str, Any]:
    opts = item["options"]
    leader = _leader(opts)
    ranked = sorted((o["total"] for o in opts), reverse=True)
    margin = ranked[0] - ranked[1] if leader is not None and len(ranked) > 1 else 0
    whole = sum(ranked)
    return {
        "options": [{"id": o["id"], "label": o["label"], "total": wire.amount(cfg, o["total"]), "count": o["count"],
                     "share": (o["total"] * 10000 // whole) / 100 if whole else 0,
                     "display": wire.display(cfg, o["total"])} for o in opts],
        "leader": leader, "margin": wire.amount(cfg, margin), "winner": None if open_ else leader,
        "display_margin": wire.display(cfg, margin),
        "unallocated": wire.amount(cfg, item.get("unallocated", 0)),
        "display_unallocated": wire.display(cfg, item.get("unallocated", 0)),
        "allow_suggestions": item.get("allow_suggestions", False),
    }

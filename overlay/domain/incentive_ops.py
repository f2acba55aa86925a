"""Operations on incentives, each a ``Change`` like those of ``overlay.domain.donations``.

``book``/``unbook`` extend a donation's own Change (accept, confirm, refund), so an incentive's
totals are committed with the donation that moves them.
"""
from __future__ import annotations

from typing import Any

from overlay.settings.channel import ChannelSettings
from overlay.settings.incentives import MAX_OPTIONS, IncentiveSettings
from overlay.domain import incentives as inc
from overlay.domain import money, suggestions, wire
from overlay.domain.donations import DonationError
from overlay.domain.state import DASHBOARD, OVERLAY, Change, ChannelState

MAX_INCENTIVES = 50  # per channel; checked in the commit that creates one


def snapshot(cfg: ChannelSettings, state: ChannelState, now: int) -> list[dict[str, Any]]:
    return [inc.public(cfg, i, now) for i in inc.listing(cfg, state)]


def _emit(cfg: ChannelSettings, ch: Change, item: inc.Item, *, reached: bool = False) -> None:
    payload: dict[str, Any] = {"incentive": inc.public(cfg, item, ch.now)}
    if reached:
        payload["reached"] = True  # the one event an alert box celebrates
    ch.emit("incentive", OVERLAY, payload)


def attach(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], raw: Any, now: int) -> dict[str, Any]:
    """``rec`` carrying the incentive it chose (checked now, inside the channel's order)."""
    key = next((k for k in inc.PLATFORM_IDS if isinstance(raw, dict) and isinstance(raw.get(k), str)), None)
    if key is not None:
        return _from_platform(cfg, state, rec, key, raw[key], now)
    choice = inc.parse_choice(raw)
    if choice is None:
        return rec
    return dict(rec, incentive=inc.choose(cfg, state, choice, rec["amount"], now))


def _from_platform(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], key: str, platform_id: str,
                   now: int) -> dict[str, Any]:
    """The platform (Tiltify, DonorDrive) was paid already and will not send the donation another
    way: a choice we cannot book (unknown here, closed, below a minimum) leaves the donation to
    the campaign alone."""
    choice = inc.from_platform(inc.listing(cfg, state), key, platform_id)
    if choice is None:
        return rec
    try:
        return dict(rec, incentive=inc.choose(cfg, state, choice, rec["amount"], now))
    except DonationError:
        return rec


def book(cfg: ChannelSettings, ch: Change, rec: dict[str, Any], sign: int = 1) -> None:
    """Count (or, with ``sign`` -1, take back) ``rec`` in its incentive, within ``ch``."""
    if not inc.counts(rec):
        return
    item = inc.find(inc.items_for_change(cfg, ch.state), rec["incentive"]["id"])
    if item is None:  # removed since: the money stays in the campaign only
        return
    if sign > 0:
        inc.check_countable(item, rec)
    reached = inc.add(item, rec, sign, ch.now)
    _emit(cfg, ch, item, reached=reached)


def hold(cfg: ChannelSettings, ch: Change, rec: dict[str, Any], sign: int) -> None:
    """Note (sign 1) or forget (sign -1) a pending pledge on the poll option it chose: an option
    that a pledge points to cannot be removed, or the poll's total would stop being the sum of
    its bars once the pledge is confirmed."""
    chosen = rec.get("incentive")
    if rec["status"] != "pending" or not chosen or chosen["kind"] != "poll":
        return
    item = inc.find(inc.items_for_change(cfg, ch.state), chosen["id"])
    option = inc.option_of(item, rec) if item is not None else None
    if option is not None:  # a pledge stored before options counted theirs never goes below 0
        option["pending"] = max(option.get("pending", 0) + sign, 0)


def create(cfg: ChannelSettings, state: ChannelState, s: IncentiveSettings, now: int) -> Change:
    ch = Change.begin(state, now)
    items = inc.items_for_change(cfg, ch.state)
    if inc.find(items, s.id) is not None:
        raise DonationError("incentive_exists", f"an incentive {s.id!r} exists already", "conflict")
    if len(items) >= MAX_INCENTIVES:
        raise DonationError("too_many_incentives", f"a channel has at most {MAX_INCENTIVES} incentives", "conflict")
    item = _built(cfg, s, None)
    items.append(item)
    ch.state.incentives["removed"] = [r for r in ch.state.incentives["removed"] if r != s.id]
    _emit(cfg, ch, item)
    return ch


def update(cfg: ChannelSettings, state: ChannelState, s: IncentiveSettings, now: int) -> Change:
    """Replace a definition, keeping the money counted. A poll option that donations chose
    cannot be removed until they are moved: the poll's total and its bars stay one sum."""
    ch = Change.begin(state, now)
    items = inc.items_for_change(cfg, ch.state)
    old = _get(items, s.id)
    if old["kind"] != s.kind:
        raise DonationError("invalid_kind", "an incentive's kind cannot change")
    kept = {o.id for o in getattr(s, "options", ())}
    chosen = [o["id"] for o in old.get("options", [])
              if o["id"] not in kept and (o["total"] or o["count"] or o.get("pending"))]
    if chosen:
        raise DonationError("option_has_donations", f"option {chosen[0]!r} has donations or pending pledges: "
                            "move them to another option first", "conflict")
    new = _built(cfg, s, old)
    items[items.index(old)] = new
    reached = False
    if new["kind"] == "target" and new["reached_at"] is None and new["total"] >= new["amount"]:
        new["reached_at"] = now
        reached = True
    _emit(cfg, ch, new, reached=reached)
    return ch


def _built(cfg: ChannelSettings, s: IncentiveSettings, old: inc.Item | None) -> inc.Item:
    try:
        return inc.from_settings(cfg, s, old)
    except money.MoneyError as exc:
        raise DonationError("invalid_incentive", f"amount: {exc}") from None


def remove(cfg: ChannelSettings, state: ChannelState, incentive_id: str, now: int) -> Change:
    ch = Change.begin(state, now)
    items = inc.items_for_change(cfg, ch.state)
    items.remove(_get(items, incentive_id))
    ch.state.incentives["removed"].append(incentive_id)
    ch.emit("incentive", OVERLAY, {"incentive": {"id": incentive_id, "removed": True}})
    return ch


def _get(items: list[inc.Item], incentive_id: str) -> inc.Item:
    item = inc.find(items, incentive_id)
    if item is None:
        raise DonationError("incentive_not_found", "no such incentive", "not_found")
    return item


def reallocate(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], raw: Any, now: int) -> Change:
    """A moderator moves a donation to another incentive or option (``raw`` None: to none)."""
    if rec["status"] in ("refunded",):
        raise DonationError("not_counted", "a refunded donation cannot be moved", "conflict")
    ch = Change.begin(state, now)
    choice = inc.parse_choice(raw)
    moved = dict(rec, incentive=None if choice is None else
                 inc.choose(cfg, state, choice, rec["amount"], now, keep=rec["id"]))
    book(cfg, ch, rec, -1)
    book(cfg, ch, moved, 1)
    hold(cfg, ch, rec, -1)
    hold(cfg, ch, moved, 1)
    _update_record(cfg, ch, moved)
    return ch


def decide(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], incentive_id: str, verdict: str,
           option_id: str | None, now: int) -> Change:
    """A moderator accepts a donor's suggestion (a new option with its weight), merges it into
    ``option_id`` or rejects it (its weight stays the poll's unallocated money)."""
    chosen = rec.get("incentive")
    if not chosen or chosen["id"] != incentive_id or not suggestions.is_pending(chosen):
        raise DonationError("not_a_pending_suggestion", "the donation has no suggestion waiting on this poll",
                            "conflict")
    if not inc.counts(rec):
        raise DonationError("not_counted", f"the donation is {rec['status']}: confirm it first", "conflict")
    ch = Change.begin(state, now)
    item = _get(inc.items_for_change(cfg, ch.state), incentive_id)
    decided = dict(chosen, suggestion_status=suggestions.VERDICTS[verdict])
    if verdict == "accept":
        if len(item["options"]) >= MAX_OPTIONS:
            raise DonationError("too_many_options", f"a poll has at most {MAX_OPTIONS} options", "conflict")
        option = {"id": suggestions.new_option_id(item, chosen["suggestion"]), "label": chosen["suggestion"],
                  "total": 0, "count": 0, "tiltify_id": None, "donordrive_id": None, "pending": 0}
        item["options"].append(option)
    elif verdict == "merge":
        option = next((o for o in item["options"] if o["id"] == option_id), None)
        if option is None:
            raise DonationError("invalid_incentive_option", f"{item['title']!r} has no option {option_id!r}")
    if verdict != "reject":
        decided.update(option=option["id"], label=option["label"])
    moved = dict(rec, incentive=decided)
    book(cfg, ch, rec, -1)
    book(cfg, ch, moved, 1)
    _update_record(cfg, ch, moved)
    return ch


def fulfil(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], done: bool, now: int) -> Change:
    """Tick (or untick) a reward as given to its donor."""
    chosen = rec.get("incentive")
    if not chosen or chosen["kind"] != "reward":
        raise DonationError("not_a_reward", "the donation did not claim a reward", "conflict")
    ch = Change.begin(state, now)
    moved = dict(rec, incentive=dict(chosen, fulfilled=done))
    item = inc.find(inc.items_for_change(cfg, ch.state), chosen["id"])
    if item is not None:
        item["claims"] = [[c[0], done if c[0] == rec["id"] else c[1]] for c in item["claims"]]
    _update_record(cfg, ch, moved)
    return ch


def _update_record(cfg: ChannelSettings, ch: Change, rec: dict[str, Any]) -> None:
    ch.donations.append(rec)
    ch.emit("donation", DASHBOARD, {"donation": wire.donation(cfg, rec, private=True),
                                    "campaign": wire.campaign(cfg, ch.state)})


def claims(cfg: ChannelSettings, state: ChannelState) -> list[tuple[inc.Item, str, bool]]:
    """Every reward claim: (reward, donation id, fulfilled), oldest first per reward."""
    return [(i, c[0], c[1]) for i in inc.listing(cfg, state) if i["kind"] == "reward" for c in i["claims"]]

"""The domain: accept a donation, apply the match, moderate, count — no I/O of its own.

Every operation takes the channel's settings and current state and returns a
``Change`` for a store to commit atomically.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from overlay import randomness
from overlay.domain import alerts, display, matching, money, moderation, timer, timing, tts, variation_ops, wire
from overlay.domain.team_match import TeamShare, own_part
from overlay.settings.channel import ChannelSettings, TierSettings
from overlay.errors import Refusal
from overlay.domain.state import DASHBOARD, OVERLAY, Change, ChannelState

_SOURCE = re.compile(r"^[a-z0-9_-]{1,32}$")
MAX_EXTERNAL_ID = 255


class DonationError(Refusal, ValueError):
    """Input a client must correct (kind "invalid"), or an operation the state forbids ("conflict")."""


@dataclass(frozen=True)
class DonationInput:
    amount: Any                  # decimal string, Decimal or int; never a float
    currency: str | None = None  # None: the channel's currency
    donor_name: str | None = None
    message: str | None = None
    source: str = "api"
    external_id: str | None = None
    test: bool = False
    created_at: int | None = None  # epoch ms; None: now
    incentive: Any = None          # {id, option?} as received; checked by overlay.domain.incentives
    display_name: str | None = None  # overlay.domain.display.CHOICES; None: "full"
    alias: str | None = None
    show_amount: bool = True
    simulate_match: bool = False   # a test only: show the match line the current match would give


def new_id() -> str:
    return "d_" + randomness.token_hex(10)


def _convert(cfg: ChannelSettings, inp: DonationInput) -> tuple[int, str, int]:
    """-> (original minor units, original currency, amount in channel minor units)."""
    try:
        currency = money.check_currency(inp.currency or cfg.currency)
        original = money.parse_amount(inp.amount, currency)
    except money.MoneyError as exc:
        raise DonationError("invalid_amount", str(exc)) from None
    if currency == cfg.currency:
        return original, currency, original
    rate = cfg.fx.get(currency)
    if rate is None:
        raise DonationError("unsupported_currency", f"no exchange rate from {currency} to {cfg.currency} is configured")
    converted = money.convert(original, currency, cfg.currency, rate)
    if converted <= 0:
        raise DonationError("invalid_amount", "amount is too small once converted")
    return original, currency, converted


def new_record(cfg: ChannelSettings, inp: DonationInput, now_ms: int) -> dict[str, Any]:
    """Validate, convert and screen an incoming donation into a record (not yet counted)."""
    if not _SOURCE.match(inp.source or ""):
        raise DonationError("invalid_source", "source must match [a-z0-9_-]{1,32}")
    ext = inp.external_id
    if ext is not None and (not isinstance(ext, str) or not 0 < len(ext) <= MAX_EXTERNAL_ID):
        raise DonationError("invalid_external_id", f"external_id must be a string of 1 to {MAX_EXTERNAL_ID} characters")
    if inp.simulate_match and not inp.test:
        raise DonationError("invalid_simulate_match", "simulate_match is for test donations only (test: true)")
    original, currency, amount = _convert(cfg, inp)
    name_min = money.setting_amount(cfg.moderation.name_min_amount, cfg.currency)
    screened = moderation.screen(cfg.moderation, inp.donor_name, inp.message, amount, name_min)
    try:
        choice, alias, show_amount = display.check(cfg.moderation, inp.display_name, inp.alias, inp.show_amount)
    except display.DisplayError as exc:
        raise DonationError(exc.code, exc.message) from None
    return {
        "id": new_id(), "seq": 0, "amount": amount, "original_amount": original,
        "original_currency": currency, "matched": 0, "donor_name": screened.donor_name,
        "message": screened.message, "source": inp.source, "external_id": ext,
        "test": bool(inp.test), "status": "approved", "created_at": inp.created_at or now_ms,
        "original_message": screened.original_message if screened.original_message != screened.message else None,
        "flagged": screened.flagged, "display_name": choice, "show_amount": show_amount,
        # Below the name minimum a chosen alias is hidden as a name is.
        "alias": alias if amount >= name_min else None,
        **({"simulate_match": True} if inp.simulate_match else {}),
    }


def _apply_match(state: ChannelState, rec: dict[str, Any], now: int) -> int:
    """The match a donation gets. A test takes none; one simulating a match shows what the
    current match would give, without touching its cap."""
    if rec["test"]:
        return matching.match_share(state.match, rec["amount"], now) if rec.get("simulate_match") else 0
    return matching.take_match(state.match, rec["amount"], now)


def accept_donation(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], now: int,
                    team: TeamShare | None = None) -> Change:
    """``team``: what the channel's team match gave this donation (claimed from its cap already)."""
    ch = Change.begin(state, now)
    if rec["external_id"] is not None:
        ch.external = (rec["source"], rec["external_id"], rec["id"])
    _count(cfg, ch, rec, team)
    return ch


def _count(cfg: ChannelSettings, ch: Change, rec: dict[str, Any], team: TeamShare | None = None) -> None:
    """Count a donation now: match (its channel's, then its team's), totals, hold rules, events and its alert."""
    rec = dict(rec, seq=ch.next_seq())
    rec["matched"] = _apply_match(ch.state, rec, ch.now)
    if team is not None and team.grant:
        rec.update(matched=rec["matched"] + team.grant, team_matched=team.grant, team_match=team.team)
    if not rec["test"]:
        t = ch.state.totals
        t["raised"] += rec["amount"]
        t["matched"] += rec["matched"]
        t["count"] += 1
        if moderation.needs_hold(cfg.moderation, rec["message"]):
            rec["status"] = "held"
    ch.donations.append(rec)
    if rec["status"] == "approved":
        _publish_approved(cfg, ch, rec)
    else:
        _emit_private(cfg, ch, rec)
        ch.emit("progress", OVERLAY, {"campaign": wire.campaign(cfg, ch.state)})
    if rec["matched"] and not rec["test"]:
        ch.emit("match", OVERLAY, {"match": wire.match(cfg, ch.state.match, ch.now)})
    if team is not None and team.grant and not rec["test"] and not matching.is_match_active(ch.state.match, ch.now):
        ch.emit("match", OVERLAY, {"match": team.match})  # members show their team's match (docs/teams.md)
    timer.extend(cfg, ch, rec)
    advance_alerts(cfg, ch)


def _emit_private(cfg: ChannelSettings, ch: Change, rec: dict[str, Any]) -> None:
    """A donation only moderators may see yet (held, pending, rejected, refunded)."""
    ch.emit("donation", DASHBOARD, {"donation": wire.donation(cfg, rec, private=True),
                                    "campaign": wire.campaign(cfg, ch.state)})


def record_pledge(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], now: int) -> Change:
    """A pledge from the public donate page is a promise, not money: it is stored ``pending``
    and counts nowhere (totals, match, leaderboard, alerts) until a moderator confirms it."""
    ch = Change.begin(state, now)
    rec = dict(rec, seq=ch.next_seq(), status="pending", matched=0, counted=False)
    ch.donations.append(rec)
    if rec["external_id"] is not None:
        ch.external = (rec["source"], rec["external_id"], rec["id"])
    _emit_private(cfg, ch, rec)
    return ch


def confirm(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], now: int,
            team: TeamShare | None = None) -> Change:
    """A moderator confirms a pending pledge: it counts from this moment, as a new donation would
    (the match as it is now, hold rules, its alert). It takes a new seq: it is news now."""
    if rec["status"] != "pending":
        raise DonationError("not_pending", f"the donation is {rec['status']}, not a pending pledge", "conflict")
    ch = Change.begin(state, now)
    _count(cfg, ch, dict(rec, status="approved", counted=True), team)
    return ch


def _publish_approved(cfg: ChannelSettings, ch: Change, rec: dict[str, Any], *, reviewed: bool = False) -> None:
    shown = wire.donation(cfg, rec)  # the event's and the alert's: never changed once made
    ch.emit("donation", OVERLAY, {"donation": shown, "campaign": wire.campaign(cfg, ch.state)})
    if display.restricted(rec):  # the dashboard hears both: the full one comes last and stays
        _emit_private(cfg, ch, rec)
    board = display.board_name(rec)
    if not rec["test"] and board:
        ch.leaderboard.append((board, rec["amount"]))
    min_alert = money.setting_amount(cfg.alerts.min_amount, cfg.currency)
    if rec["test"] or rec["amount"] >= min_alert:
        _enqueue(cfg, ch, rec, shown=shown, counts=not rec["test"], reviewed=reviewed)


def _tier(cfg: ChannelSettings, minor: int) -> TierSettings | None:
    best = None
    for t in cfg.alerts.tiers:
        if money.setting_amount(t.min_amount, cfg.currency) <= minor:
            if best is None or t.min_amount >= best.min_amount:
                best = t
    return best


def _enqueue(cfg: ChannelSettings, ch: Change, rec: dict[str, Any], *, front: bool = False,
             shown: dict[str, Any] | None = None, counts: bool = False, reviewed: bool = False) -> None:
    if not alerts.accepts(ch.state.alerts, front=front):  # full: nothing changes, nothing to tell
        return
    # The channel's timing as it is now (overlay.domain.timing): a waiting alert keeps its duration.
    tier, duration = timing.for_tier(cfg, ch.state, _tier(cfg, rec["amount"]))
    shown = shown or wire.donation(cfg, rec)
    ch.state.variations, variation = variation_ops.pick(cfg, ch.state, rec, counts=counts)
    speak = (variation or {}).get("tts") is not False
    if speak:
        # Judged on the real amount and name: a hidden amount or a chosen alias is not in ``shown``.
        speak, ch.state.speech = tts.may_speak(cfg, ch.state.speech, shown, ch.now, minor=rec["amount"],
                                               donor=rec["donor_name"],
                                               reviewed=reviewed or bool(rec.get("reviewed")))
    duration = (variation or {}).get("duration_ms") or duration
    item = alerts.entry(shown, tts.alert_duration(cfg, shown, duration, rec["amount"], speak=speak), tier)
    if variation is not None:
        item["variation"] = variation
    if not speak:
        item["speak"] = False
    head_changes = front or len(ch.state.alerts["queue"]) < alerts.NEXT_SHOWN
    ch.state.alerts, ops = alerts.enqueue(ch.state.alerts, item, front=front)
    ch.queue_ops += ops
    _emit_queue(ch, head=head_changes)


def _emit_queue(ch: Change, *, head: bool = True) -> None:
    """The dashboard's queue: counts and what plays, and ``next`` only when the first
    waiting alerts changed. A donation joining the back of a long queue then costs a
    small event, the same with 10 or 500 alerts waiting (``next`` holds full donations)."""
    ch.emit("queue", DASHBOARD, {"alerts": queue_summary(ch.state, ch.now, detail=head)})


def queue_summary(state: ChannelState, now: int, *, detail: bool = False) -> dict[str, Any]:
    s = alerts.summary(state.alerts, now, detail=detail)
    if s["playing"]:
        s["playing"] = dict(s["playing"], starts_at=wire.iso(s["playing"]["starts_at"]),
                            ends_at=wire.iso(s["playing"]["ends_at"]))
    return s


def advance_alerts(cfg: ChannelSettings, ch: Change) -> bool:
    """Start the next alert if one is due; True if one started."""
    started = alerts.advance(ch.state.alerts, ch.now, timing.gap_ms(cfg, ch.state))
    if started is None:
        return False
    ch.state.alerts, cur = started
    ch.queue_ops.append((alerts.POP_FRONT, None))
    play = {"action": "play", "donation": cur["donation"], "starts_at": wire.iso(cur["starts_at"]),
            "duration_ms": cur["duration_ms"], "tier": cur["tier"]}
    if "variation" in cur:
        play["variation"] = cur["variation"]
    clip = tts.clip_path(cfg, cur["donation"]) if cur.get("speak", True) else None
    if clip is not None:
        play["tts_url"] = clip
    ch.emit("alert", OVERLAY, play)
    _emit_queue(ch)
    return True


def control_alerts(cfg: ChannelSettings, state: ChannelState, action: str, now: int) -> Change:
    ch = Change.begin(state, now)
    ch.state.alerts = alerts.control(state.alerts, action, now)
    if action == "clear":
        ch.queue_ops.append((alerts.CLEAR, None))
    ch.emit("alert", OVERLAY, {"action": action})
    _emit_queue(ch)
    advance_alerts(cfg, ch)
    return ch


def replay(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], now: int) -> Change:
    if rec["status"] != "approved":
        raise DonationError("not_approved", f"a {rec['status']} donation cannot be replayed", "conflict")
    ch = Change.begin(state, now)
    _enqueue(cfg, ch, rec, front=True)
    advance_alerts(cfg, ch)
    return ch


def moderate(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], verdict: str, now: int) -> Change:
    """approve or reject a held donation (its money counted from the start either way),
    or reject a pending pledge (it never counts)."""
    pending_reject = rec["status"] == "pending" and verdict == "reject"
    if rec["status"] != "held" and not pending_reject:
        hint = "; confirm counts a pending pledge" if rec["status"] == "pending" else ""
        raise DonationError("not_held", f"the donation is {rec['status']}, not held{hint}", "conflict")
    ch = Change.begin(state, now)
    rec = dict(rec, status="approved" if verdict == "approve" else "rejected")
    if verdict == "approve":
        rec["reviewed"] = True  # approved by a moderator: what tts.only_approved speaks
    ch.donations.append(rec)
    if verdict == "approve":
        _publish_approved(cfg, ch, rec, reviewed=True)
        advance_alerts(cfg, ch)
    else:
        _emit_private(cfg, ch, rec)
    return ch


def refund(cfg: ChannelSettings, state: ChannelState, rec: dict[str, Any], now: int) -> Change | None:
    """A refunded payment leaves the totals and gives its matched part back to the cap."""
    if rec["status"] == "refunded" or rec["test"]:
        return None
    if not rec.get("counted", True):
        # A pledge never confirmed: there is nothing in the totals to take back.
        raise DonationError("not_counted", f"the pledge is {rec['status']} and was never counted", "conflict")
    ch = Change.begin(state, now)
    t = ch.state.totals
    t["raised"] -= rec["amount"]
    t["matched"] -= rec["matched"]
    t["count"] -= 1
    if own_part(rec) and ch.state.match is not None:  # the team's part goes back to the team's cap
        ch.state.match["used"] = max(ch.state.match["used"] - own_part(rec), 0)
    board = display.board_name(rec)
    if rec["status"] == "approved" and board:
        ch.leaderboard.append((board, -rec["amount"]))
    rec = dict(rec, status="refunded")
    ch.donations.append(rec)
    _emit_private(cfg, ch, rec)
    ch.emit("progress", OVERLAY, {"campaign": wire.campaign(cfg, ch.state)})
    if own_part(rec) and not rec["test"]:
        ch.emit("match", OVERLAY, {"match": wire.match(cfg, ch.state.match, now)})
    return ch


def set_match(cfg: ChannelSettings, state: ChannelState, sponsor: str, multiplier: Decimal, cap: int,
              starts_at: int | None, ends_at: int | None, now: int) -> Change:
    """Start a match, or change the running one (what it already used stays used)."""
    ch = Change.begin(state, now)
    used = state.match["used"] if state.match else 0
    ch.state.match = {"sponsor": sponsor, "multiplier": wire.plain_decimal(multiplier), "cap": cap,
                      "used": used, "starts_at": starts_at, "ends_at": ends_at}
    ch.emit("match", OVERLAY, {"match": wire.match(cfg, ch.state.match, now)})
    return ch


def end_match(cfg: ChannelSettings, state: ChannelState, now: int) -> Change:
    ch = Change.begin(state, now)
    ch.state.match = None
    ch.emit("match", OVERLAY, {"match": wire.match(cfg, None, now)})
    return ch


def patch_campaign(cfg: ChannelSettings, state: ChannelState, title: str | None, goal: int | None, now: int,
                   milestones: list[int] | None = None) -> Change:
    ch = Change.begin(state, now)
    if milestones is not None:
        ch.state.campaign = dict(ch.state.campaign, milestones=sorted(set(milestones)))
    if title is not None:
        ch.state.campaign["title"] = title
    if goal is not None:
        ch.state.campaign["goal"] = goal
    ch.emit("progress", OVERLAY, {"campaign": wire.campaign(cfg, ch.state)})
    return ch

"""Internal records (integer minor units, epoch ms) -> the JSON shapes of API.md §3 and §5."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from overlay.domain import display as shown, matching, money
from overlay.settings.channel import ChannelSettings

PRIVATE_DONATION_FIELDS = ("original_message", "flagged")
# A donation's money as the public would read it; all null when the donor hid the amount.
_AMOUNT_FIELDS = ("amount", "original_amount", "original_currency", "matched")


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1000)


def amount(cfg: ChannelSettings, minor: int) -> str:
    return money.to_decimal_string(minor, cfg.currency)


def plain_decimal(value: Decimal) -> str:
    """"2", "1.5", "100": never the exponent form str(Decimal) gives ("1E+2")."""
    return format(value.normalize(), "f")


def display(cfg: ChannelSettings, minor: int) -> str:
    return money.format_amount(minor, cfg.currency, cfg.locale)


def donation(cfg: ChannelSettings, rec: dict[str, Any], *, private: bool = False) -> dict[str, Any]:
    """A donation as clients see it; ``private`` adds what only moderators may read."""
    out = {
        "id": rec["id"], "seq": rec["seq"], "channel": cfg.id,
        "amount": amount(cfg, rec["amount"]), "currency": cfg.currency,
        "original_amount": money.to_decimal_string(rec["original_amount"], rec["original_currency"]),
        "original_currency": rec["original_currency"],
        "matched": amount(cfg, rec["matched"]),
        "donor_name": rec["donor_name"], "message": rec["message"],
        "source": rec["source"], "external_id": rec["external_id"], "test": rec["test"],
        "status": rec["status"], "created_at": iso(rec["created_at"]), "incentive": rec.get("incentive"),
        "display": {"amount": display(cfg, rec["amount"]), "matched": display(cfg, rec["matched"])},
    }
    out["show_amount"] = shown.shows_amount(rec)
    if private:
        out.update({k: rec.get(k) for k in PRIVATE_DONATION_FIELDS})
        out.update(display_name=rec.get("display_name", "full"), alias=rec.get("alias"),
                   public_name=shown.public_name(rec))
        return out
    if rec["status"] != "approved":
        out["message"] = None
    out["donor_name"] = shown.public_name(rec)
    if isinstance(out["incentive"], dict) and "suggestion" in out["incentive"]:
        # A suggestion shows once a moderator has accepted or merged it.
        if out["incentive"].get("suggestion_status") not in ("accepted", "merged"):
            out["incentive"] = {k: v for k, v in out["incentive"].items() if k != "suggestion"}
    if not out["show_amount"]:
        out.update(dict.fromkeys(_AMOUNT_FIELDS), display={"amount": None, "matched": None})
    return out


def campaign(cfg: ChannelSettings, state: Any) -> dict[str, Any]:
    goal = state.goal(cfg)
    raised, matched, count = state.totals["raised"], state.totals["matched"], state.totals["count"]
    total = raised + matched
    # Basis points from integers, then one division: percent is not money, a number is fine.
    percent = (total * 10000 // goal) / 100 if goal else 0
    return {
        "title": state.title(cfg), "goal": amount(cfg, goal), "raised": amount(cfg, raised),
        "matched": amount(cfg, matched), "total": amount(cfg, total), "percent": percent,
        "count": count, "currency": cfg.currency,
        "milestones": [amount(cfg, m) for m in state.milestones(cfg)],
        "display": {"goal": display(cfg, goal), "raised": display(cfg, raised),
                    "matched": display(cfg, matched), "total": display(cfg, total),
                    "milestones": [display(cfg, m) for m in state.milestones(cfg)]},
    }


def match(cfg: ChannelSettings, m: dict[str, Any] | None, now_ms: int) -> dict[str, Any]:
    if m is None:
        return {"active": False, "sponsor": None, "multiplier": None, "cap": None, "used": None,
                "remaining": None, "starts_at": None, "ends_at": None, "display": None}
    remaining = max(m["cap"] - m["used"], 0)
    return {
        "active": matching.is_match_active(m, now_ms), "sponsor": m["sponsor"], "multiplier": m["multiplier"],
        "cap": amount(cfg, m["cap"]), "used": amount(cfg, m["used"]), "remaining": amount(cfg, remaining),
        "starts_at": iso(m.get("starts_at")), "ends_at": iso(m.get("ends_at")),
        "display": {"cap": display(cfg, m["cap"]), "used": display(cfg, m["used"]),
                    "remaining": display(cfg, remaining)},
    }

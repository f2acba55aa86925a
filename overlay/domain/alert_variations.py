"""Alert variations: per channel, an ordered list of (condition, what changes) for an alert.

config.yaml gives the list (``alerts.variations``); moderators may replace it at run time
(``PUT …/alerts/variations``, the widget editor). The run-time list is part of the channel's
committed state (``ChannelState.variations["items"]``; None: config.yaml's), changed on the
channel's ordered writer like the alert timing (overlay.domain.timing).

The choice is made once, when the alert is queued (``choose``), and travels in the queue item,
so every overlay and every worker shows the same variation. The first variation whose
condition matches wins. A weighted variation (``when.weight``) is drawn: when the first match
is weighted, the winner is drawn among every matching weighted variation in proportion to the
weights, with the donation id as the seed, so the draw is the same everywhere.

``ChannelState.variations`` also keeps what the conditions need beyond the donation: the
biggest gift of the stream so far, and, while some variation asks about first or repeat
donors, the digests of the donors seen (by name, case-insensitive).
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from overlay.domain import money
from overlay.errors import Refusal

ID = re.compile(r"^[a-z0-9_-]{1,32}$")
PLACEHOLDERS = ("name", "amount", "message", "source")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
LAYOUTS = ("pop", "slide", "fade")  # the alert widget's animations
MAX_VARIATIONS = 50
MAX_TEXT = 200
# Donors remembered for first/repeat: each costs ~15 bytes of the state every commit rewrites.
# Beyond this the oldest are forgotten (a forgotten donor's next gift counts as a first).
MAX_DONORS = 20_000
CHANGES = ("image", "sound", "layout", "text", "duration_ms", "tts")


class VariationError(Refusal, ValueError):
    """A list of variations the API refuses (kind "invalid": 422); the message names the field."""


def empty() -> dict[str, Any]:
    return {"items": None, "biggest": 0, "donors": []}


def check(raw: list[dict[str, Any]], currency: str, incentive_ids: set[str]) -> list[dict[str, Any]]:
    """The variations as stored (amounts in minor units) from their wire form, or a
    ``VariationError`` naming the field (``variations[i].when.min_amount``) of the first
    variation that could never match or is malformed."""
    if len(raw) > MAX_VARIATIONS:
        raise VariationError("invalid_variations", f"variations: at most {MAX_VARIATIONS}")
    out, seen, catch_all = [], set(), None
    for i, var in enumerate(raw):
        where = f"variations[{i}]"
        if catch_all is not None:
            raise VariationError("unreachable_variation", f"{where}: can never match, variations[{catch_all}] "
                                 "has no condition and matches every alert before it")
        item = _check_one(var, where, currency, incentive_ids)
        if item["id"] in seen:
            raise VariationError("invalid_variations", f"{where}.id: {item['id']!r} is given twice")
        seen.add(item["id"])
        if not any(v is not None for k, v in item["when"].items() if k != "biggest") and not item["when"]["biggest"]:
            catch_all = i
        out.append(item)
    return out


def _fail(field: str, message: str) -> VariationError:
    return VariationError("invalid_variations", f"{field}: {message}")


def _check_one(var: dict[str, Any], where: str, currency: str, incentive_ids: set[str]) -> dict[str, Any]:
    if not isinstance(var.get("id"), str) or not ID.match(var["id"]):
        raise _fail(f"{where}.id", "must match [a-z0-9_-]{1,32}")
    when = dict(var.get("when") or {})
    lo, hi = (_amount(when.get(k), f"{where}.when.{k}", currency) for k in ("min_amount", "max_amount"))
    if lo is not None and hi is not None and lo > hi:
        raise _fail(f"{where}.when.min_amount", "is greater than max_amount: no amount can match")
    incentive = when.get("incentive")
    if incentive is not None and incentive not in incentive_ids:
        raise _fail(f"{where}.when.incentive", f"no incentive {str(incentive)[:40]!r}; "
                    f"incentives: {', '.join(sorted(incentive_ids)) or 'none'}")
    weight = when.get("weight")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0):
        raise _fail(f"{where}.when.weight", "must be a whole number > 0")
    if when.get("donor") not in (None, "first", "repeat"):
        raise _fail(f"{where}.when.donor", "must be first, repeat or null")
    text = var.get("text")
    if text is not None:
        _check_template(text, f"{where}.text")
    if var.get("layout") not in (None, *LAYOUTS):
        raise _fail(f"{where}.layout", f"must be one of {', '.join(LAYOUTS)} or null")
    return {"id": var["id"], "when": {
        "min_amount": lo, "max_amount": hi, "source": when.get("source"), "donor": when.get("donor"),
        "biggest": bool(when.get("biggest")), "incentive": incentive, "test": when.get("test"),
        "weight": weight}, **{k: var.get(k) for k in CHANGES}}


def _amount(value: Any, field: str, currency: str) -> int | None:
    if value is None:
        return None
    try:
        return money.parse_amount(value, currency, allow_zero=True)
    except money.MoneyError as exc:
        raise _fail(field, str(exc)) from None


def _check_template(text: str, field: str) -> None:
    if len(text) > MAX_TEXT:
        raise _fail(field, f"at most {MAX_TEXT} characters")
    for name in _PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            raise _fail(field, f"unknown placeholder {{{name[:20]}}}; placeholders: "
                        + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))


def public(items: list[dict[str, Any]], currency: str) -> list[dict[str, Any]]:
    """The wire form: amounts as decimal strings."""
    def amount(v: int | None) -> str | None:
        return None if v is None else money.to_decimal_string(v, currency)
    return [{**v, "when": {**v["when"], "min_amount": amount(v["when"]["min_amount"]),
                           "max_amount": amount(v["when"]["max_amount"])}} for v in items]


def donor_key(name: str | None) -> str | None:
    """A short digest of the donor's name, case-insensitive: what the state keeps of donors."""
    if not name:
        return None
    return hashlib.sha256(name.strip().casefold().encode()).hexdigest()[:12]


def uses_donors(items: list[dict[str, Any]]) -> bool:
    return any(v["when"]["donor"] for v in items)


def _matches(when: dict[str, Any], rec: dict[str, Any], first: bool | None, biggest: bool) -> bool:
    amount = rec["amount"]
    incentive = (rec.get("incentive") or {}).get("id") if isinstance(rec.get("incentive"), dict) else None
    return not (
        (when["min_amount"] is not None and amount < when["min_amount"])
        or (when["max_amount"] is not None and amount > when["max_amount"])
        or (when["source"] is not None and rec["source"] != when["source"])
        or (when["donor"] is not None and (first is None or first != (when["donor"] == "first")))
        or (when["biggest"] and not biggest)
        or (when["incentive"] is not None and incentive != when["incentive"])
        or (when["test"] is not None and bool(rec["test"]) != bool(when["test"])))


def draw(seed: str, weights: list[int]) -> int:
    """The index drawn in proportion to ``weights``, the same for one seed everywhere."""
    point = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % sum(weights)
    for i, w in enumerate(weights):
        if point < w:
            return i
        point -= w
    return len(weights) - 1


def choose(items: list[dict[str, Any]], rec: dict[str, Any], *, first: bool | None,
           biggest: bool) -> dict[str, Any] | None:
    """The variation this donation's alert shows, or None. ``first``: whether this is the
    donor's first gift (None: no name, or donors are not tracked); ``biggest``: whether it is
    the biggest gift of the stream so far."""
    matching = [v for v in items if _matches(v["when"], rec, first, biggest)]
    if not matching:
        return None
    if matching[0]["when"]["weight"] is None:
        return matching[0]
    pool = [v for v in matching if v["when"]["weight"] is not None]
    return pool[draw(rec["id"], [v["when"]["weight"] for v in pool])]


def shown(variation: dict[str, Any]) -> dict[str, Any]:
    """What a ``play`` event carries: the id and what the variation changes (set keys only)."""
    return {"id": variation["id"], **{k: variation[k] for k in CHANGES if variation.get(k) is not None}}


def pick(items: list[dict[str, Any]], kept: dict[str, Any] | None, rec: dict[str, Any],
         *, counts: bool) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(what the state keeps after this donation, the variation its alert shows or None).
    ``counts``: a real gift seen for the first time (not a test, not a replay): only such a
    gift updates the biggest gift and the donors seen; a test or a replay is judged against
    them as they stand, so a test donation can preview a first-gift or biggest-gift variation."""
    kept = kept or empty()
    key = donor_key(rec.get("donor_name")) if uses_donors(items) else None
    first = None if key is None else key not in kept["donors"]
    biggest = rec["amount"] > kept["biggest"]
    variation = choose(items, rec, first=first, biggest=biggest)
    if counts and (biggest or first):
        kept = {**kept, "biggest": max(kept["biggest"], rec["amount"])}
        if first:
            kept["donors"] = [*kept["donors"], key][-MAX_DONORS:]
    return kept, None if variation is None else shown(variation)

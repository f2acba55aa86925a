"""HTTP API of API.md §4 under /api/v1. Each handler validates its own input."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from overlay import keys
from overlay.domain import money, wire
from overlay.web.auth import is_reader, matching_token, bearer, moderator_session, require_moderator
from overlay.config import ChannelSettings
from overlay.domain.donations import DonationInput
from overlay.web.errors import ApiError, read_json
from overlay.service import ChannelService

ALERT_ACTIONS = ("skip", "pause", "resume", "clear", "skip_speech")
DONATION_ACTIONS = ("replay", "approve", "reject", "refund", "confirm")
TEXT_LIMIT = 2000
# First guesses at the donation body's field names, answered with the real one (not aliased:
# one spelling on the wire, and a typo never silently drops the donor's name).
FIELD_HINTS = {"name": "donor_name", "donor": "donor_name", "donorName": "donor_name", "username": "donor_name",
               "comment": "message", "note": "message"}


def service_for(request: web.Request) -> ChannelService:
    svc = request.app[keys.SERVICES].get(request.match_info["ch"])
    if svc is None:
        raise ApiError(404, "channel_not_found", "no such channel")
    return svc


def moderator(request: web.Request) -> ChannelService:
    svc = service_for(request)
    require_moderator(svc.cfg, request)
    return svc


def _opt_text(body: dict[str, Any], field: str, limit: int = TEXT_LIMIT) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, f"invalid_{field}", f"{field} must be a string")
    if len(value) > limit:
        raise ApiError(422, f"invalid_{field}", f"{field} must be at most {limit} characters")
    return value


def donation_input(body: dict[str, Any], *, source: str = "api") -> DonationInput:
    unknown = set(body) - {"amount", "currency", "donor_name", "message", "external_id", "source", "test"}
    if unknown:
        field = sorted(unknown)[0]
        hint = f" (did you mean {FIELD_HINTS[field]}?)" if field in FIELD_HINTS else ""
        raise ApiError(422, "unknown_field", f"unknown field: {field[:40]}{hint}")
    if "amount" not in body:
        raise ApiError(422, "invalid_amount", "amount is required")
    test = body.get("test", False)
    if not isinstance(test, bool):
        raise ApiError(422, "invalid_test", "test must be true or false")
    currency = body.get("currency")
    if currency is not None and not isinstance(currency, str):
        raise ApiError(422, "invalid_currency", "currency must be an ISO 4217 code")
    src = body.get("source", source)
    if not isinstance(src, str):
        raise ApiError(422, "invalid_source", "source must be a string")
    return DonationInput(amount=body["amount"], currency=currency, donor_name=_opt_text(body, "donor_name", 200),
                         message=_opt_text(body, "message"), source=src,
                         external_id=_opt_text(body, "external_id", 255), test=test)


async def post_donation(request: web.Request) -> web.Response:
    svc = moderator(request)
    rec, created = await svc.donate(donation_input(await read_json(request)))
    return web.json_response(wire.donation(svc.cfg, rec, private=True), status=201 if created else 200)


def _int_param(request: web.Request, name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise ApiError(400, f"invalid_{name}", f"{name} must be an integer from {lo} to {hi}")
    return int(raw)


def _reader(request: web.Request) -> tuple[ChannelService, bool]:
    """(service, is moderator) for read endpoints: overlay key or moderator."""
    svc = service_for(request)
    if not is_reader(svc.cfg, request):
        raise ApiError(401, "unauthorized", "an overlay key or moderator token is required")
    is_mod = matching_token(svc.cfg, bearer(request)) is not None or moderator_session(svc.cfg, request) is not None
    return svc, is_mod


async def list_donations(request: web.Request) -> web.Response:
    svc, is_mod = _reader(request)
    after = _int_param(request, "after_seq", None, 0, 2**53)
    limit = _int_param(request, "limit", 50, 1, 500)
    recs = await svc.store.list_donations(svc.cfg.id, after_seq=after, limit=limit or 50)
    if not is_mod:
        recs = [r for r in recs if r["status"] == "approved"]
    return web.json_response({"donations": [wire.donation(svc.cfg, r, private=is_mod) for r in recs]})


async def get_state(request: web.Request) -> web.Response:
    svc, is_mod = _reader(request)
    return web.json_response(await svc.snapshot(moderator=is_mod))


async def alert_action(request: web.Request) -> web.Response:
    svc = moderator(request)
    action = request.match_info["action"]
    if action not in ALERT_ACTIONS:
        raise ApiError(404, "unknown_action", f"action must be one of {', '.join(ALERT_ACTIONS)}")
    await svc.control(action)
    return web.json_response({"ok": True, "action": action})


async def donation_action(request: web.Request) -> web.Response:
    svc = moderator(request)
    action, donation_id = request.match_info["action"], request.match_info["id"]
    if action not in DONATION_ACTIONS:
        raise ApiError(404, "unknown_action", f"action must be one of {', '.join(DONATION_ACTIONS)}")
    if len(donation_id) > 64:
        raise ApiError(404, "donation_not_found", "no such donation")
    if action == "replay":
        await svc.replay(donation_id)
        return web.json_response({"ok": True, "action": action})
    if action == "refund":
        rec = await svc.refund_donation(donation_id)
        return web.json_response(wire.donation(svc.cfg, rec, private=True))
    if action == "confirm":
        rec = await svc.confirm(donation_id)
        return web.json_response(wire.donation(svc.cfg, rec, private=True))
    rec = await svc.moderate(donation_id, action)
    return web.json_response(wire.donation(svc.cfg, rec, private=True))


def _amount(cfg: ChannelSettings, body: dict[str, Any], field: str) -> int:
    try:
        return money.parse_amount(body.get(field), cfg.currency)
    except money.MoneyError as exc:
        raise ApiError(422, f"invalid_{field}", f"{field}: {exc}") from None


def _time(body: dict[str, Any], field: str) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        return wire.to_ms(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise ApiError(422, f"invalid_{field}", f"{field} must be an ISO 8601 date-time") from None


async def put_match(request: web.Request) -> web.Response:
    svc = moderator(request)
    body = await read_json(request)
    sponsor = _opt_text(body, "sponsor", 100)
    if not sponsor or not sponsor.strip():
        raise ApiError(422, "invalid_sponsor", "sponsor is required")
    try:
        multiplier = Decimal(str(body.get("multiplier", "2")))
    except ArithmeticError:
        multiplier = Decimal("NaN")
    if not multiplier.is_finite() or not 1 <= multiplier <= 100 or isinstance(body.get("multiplier"), bool):
        raise ApiError(422, "invalid_multiplier", "multiplier must be a number from 1 to 100")
    cap = _amount(svc.cfg, body, "cap")
    starts, ends = _time(body, "starts_at"), _time(body, "ends_at")
    if starts is not None and ends is not None and ends <= starts:
        raise ApiError(422, "invalid_ends_at", "ends_at must be after starts_at")
    return web.json_response(await svc.set_match(sponsor.strip(), multiplier, cap, starts, ends))


async def delete_match(request: web.Request) -> web.Response:
    return web.json_response(await moderator(request).end_match())


async def patch_campaign(request: web.Request) -> web.Response:
    svc = moderator(request)
    body = await read_json(request)
    if set(body) - {"title", "goal"}:
        raise ApiError(422, "unknown_field", "only title and goal can be changed")
    title = _opt_text(body, "title", 200)
    goal = _amount(svc.cfg, body, "goal") if body.get("goal") is not None else None
    return web.json_response(await svc.patch_campaign(title, goal))


def setup_api(app: web.Application) -> None:
    base = "/api/v1/channels/{ch}"
    app.router.add_post(f"{base}/donations", post_donation)
    app.router.add_get(f"{base}/donations", list_donations)
    app.router.add_get(f"{base}/state", get_state)
    app.router.add_post(f"{base}/alerts/{{action}}", alert_action)
    app.router.add_post(f"{base}/donations/{{id}}/{{action}}", donation_action)
    app.router.add_put(f"{base}/match", put_match)
    app.router.add_delete(f"{base}/match", delete_match)
    app.router.add_patch(f"{base}/campaign", patch_campaign)

"""HTTP API of API.md §4 under /api/v1. Each handler declares, on its route, who may call it
and the models of what it accepts (overlay.web.routes); the OpenAPI document is written from
the same declarations (overlay.web.openapi)."""
from __future__ import annotations

from aiohttp import web

from overlay import keys
from overlay.domain import money, wire
from overlay.web.auth import is_reader, matching_token, bearer, moderator_session, require_moderator
from overlay.config import ChannelSettings
from overlay.domain.donations import DonationInput
from overlay.web.api_models import CampaignBody, Campaign, Donation, DonationBody, DonationList, DonationsQuery, \
    Done, Match, MatchBody, Reloaded, ReloadBody, State
from overlay.http.errors import ApiError
from overlay.web.routes import Access, Routes
from overlay.service.channel import ChannelService

ALERT_ACTIONS = ("skip", "pause", "resume", "clear", "skip_speech")
DONATION_ACTIONS = ("replay", "approve", "reject", "refund", "confirm")
MAX_DONATION_ID = 64


def service_for(request: web.Request) -> ChannelService:
    svc = request.app[keys.REGISTRY].service(request.match_info["ch"])
    if svc is None:
        raise ApiError(404, "channel_not_found", "no such channel")
    return svc


def moderator(request: web.Request) -> ChannelService:
    svc = service_for(request)
    require_moderator(svc.cfg, request)
    return svc


def reader(request: web.Request) -> tuple[ChannelService, bool]:
    """(service, is moderator) for read endpoints: overlay key or moderator."""
    svc = service_for(request)
    if not is_reader(svc.cfg, request):
        raise ApiError(401, "unauthorized", "an overlay key or moderator token is required")
    is_mod = matching_token(svc.cfg, bearer(request)) is not None or moderator_session(svc.cfg, request) is not None
    return svc, is_mod


MODERATOR = Access("moderator", moderator, ({"bearer": []},))
READER = Access("reader", reader, ({"bearer": []}, {"overlayKey": []}))
CHANNEL = {"ch": {"type": "string", "pattern": "^[a-z0-9-]{1,32}$", "description": "channel id"}}
DONATION = {**CHANNEL, "id": {"type": "string", "minLength": 1, "maxLength": MAX_DONATION_ID}}
routes = Routes()


def donation_input(body: DonationBody) -> DonationInput:
    return DonationInput(amount=body.amount, currency=body.currency, donor_name=body.donor_name,
                         message=body.message, source=body.source, external_id=body.external_id, test=body.test,
                         incentive=body.incentive.model_dump(exclude_none=True) if body.incentive else None,
                         display_name=body.display_name, alias=body.alias, show_amount=body.show_amount,
                         simulate_match=body.simulate_match)


@routes.post("/channels/{ch}/donations", access=MODERATOR, body=DonationBody, ok={201: Donation, 200: Donation},
             path_params=CHANNEL, summary="Record a donation (200 with the stored one when idempotent)")
async def post_donation(request: web.Request, svc: ChannelService, body: DonationBody) -> web.Response:
    rec, created = await svc.donate(donation_input(body))
    return web.json_response(wire.donation(svc.cfg, rec, private=True), status=201 if created else 200)


@routes.get("/channels/{ch}/donations", access=READER, query=DonationsQuery, ok={200: DonationList},
            path_params=CHANNEL, summary="Donations, newest first unless after_seq is given")
async def list_donations(request: web.Request, ctx: tuple[ChannelService, bool],
                         query: DonationsQuery) -> web.Response:
    svc, is_mod = ctx
    recs = await svc.donations_page(after_seq=query.after_seq, limit=query.limit or 50)
    if not is_mod:
        recs = [r for r in recs if r["status"] == "approved"]
    return web.json_response({"donations": [wire.donation(svc.cfg, r, private=is_mod) for r in recs]})


@routes.get("/channels/{ch}/state", access=READER, ok={200: State}, path_params=CHANNEL,
            summary="The snapshot of API.md §5")
async def get_state(request: web.Request, ctx: tuple[ChannelService, bool]) -> web.Response:
    svc, is_mod = ctx
    return web.json_response(await svc.snapshot(moderator=is_mod))


@routes.post("/channels/{ch}/alerts/{action}", access=MODERATOR, ok={200: Done},
             path_params={**CHANNEL, "action": {"enum": list(ALERT_ACTIONS)}}, summary="Alert queue control")
async def alert_action(request: web.Request, svc: ChannelService) -> web.Response:
    action = request.match_info["action"]
    if action not in ALERT_ACTIONS:
        raise ApiError(404, "unknown_action", f"action must be one of {', '.join(ALERT_ACTIONS)}")
    await svc.control(action)
    return web.json_response({"ok": True, "action": action})


@routes.post("/channels/{ch}/donations/{id}/{action}", access=MODERATOR, ok={200: Donation | Done},
             path_params={**DONATION, "action": {"enum": list(DONATION_ACTIONS)}}, errors=(409,),
             summary="replay its alert ({ok, action}); approve, reject, refund or confirm it (the donation)")
async def donation_action(request: web.Request, svc: ChannelService) -> web.Response:
    action, donation_id = request.match_info["action"], request.match_info["id"]
    if action not in DONATION_ACTIONS:
        raise ApiError(404, "unknown_action", f"action must be one of {', '.join(DONATION_ACTIONS)}")
    if len(donation_id) > MAX_DONATION_ID:
        raise ApiError(404, "donation_not_found", "no such donation")
    if action == "replay":
        await svc.replay(donation_id)
        return web.json_response({"ok": True, "action": action})
    if action == "refund":
        rec = await svc.refund_donation(donation_id)
    elif action == "confirm":
        rec = await svc.confirm(donation_id)
    else:
        rec = await svc.moderate(donation_id, action)
    return web.json_response(wire.donation(svc.cfg, rec, private=True))


def _amount(cfg: ChannelSettings, value: object, field: str) -> int:
    try:
        return money.parse_amount(value, cfg.currency)
    except money.MoneyError as exc:
        raise ApiError(422, f"invalid_{field}", f"{field}: {exc}") from None


@routes.put("/channels/{ch}/match", access=MODERATOR, body=MatchBody, ok={200: Match}, path_params=CHANNEL,
            summary="Start or change the match")
async def put_match(request: web.Request, svc: ChannelService, body: MatchBody) -> web.Response:
    cap = _amount(svc.cfg, body.cap, "cap")
    if body.starts_at is not None and body.ends_at is not None and body.ends_at <= body.starts_at:
        raise ApiError(422, "invalid_ends_at", "ends_at must be after starts_at")
    return web.json_response(await svc.set_match(body.sponsor.strip(), body.multiplier, cap,
                                                 body.starts_at, body.ends_at))


@routes.delete("/channels/{ch}/match", access=MODERATOR, ok={200: Match}, path_params=CHANNEL,
               summary="End the match")
async def delete_match(request: web.Request, svc: ChannelService) -> web.Response:
    return web.json_response(await svc.end_match())


@routes.patch("/channels/{ch}/campaign", access=MODERATOR, body=CampaignBody, ok={200: Campaign},
              path_params=CHANNEL, summary="Change the campaign's title or goal")
async def patch_campaign(request: web.Request, svc: ChannelService, body: CampaignBody) -> web.Response:
    goal = _amount(svc.cfg, body.goal, "goal") if body.goal is not None else None
    milestones = None if body.milestones is None else [_amount(svc.cfg, m, "milestones") for m in body.milestones]
    return web.json_response(await svc.patch_campaign(body.title, goal, milestones))


@routes.post("/channels/{ch}/overlays/reload", access=MODERATOR, body=ReloadBody, ok={200: Reloaded},
             path_params=CHANNEL, summary="Make the channel's open overlay pages reload themselves")
async def reload_overlays(request: web.Request, svc: ChannelService, body: ReloadBody) -> web.Response:
    seq = await svc.reload_overlays(body.widget)
    return web.json_response({"ok": True, "seq": seq, "widget": body.widget})


def setup_api(app: web.Application) -> None:
    routes.add_to(app)

"""HTTP API of incentives (API.md §7) under /api/v1/channels/{ch}."""
from __future__ import annotations

from aiohttp import web

from overlay.service.channel import ChannelService
from overlay.web.api import CHANNEL, DONATION, MODERATOR, READER
from overlay.http.errors import ApiError
from overlay.web.incentive_models import Decided, Donation, IncentiveBody, IncentiveEdit, IncentiveList, Incentive, \
    MergeBody, MoveBody, Removed, RewardBody, RewardList, SuggestionList
from overlay.web.routes import Routes

MAX_ID = 64
INCENTIVE = {**CHANNEL, "iid": {"type": "string", "minLength": 1}}
SUGGESTION = {**INCENTIVE, "did": {"type": "string", "minLength": 1, "description": "the suggesting donation's id"}}
routes = Routes()


def _id(request: web.Request, name: str, code: str) -> str:
    value = request.match_info[name]
    if len(value) > MAX_ID:
        raise ApiError(404, code, f"no such {code.removesuffix('_not_found')}")
    return value


@routes.get("/channels/{ch}/incentives", access=READER, ok={200: IncentiveList}, path_params=CHANNEL)
async def list_incentives(request: web.Request, ctx: tuple[ChannelService, bool]) -> web.Response:
    """The channel's incentives with their progress."""
    return web.json_response(await ctx[0].incentive_list())


@routes.post("/channels/{ch}/incentives", access=MODERATOR, body=IncentiveBody, ok={201: Incentive},
             path_params=CHANNEL, errors=(409,))
async def post_incentive(request: web.Request, svc: ChannelService, body: IncentiveBody) -> web.Response:
    """Create an incentive (target, poll or reward)."""
    return web.json_response(await svc.create_incentive(body.root), status=201)


@routes.patch("/channels/{ch}/incentives/{iid}", access=MODERATOR, body=IncentiveEdit, ok={200: Incentive},
              path_params=INCENTIVE, errors=(409,))
async def patch_incentive(request: web.Request, svc: ChannelService, body: IncentiveEdit) -> web.Response:
    """Change an incentive's settings (not its id or kind)."""
    incentive_id = _id(request, "iid", "incentive_not_found")
    patch = body.root.model_dump(exclude_unset=True)
    if patch.get("id", incentive_id) != incentive_id:
        raise ApiError(422, "invalid_incentive", "an incentive's id and kind cannot change")
    return web.json_response(await svc.update_incentive(incentive_id, patch))


@routes.delete("/channels/{ch}/incentives/{iid}", access=MODERATOR, ok={200: Removed}, path_params=INCENTIVE,
               errors=(409,))
async def delete_incentive(request: web.Request, svc: ChannelService) -> web.Response:
    """Remove an incentive."""
    incentive_id = _id(request, "iid", "incentive_not_found")
    await svc.remove_incentive(incentive_id)
    return web.json_response({"ok": True, "id": incentive_id})


@routes.post("/channels/{ch}/donations/{id}/incentive", access=MODERATOR, body=MoveBody, ok={200: Donation},
             path_params=DONATION, errors=(409,))
async def move_donation(request: web.Request, svc: ChannelService, body: MoveBody) -> web.Response:
    """Move a donation to another incentive, or out of any (``{"id": null}``)."""
    sent = body.model_dump(exclude_unset=True)
    # Out of any incentive: exactly {"id": null} (an option null too); anything else is checked.
    out = "id" in sent and set(sent) <= {"id", "option"} and all(v is None for v in sent.values())
    choice = None if out else sent
    return web.json_response(await svc.reallocate(_id(request, "id", "donation_not_found"), choice))


@routes.post("/channels/{ch}/donations/{id}/reward", access=MODERATOR, body=RewardBody, ok={200: Donation},
             path_params=DONATION, errors=(409,))
async def mark_reward(request: web.Request, svc: ChannelService, body: RewardBody) -> web.Response:
    """Mark a donation's reward as given (or not)."""
    return web.json_response(await svc.fulfil_reward(_id(request, "id", "donation_not_found"), body.fulfilled))


@routes.get("/channels/{ch}/rewards", access=MODERATOR, ok={200: RewardList}, path_params=CHANNEL)
async def list_rewards(request: web.Request, svc: ChannelService) -> web.Response:
    """The rewards owed, given or not."""
    return web.json_response({"rewards": await svc.rewards()})


def setup_incentives(app: web.Application) -> None:
    """Call before ``setup_api``: its ``donations/{id}/{action}`` would take these paths."""
    routes.add_to(app)


@routes.get("/channels/{ch}/incentives/{iid}/suggestions", access=MODERATOR, ok={200: SuggestionList},
            path_params=INCENTIVE)
async def list_suggestions(request: web.Request, svc: ChannelService) -> web.Response:
    """A poll's suggestions waiting for a moderator, oldest first."""
    iid = _id(request, "iid", "incentive_not_found")
    return web.json_response({"suggestions": await svc.suggestions(iid)})


async def _decide(request: web.Request, svc: ChannelService, verdict: str, option: str | None = None) -> web.Response:
    iid, did = _id(request, "iid", "incentive_not_found"), _id(request, "did", "donation_not_found")
    return web.json_response(await svc.decide_suggestion(iid, did, verdict, option))


@routes.post("/channels/{ch}/incentives/{iid}/suggestions/{did}/accept", access=MODERATOR, ok={200: Decided},
             path_params=SUGGESTION, errors=(409,))
async def accept_suggestion(request: web.Request, svc: ChannelService) -> web.Response:
    """Make a suggestion a new option of the poll, holding its donation's money."""
    return await _decide(request, svc, "accept")


@routes.post("/channels/{ch}/incentives/{iid}/suggestions/{did}/merge", access=MODERATOR, body=MergeBody,
             ok={200: Decided}, path_params=SUGGESTION, errors=(409,))
async def merge_suggestion(request: web.Request, svc: ChannelService, body: MergeBody) -> web.Response:
    """Move a suggestion's money to an existing option."""
    return await _decide(request, svc, "merge", body.option)


@routes.post("/channels/{ch}/incentives/{iid}/suggestions/{did}/reject", access=MODERATOR, ok={200: Decided},
             path_params=SUGGESTION, errors=(409,))
async def reject_suggestion(request: web.Request, svc: ChannelService) -> web.Response:
    """Turn a suggestion down: its money stays in the poll, unallocated."""
    return await _decide(request, svc, "reject")

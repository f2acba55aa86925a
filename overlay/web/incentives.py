"""HTTP API of incentives (API.md §7) under /api/v1/channels/{ch}."""
from __future__ import annotations

from aiohttp import web

from overlay import incentive_service as incentives
from overlay.web.api import moderator, reader
from overlay.web.errors import ApiError, read_json

MAX_ID = 64


def _id(request: web.Request, name: str, code: str) -> str:
    value = request.match_info[name]
    if len(value) > MAX_ID:
        raise ApiError(404, code, f"no such {code.removesuffix('_not_found')}")
    return value


async def list_incentives(request: web.Request) -> web.Response:
    svc, _ = reader(request)
    return web.json_response(await incentives.listing(svc))


async def post_incentive(request: web.Request) -> web.Response:
    svc = moderator(request)
    created = await incentives.create(svc, incentives.settings_from(await read_json(request)))
    return web.json_response(created, status=201)


async def patch_incentive(request: web.Request) -> web.Response:
    svc = moderator(request)
    incentive_id = _id(request, "iid", "incentive_not_found")
    body = await read_json(request)
    if body.get("id", incentive_id) != incentive_id or "kind" in body:
        raise ApiError(422, "invalid_incentive", "an incentive's id and kind cannot change")
    return web.json_response(await incentives.update(svc, incentive_id, body))


async def delete_incentive(request: web.Request) -> web.Response:
    svc = moderator(request)
    incentive_id = _id(request, "iid", "incentive_not_found")
    await incentives.remove(svc, incentive_id)
    return web.json_response({"ok": True, "id": incentive_id})


async def move_donation(request: web.Request) -> web.Response:
    """Body ``{id, option?}``; ``{"id": null}`` takes the donation out of any incentive."""
    svc = moderator(request)
    body = await read_json(request)
    choice = None if body.get("id", "") is None else body
    return web.json_response(await incentives.reallocate(svc, _id(request, "id", "donation_not_found"), choice))


async def mark_reward(request: web.Request) -> web.Response:
    svc = moderator(request)
    body = await read_json(request)
    done = body.get("fulfilled")
    if not isinstance(done, bool) or set(body) != {"fulfilled"}:
        raise ApiError(422, "invalid_fulfilled", "send {\"fulfilled\": true} or {\"fulfilled\": false}")
    return web.json_response(await incentives.fulfil(svc, _id(request, "id", "donation_not_found"), done))


async def list_rewards(request: web.Request) -> web.Response:
    return web.json_response({"rewards": await incentives.rewards(moderator(request))})


def setup_incentives(app: web.Application) -> None:
    """Call before ``setup_api``: its ``donations/{id}/{action}`` would take these paths."""
    base = "/api/v1/channels/{ch}"
    app.router.add_get(f"{base}/incentives", list_incentives)
    app.router.add_post(f"{base}/incentives", post_incentive)
    app.router.add_patch(f"{base}/incentives/{{iid}}", patch_incentive)
    app.router.add_delete(f"{base}/incentives/{{iid}}", delete_incentive)
    app.router.add_post(f"{base}/donations/{{id}}/incentive", move_donation)
    app.router.add_post(f"{base}/donations/{{id}}/reward", mark_reward)
    app.router.add_get(f"{base}/rewards", list_rewards)

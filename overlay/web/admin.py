"""The admin API (docs/api.md §8): channels as data, behind ``server.admin_tokens``.

Config channels are listed and shown but read-only here (409 ``channel_in_config``): config.yaml
stays their one source. A change is written to the store, applied to this process at once, and
reaches every other process through the store's channel notifications (docs/channels.md).
"""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from overlay import keys
from overlay.channel_records import disabled_view, hash_token, new_secret, page, record_of, settings_of, view
from overlay.config import ChannelSettings
from overlay.domain import wire
from overlay.clock import now_ms
from overlay.web.admin_models import (ChannelChange, ChannelList, ChannelsQuery, Created, NewChannel, Rotate,
                                      Rotated, AdminChannel, channel_refusal)
from overlay.web.auth import admins, require_moderator
from overlay.http.errors import ApiError
from overlay.web.routes import Access, Routes

CHANNEL_ID = {"id": {"type": "string", "pattern": "^[a-z0-9-]{1,32}$", "description": "channel id"}}
routes = Routes()


def admin(request: web.Request) -> None:
    """An admin token, or the admin page's session (+ its CSRF header for writes)."""
    require_moderator(admins(request), request, "admin", "admin")


ADMIN = Access("admin", admin, ({"bearer": []},))


def _validated(data: dict[str, Any]) -> ChannelSettings:
    try:
        return ChannelSettings.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, *channel_refusal(exc.errors(include_url=False))) from None


async def _stored(request: web.Request, channel_id: str) -> dict[str, Any]:
    """The record of a channel of the admin API: 404 if none, 409 for a config channel."""
    if request.app[keys.REGISTRY].in_config(channel_id):
        raise ApiError(409, "channel_in_config", "this channel is defined in config.yaml: change it there")
    record = await request.app[keys.DIRECTORY].channel(channel_id)
    if record is None:
        raise ApiError(404, "channel_not_found", "no such channel")
    return record


async def _save(request: web.Request, record: dict[str, Any], cfg: ChannelSettings | None = None,
                **changes: Any) -> dict[str, Any]:
    """Write a changed record, apply it here at once; the other processes follow (the store tells them)."""
    cfg = cfg or settings_of(record)
    record = record_of(cfg, disabled=changes.get("disabled", record["disabled"]), created_at=record["created_at"],
                       updated_at=wire.iso(now_ms()), version=record["version"] + 1)
    await request.app[keys.DIRECTORY].put_channel(cfg.id, record, create=False)
    request.app[keys.REGISTRY].apply(cfg.id, record)
    return record


def _answer(record: dict[str, Any]) -> web.Response:
    return web.json_response(disabled_view(record))


def _with_secrets(record: dict[str, Any], secrets: dict[str, str], status: int = 200) -> web.Response:
    return web.json_response({"channel": disabled_view(record), **secrets}, status=status)


async def create_stored(request: web.Request, body: NewChannel) -> tuple[dict[str, Any], dict[str, str]]:
    """Store a new channel and apply it here: (its record, its secrets to show once)."""
    registry, token, stamp = request.app[keys.REGISTRY], new_secret(), wire.iso(now_ms())
    cfg = _validated({**body.model_dump(mode="json", exclude_unset=True, exclude={"live"}),
                      "overlay_key": new_secret(), "moderator_tokens": [hash_token(token)]})
    record = record_of(cfg, disabled=False, created_at=stamp, updated_at=stamp, version=1)
    if registry.in_config(cfg.id) or not await request.app[keys.DIRECTORY].put_channel(cfg.id, record, create=True):
        raise ApiError(409, "channel_exists", f"a channel with the id {cfg.id} exists")
    registry.apply(cfg.id, record)
    return record, {"overlay_key": cfg.overlay_key, "moderator_token": token}


@routes.post("/admin/channels", access=ADMIN, body=NewChannel, ok={201: Created}, errors=(401, 409, 422))
async def create_channel(request: web.Request, _: None, body: NewChannel) -> web.Response:
    """Create a channel: its overlay key and moderator token are made here, the token shown only now"""
    return _with_secrets(*await create_stored(request, body), status=201)


@routes.get("/admin/channels", access=ADMIN, query=ChannelsQuery, ok={200: ChannelList}, errors=(401,))
async def list_channels(request: web.Request, _: None, query: ChannelsQuery) -> web.Response:
    """Channels by id, config.yaml's and the admin API's, searched by id or name"""
    registry = request.app[keys.REGISTRY]
    stored, _cursor = await request.app[keys.DIRECTORY].channels(query.q, 1_000_000, None)
    configured = [{**view(c, None)} for c in map(registry.settings, registry.config_ids()) if c is not None]
    found, cursor = page(configured + stored, query.q, query.limit, query.cursor)
    return web.json_response({"channels": [r if r.get("source") == "config" else disabled_view(r) for r in found],
                              "next_cursor": cursor})


@routes.get("/admin/channels/{id}", access=ADMIN, ok={200: AdminChannel}, path_params=CHANNEL_ID, errors=(401,))
async def get_channel(request: web.Request, _: None) -> web.Response:
    """One channel"""
    channel_id = request.match_info["id"]
    cfg = request.app[keys.REGISTRY].settings(channel_id)
    if cfg is not None and request.app[keys.REGISTRY].in_config(channel_id):
        return web.json_response(view(cfg, None))
    record = await request.app[keys.DIRECTORY].channel(channel_id)
    if record is None:
        raise ApiError(404, "channel_not_found", "no such channel")
    return _answer(record)


@routes.patch("/admin/channels/{id}", access=ADMIN, body=ChannelChange, ok={200: AdminChannel},
              path_params=CHANNEL_ID, errors=(401, 409, 422))
async def change_channel(request: web.Request, _: None, body: Any) -> web.Response:
    """Change a channel of the admin API: each key given replaces that key whole"""
    record = await _stored(request, request.match_info["id"])
    current = {k: v for k, v in record.items() if k not in ("disabled", "created_at", "updated_at", "version")}
    cfg = _validated({**current, **body.model_dump(mode="json", exclude_unset=True)})
    if cfg.currency != settings_of(record).currency and await request.app[keys.DIRECTORY].has_donations(cfg.id):
        # Totals are kept in the currency's minor units: they would silently change value.
        raise ApiError(409, "currency_locked", "currency: the channel has donations in its currency already")
    return _answer(await _save(request, record, cfg))


@routes.delete("/admin/channels/{id}", access=ADMIN, ok={200: AdminChannel, 204: None}, path_params=CHANNEL_ID,
               errors=(401, 409))
async def delete_channel(request: web.Request, _: None) -> web.Response:
    """Delete a channel without donations (204); one with donations is disabled instead (200, the channel)"""
    record = await _stored(request, request.match_info["id"])
    if await request.app[keys.DIRECTORY].has_donations(record["id"]):
        return _answer(await _save(request, record, disabled=True))
    await request.app[keys.DIRECTORY].delete_channel(record["id"])
    request.app[keys.REGISTRY].apply(record["id"], None)
    return web.Response(status=204)


@routes.post("/admin/channels/{id}/disable", access=ADMIN, ok={200: AdminChannel}, path_params=CHANNEL_ID,
             errors=(401, 409))
async def disable_channel(request: web.Request, _: None) -> web.Response:
    """Disable a channel: its clients are disconnected, its pages and API answer 404; its data stays"""
    return _answer(await _save(request, await _stored(request, request.match_info["id"]), disabled=True))


@routes.post("/admin/channels/{id}/enable", access=ADMIN, ok={200: AdminChannel}, path_params=CHANNEL_ID,
             errors=(401, 409))
async def enable_channel(request: web.Request, _: None) -> web.Response:
    """Enable a disabled channel again"""
    return _answer(await _save(request, await _stored(request, request.match_info["id"]), disabled=False))


@routes.post("/admin/channels/{id}/rotate", access=ADMIN, body=Rotate, ok={200: Rotated}, path_params=CHANNEL_ID,
             errors=(401, 409, 422))
async def rotate_secrets(request: web.Request, _: None, body: Rotate) -> web.Response:
    """New secrets, shown once: the old ones stop working at once on every process"""
    if body.stream_key:
        raise ApiError(422, "invalid_stream_key", "stream_key: live video is set in config.yaml only")
    record = await _stored(request, request.match_info["id"])
    made: dict[str, str] = {}
    if body.overlay_key:
        record = {**record, "overlay_key": new_secret()}
        made["overlay_key"] = record["overlay_key"]
    if body.moderator_token:
        made["moderator_token"] = new_secret()
        record = {**record, "moderator_tokens": [hash_token(made["moderator_token"])]}
    return _with_secrets(await _save(request, record) if made else record, made)


def setup_admin(app: web.Application) -> None:
    routes.add_to(app)

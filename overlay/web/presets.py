"""Widget presets over HTTP (API.md §7), moderators only:
PUT / GET / DELETE /api/v1/channels/{ch}/widgets/{widget}/presets[/{name}].

Saving stores the preset, then logs a ``settings`` event through the channel's writer, so
every overlay showing that preset (in any worker) applies it without a reload.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from overlay import keys
from overlay.domain import presets
from overlay.domain.presets import PresetError
from overlay.config import ChannelSettings
from overlay.service import ChannelService
from overlay.web.api import moderator
from overlay.web.errors import KIND_STATUS, ApiError, read_json
from overlay.widgets import SettingsError

BASE = "/api/v1/channels/{ch}/widgets/{widget}/presets"


def _target(request: web.Request, *, named: bool = True) -> tuple[ChannelService, str, str]:
    svc = moderator(request)
    try:
        widget = presets.check_widget(request.match_info["widget"])
        name = presets.check_name(request.match_info["name"]) if named else ""
    except PresetError as exc:
        raise ApiError(KIND_STATUS[exc.kind], exc.code, exc.message) from None
    return svc, widget, name


def _out(svc: ChannelService, request: web.Request, widget: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
    base = request.app[keys.CONFIG].server.public_url.rstrip("/")
    return {"widget": widget, "name": name, "settings": values,
            "url": f"{base}/overlay/{svc.cfg.id}/{widget}?key={svc.cfg.overlay_key}&preset={name}"}


async def _announce(svc: ChannelService, widget: str, name: str, values: dict[str, Any]) -> None:
    configured = svc.cfg.widgets.get(widget, {})
    full = presets.effective(widget, configured, values)

    async def op(state: Any, now: int) -> Any:
        return presets.settings_changed(state, now, widget, name, full)
    await svc.mutate(op)


async def put_preset(request: web.Request) -> web.Response:
    svc, widget, name = _target(request)
    body = await read_json(request)
    try:
        values = presets.normalise(widget, body)
    except SettingsError as exc:
        raise ApiError(422, "invalid_settings", str(exc)[:500]) from None
    store = svc.store
    known = await store.list_presets(svc.cfg.id, widget)
    if name not in known and len(known) >= presets.MAX_PER_WIDGET:
        raise ApiError(409, "too_many_presets", f"at most {presets.MAX_PER_WIDGET} presets per widget")
    await store.put_preset(svc.cfg.id, widget, name, values)
    await _announce(svc, widget, name, values)
    return web.json_response(_out(svc, request, widget, name, values), status=200 if name in known else 201)


async def get_preset(request: web.Request) -> web.Response:
    svc, widget, name = _target(request)
    values = await svc.store.get_preset(svc.cfg.id, widget, name)
    if values is None:
        raise ApiError(404, "preset_not_found", "no such preset")
    return web.json_response(_out(svc, request, widget, name, values))


async def list_presets(request: web.Request) -> web.Response:
    svc, widget, _ = _target(request, named=False)
    found = await svc.store.list_presets(svc.cfg.id, widget)
    return web.json_response({"presets": [_out(svc, request, widget, n, v) for n, v in found.items()]})


async def delete_preset(request: web.Request) -> web.Response:
    svc, widget, name = _target(request)
    if not await svc.store.delete_preset(svc.cfg.id, widget, name):
        raise ApiError(404, "preset_not_found", "no such preset")
    # Overlays still showing it fall back to the channel's settings, without a reload either.
    await _announce(svc, widget, name, {})
    return web.Response(status=204)


def setup_presets(app: web.Application) -> None:
    app.router.add_get(BASE, list_presets)
    app.router.add_get(BASE + "/{name}", get_preset)
    app.router.add_put(BASE + "/{name}", put_preset)
    app.router.add_delete(BASE + "/{name}", delete_preset)


async def page_preset(request: web.Request, cfg: ChannelSettings, widget: str) -> tuple[str, dict[str, Any] | None]:
    """``?preset=`` of a browser source: (name, its settings); settings None if there is no such preset.
    No ``preset`` (or an empty one): ("", {})."""
    name = request.query.get("preset", "")
    if not name:
        return "", {}
    if not presets.NAME.match(name):
        return name, None
    return name, await request.app[keys.STORE].get_preset(cfg.id, widget, name)


"""Widget presets over HTTP (API.md §7), moderators only:
PUT / GET / DELETE /api/v1/channels/{ch}/widgets/{widget}/presets[/{name}].

Saving stores the preset and logs a ``settings`` event in one commit of the channel's writer
(``overlay.service.presets``), so every overlay showing that preset (in any worker) applies it
without a reload, and the limit on presets holds however many saves race.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from overlay import keys
from overlay.domain import presets
from overlay.domain.presets import PresetError
from overlay.config import ChannelSettings
from overlay.service.channel import ChannelService
from overlay.web.api import CHANNEL, MODERATOR
from overlay.http.errors import KIND_STATUS, ApiError
from overlay.web.feature_models import PresetList, preset_answer, preset_body
from overlay.web.routes import Handler, Routes
from overlay.widgets import REGISTRY
from overlay.widgets.base import WidgetSettings

BASE = "/channels/{ch}/widgets/{widget}/presets"
WIDGET = {**CHANNEL, "widget": {"type": "string"}}
PRESET_NAME = {"type": "string", "pattern": presets.NAME.pattern}  # else 422 invalid_preset_name
NAMED = {**WIDGET, "name": PRESET_NAME}
NAMED_HERE = {**CHANNEL, "name": PRESET_NAME}
NOT_A_WIDGET = {"type": "string", "description": "a name that is no widget's: each widget's presets are saved at "
                                                 "their own path (…/widgets/alert/presets/{name} …)"}
routes = Routes()


def _target(request: web.Request, svc: ChannelService, widget: str | None = None, *,
            named: bool = True) -> tuple[str, str]:
    try:
        widget = presets.check_widget(widget or request.match_info["widget"])
        name = presets.check_name(request.match_info["name"]) if named else ""
    except PresetError as exc:
        raise ApiError(KIND_STATUS[exc.kind], exc.code, exc.message) from None
    return widget, name


def _out(svc: ChannelService, request: web.Request, widget: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
    base = request.app[keys.CONFIG].server.public_url.rstrip("/")
    return {"widget": widget, "name": name, "settings": values,
            "url": f"{base}/overlay/{svc.cfg.id}/{widget}?key={svc.cfg.overlay_key}&preset={name}"}


async def _save(request: web.Request, svc: ChannelService, widget: str, body: WidgetSettings) -> web.Response:
    _, name = _target(request, svc, widget)
    values = presets.stored(body)
    created = await svc.save_preset(widget, name, values)
    return web.json_response(_out(svc, request, widget, name, values), status=201 if created else 200)


def _for_widget(widget: str, handler: Handler, verb: str) -> Handler:
    """``handler`` at the widget's own path (``…/widgets/alert/presets/{name}``), named for it."""
    async def handle(request: web.Request, svc: ChannelService, **validated: Any) -> web.Response:
        return await handler(request, svc, widget=widget, **validated)
    handle.__name__ = f"{verb}_{widget}_preset"
    handle.__doc__ = (handler.__doc__ or "").replace("a preset", f"a preset of the {widget} widget", 1)
    return handle


async def _put(request: web.Request, svc: ChannelService, *, widget: str, body: WidgetSettings) -> web.Response:
    """Save a preset (its settings); overlays showing it apply them at once."""
    return await _save(request, svc, widget, body)


async def _get(request: web.Request, svc: ChannelService, *, widget: str | None = None) -> web.Response:
    """Get a preset: its settings and its browser-source URL."""
    widget, name = _target(request, svc, widget)
    values = await svc.get_preset(widget, name)
    if values is None:
        raise ApiError(404, "preset_not_found", "no such preset")
    return web.json_response(_out(svc, request, widget, name, values))


async def _delete(request: web.Request, svc: ChannelService, *, widget: str | None = None) -> web.Response:
    """Delete a preset; overlays showing it fall back to the channel's settings."""
    widget, name = _target(request, svc, widget)
    await svc.delete_preset(widget, name)  # 404 if there is none
    return web.Response(status=204)


# One path per widget, its Settings model as the PUT body: the document says which settings each
# takes. Its GET and DELETE are on that path too (aiohttp answers a path from the first resource
# that has the method, and the document must list what that path answers: Allow says the same).
# Registered before {widget}: aiohttp tries resources in that order.
for _widget in REGISTRY.values():
    _body = preset_body(_widget)
    _answer = preset_answer(_widget, _body)
    _path = f"/channels/{{ch}}/widgets/{_widget.name}/presets/{{name}}"
    routes.put(_path, access=MODERATOR, body=_body, ok={200: _answer, 201: _answer}, path_params=NAMED_HERE,
               errors=(409, 422))(_for_widget(_widget.name, _put, "put"))
    routes.get(_path, access=MODERATOR, ok={200: _answer}, path_params=NAMED_HERE,
               errors=(422,))(_for_widget(_widget.name, _get, "get"))
    routes.delete(_path, access=MODERATOR, ok={204: None}, path_params=NAMED_HERE,
                  errors=(422,))(_for_widget(_widget.name, _delete, "delete"))


# {widget} that is no widget's: each widget's presets are at their own path (above).
@routes.put(BASE + "/{name}", access=MODERATOR, ok={}, path_params={**NAMED, "widget": NOT_A_WIDGET}, errors=(422,))
async def put_preset(request: web.Request, svc: ChannelService) -> web.Response:
    """A widget that does not exist: 404 widget_not_found (each widget has its own path)."""
    _target(request, svc)  # raises: a widget's own path comes first (registered above)
    raise ApiError(404, "widget_not_found", "no such widget")


@routes.get(BASE + "/{name}", access=MODERATOR, ok={}, path_params={**NAMED, "widget": NOT_A_WIDGET}, errors=(422,))
async def get_preset(request: web.Request, svc: ChannelService) -> web.Response:
    """A widget that does not exist: 404 widget_not_found (each widget has its own path)."""
    return await _get(request, svc)


@routes.delete(BASE + "/{name}", access=MODERATOR, ok={}, path_params={**NAMED, "widget": NOT_A_WIDGET},
               errors=(422,))
async def delete_preset(request: web.Request, svc: ChannelService) -> web.Response:
    """A widget that does not exist: 404 widget_not_found (each widget has its own path)."""
    return await _delete(request, svc)


@routes.get(BASE, access=MODERATOR, ok={200: PresetList}, path_params=WIDGET)
async def list_presets(request: web.Request, svc: ChannelService) -> web.Response:
    """A widget's presets."""
    widget, _ = _target(request, svc, named=False)
    found = await svc.list_presets(widget)
    return web.json_response({"presets": [_out(svc, request, widget, n, v) for n, v in found.items()]})


def setup_presets(app: web.Application) -> None:
    routes.add_to(app)


async def page_preset(request: web.Request, cfg: ChannelSettings, widget: str) -> tuple[str, dict[str, Any] | None]:
    """``?preset=`` of a browser source: (name, its settings); settings None if there is no such preset.
    No ``preset`` (or an empty one): ("", {})."""
    name = request.query.get("preset", "")
    if not name:
        return "", {}
    if not presets.NAME.match(name):
        return name, None
    svc = request.app[keys.REGISTRY].service(cfg.id)
    return name, None if svc is None else await svc.get_preset(widget, name)


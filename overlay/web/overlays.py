"""Browser sources: ``/overlay/{ch}/{widget}``, the gallery ``/widgets/{ch}``, the sticker's QR code.

A page carries everything its scripts need in one JSON block (settings already
validated, words in the channel's language, hashed module URLs), so the scripts
load nothing but this server's files and the page needs no inline script.
"""
from __future__ import annotations

import functools
import hashlib
import io
from typing import Any, get_args
from urllib.parse import quote

import segno
from aiohttp import web

from overlay import i18n, keys
from overlay.web.auth import secret_equal
from overlay.config import ChannelSettings
from overlay.http.pages import LONG_CACHE, render
from overlay.http.errors import ApiError
from overlay.web.presets import page_preset
from overlay.http.throttle import record_failure
from overlay.widgets import REGISTRY, WIDGETS, SettingsError, resolve
from overlay.errors import StoreUnavailable
from overlay.widgets.base import Position, WidgetSettings
from overlay.widgets import gallery_text
from overlay.widgets.strings import CATALOG, STRINGS, language
from overlay.http.overlay_page import address_digest, donate_target, page_config, sticker_context


def _error(request: web.Request, status: int, title: str, message: str, problems: Any = ()) -> web.Response:
    return render(request, "overlay/error.html", {"status": status, "title": title, "message": message,
                                                  "problems": list(problems)}, status=status)


def _channel(request: web.Request) -> ChannelSettings | web.Response:
    """The channel, if it exists and the URL carries its overlay key; else the page to show instead."""
    cfg = request.app[keys.REGISTRY].settings(request.match_info["ch"])
    if cfg is None:
        return _error(request, 404, "Unknown channel", "No channel has this name on this server.")
    if not secret_equal(request.query.get("key"), cfg.overlay_key):
        if "key" in request.query:  # a guess; throttle_middleware refuses the address once over the limit
            record_failure(request)
        return _error(request, 403, "Wrong or missing key",
                      "This address needs the channel's overlay key: ?key=… Copy the address from the widget page.")
    return cfg


Resolved = tuple[ChannelSettings, str, WidgetSettings, dict[str, WidgetSettings], str]


async def _resolve_page(request: web.Request) -> Resolved | web.Response:
    """(channel, widget, its settings, the parts shown, preset name), or the error page to show."""
    found = _channel(request)
    if isinstance(found, web.Response):
        return found
    cfg, name = found, request.match_info["widget"]
    if name not in REGISTRY:
        return _error(request, 404, "Unknown widget", f"There is no widget called “{name[:40]}”.",
                      [("widgets", ", ".join(WIDGETS), None)])
    query = {k: v for k, v in request.query.items() if k not in ("key", "preset")}
    preset_name, preset = await page_preset(request, cfg, name)
    if preset is None:
        return _error(request, 404, "Unknown preset", f"The {name} widget has no preset called “{preset_name[:40]}”.")
    try:
        settings = resolve(name, {**cfg.widgets.get(name, {}), **preset}, query)
    except SettingsError as exc:
        return _error(request, 400, "Bad setting", f"The {name} widget cannot use this address:",
                      [(p.setting, p.message, p.value) for p in exc.problems])
    # A composite widget (the scene) names its parts; each uses its own configured settings.
    part_names = settings.parts() if hasattr(settings, "parts") else [name]
    parts = {p: settings if p == name else resolve(p, cfg.widgets.get(p, {}), {}) for p in part_names}
    return cfg, name, settings, parts, preset_name


def _custom_css(name: str, settings: WidgetSettings, parts: dict[str, WidgetSettings]) -> list[str]:
    return [s.custom_css for p, s in parts.items() if p != name and s.custom_css] + [settings.custom_css]


async def overlay_page(request: web.Request) -> web.Response:
    found = await _resolve_page(request)
    if isinstance(found, web.Response):
        return found
    cfg, name, settings, parts, preset_name = found
    lang = language(settings.lang, cfg.locale.split("_")[0])
    target = donate_target(request.app[keys.CONFIG], cfg)
    return render(request, f"{name}/widget.html", {
        "name": name, "channel": cfg, "settings": settings, "parts": parts,
        "stylesheets": [*parts, *([] if name in parts else [name])], "lang": lang, "t": STRINGS[lang],
        "page_config": {**page_config(request, cfg, name, lang, parts), "preset": preset_name},
        "custom_css": _custom_css(name, settings, parts),
        **sticker_context(cfg, target),
    })


async def overlay_settings(request: web.Request) -> web.Response:
    """The page's settings as its address resolves them now: a page showing a preset fetches
    this when the preset changes (``settings`` event), and applies it without a reload."""
    found = await _resolve_page(request)
    if isinstance(found, web.Response):
        raise ApiError(found.status, "settings_unavailable", "this address does not resolve to a widget")
    _, name, settings, parts, preset_name = found
    return web.json_response({
        "preset": preset_name,
        "widgets": {p: s.model_dump(mode="json", exclude={"custom_css"}) for p, s in parts.items()},
        "css_vars": {p: s.css_vars() for p, s in parts.items()},
        "custom_css": "\n".join(_custom_css(name, settings, parts)),
    }, headers={"Cache-Control": "no-store"})


# The widgets that show one incentive of a kind, and the setting that names it.
ONE_INCENTIVE = {"poll": ("poll", "poll"), "targets": ("target", "target")}


async def _incentives(request: web.Request, cfg: ChannelSettings) -> list[dict[str, Any]]:
    svc = request.app[keys.REGISTRY].service(cfg.id)
    try:
        return [] if svc is None else (await svc.snapshot()).get("incentives", [])
    except StoreUnavailable:  # the page still lists the widgets
        return []


async def gallery(request: web.Request) -> web.Response:
    """Every widget with a live preview, its address, a place chooser (``&position=``), and for
    the poll and targets widgets the address of each incentive alone; in the language the
    overlays would speak."""
    found = _channel(request)
    if isinstance(found, web.Response):
        return found
    cfg = found
    base = request.app[keys.CONFIG].server.public_url.rstrip("/")
    lang = i18n.pick((CATALOG, gallery_text.CATALOG), request.query.get("lang"), channel_locale=cfg.locale,
                     accept_language=request.headers.get("Accept-Language"))
    words = gallery_text.STRINGS[lang]
    incentives = await _incentives(request, cfg)
    widgets = []
    for w in REGISTRY.values():
        path = f"/overlay/{cfg.id}/{w.name}?key={cfg.overlay_key}"
        kind, setting = ONE_INCENTIVE.get(w.name, (None, None))
        widgets.append({"name": w.name, "title": words[f"name_{w.name}"], "description": words[f"about_{w.name}"],
                        "path": path,
                        "position": None if w.name == "scene" else resolve(w.name, cfg.widgets.get(w.name, {}), {}).position,
                        "incentives": [{"title": i["title"], "path": f"{path}&{setting}={quote(i['id'])}"}
                                       for i in incentives if i["kind"] == kind]})
    return render(request, "overlay/gallery.html", {"channel": cfg, "widgets": widgets, "base": base,
                                                    "positions": get_args(Position), "lang": lang,
                                                    "t": STRINGS[lang], "g": words})


@functools.lru_cache(maxsize=64)
def _qr_svg(target: str) -> tuple[str, str]:
    """(SVG, strong ETag) of one address. Drawing it costs ~14 ms of CPU; it only changes with the address."""
    out = io.BytesIO()
    segno.make(target, error="m").save(out, kind="svg", border=2, dark="#111111", light="#ffffff",
                                        omitsize=True, xmldecl=False, svgclass=None, lineclass=None)
    svg = out.getvalue().decode()
    return svg, f'"{hashlib.sha256(svg.encode()).hexdigest()[:32]}"'


async def qr_code(request: web.Request) -> web.Response:
    """The donate address as an SVG QR code. Public: it encodes nothing but a public address."""
    config = request.app[keys.CONFIG]
    cfg = request.app[keys.REGISTRY].settings(request.match_info["ch"])
    if cfg is None:
        raise web.HTTPNotFound()
    target = donate_target(config, cfg)
    svg, etag = _qr_svg(target)
    current = request.query.get("v") == address_digest(target)
    headers = {"Cache-Control": LONG_CACHE if current else "no-cache", "ETag": etag,
               "X-Content-Type-Options": "nosniff"}
    wanted = {t.strip().removeprefix("W/") for t in request.headers.get("If-None-Match", "").split(",")}
    if etag in wanted or "*" in wanted:
        return web.Response(status=304, headers=headers)
    return web.Response(text=svg, content_type="image/svg+xml", headers=headers)


def setup_overlays(app: web.Application) -> None:
    app.router.add_get("/overlay/{ch}/{widget}", overlay_page)
    app.router.add_get("/overlay/{ch}/{widget}/settings", overlay_settings)
    app.router.add_get("/widgets/{ch}", gallery)
    app.router.add_get("/qr/{ch}.svg", qr_code)

"""The viewer page ``GET /live/{ch}`` (API.md §6) and its public status ``GET /live/{ch}/status``.

The page is public, like the stream it plays. Over the video it draws the channel's
own widgets (alert, goal, sticker) from the same markup, scripts and ``/overlay``
Socket.IO events as the browser sources, with one connection for the three. That
connection authenticates with the overlay key, so the page carries it: the key is
read-only and shows what the stream already shows (approved donations, totals, the
match) — never held donations, moderator actions, the moderator token or the stream key.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from overlay import keys
from overlay.config import ChannelSettings
from overlay.live.link import LIVE
from overlay.settings.live import whep_origin
from overlay.http.errors import error_response
from overlay.http.overlay_page import donate_target, page_config, sticker_context
from overlay.http.pages import render
from overlay.widgets import resolve
from overlay.widgets.base import WidgetSettings
from overlay import i18n
from overlay.widgets import strings as widget_strings
from overlay.widgets.strings import STRINGS

# The widgets are laid out on a stage 1080 pixels wide that live.js scales to the screen.
# These win over the streamer's settings, which are made for a 1920×1080 canvas. The alert
# is silent: the page starts muted, and the stream's own audio carries the streamer's sounds.
PHONE_SETTINGS: dict[str, dict[str, Any]] = {
    "goal": {"position": "top", "width": 984, "font_scale": 1, "custom_css": ""},
    "alert": {"position": "center", "font_scale": 1, "sound": False, "custom_css": ""},
    "sticker": {"qr_size": 120, "show_url": False, "font_scale": 1.2, "custom_css": ""},
}
STATUS_POLL_MS = 5000

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "En direct", "live": "En direct", "offline": "Hors ligne",
        "offline_title": "Le direct est hors ligne",
        "offline_text": "La vidéo démarre toute seule dès que le direct commence.",
        "connecting": "Connexion au direct…", "full": "Le direct est complet : nouvel essai dans un instant…",
        "viewers_one": "{n} spectateur", "viewers_other": "{n} spectateurs",
        "unmute": "Activer le son", "mute": "Couper le son",
        "missing_title": "Pas de direct ici",
        "missing_text": "Cette chaîne n'existe pas ou ne diffuse pas de vidéo sur ce serveur.",
    },
    "en": {
        "title": "Live", "live": "Live", "offline": "Offline",
        "offline_title": "The stream is offline",
        "offline_text": "The video starts by itself as soon as the stream begins.",
        "connecting": "Connecting to the stream…", "full": "The stream is full: trying again shortly…",
        "viewers_one": "{n} watching", "viewers_other": "{n} watching",
        "unmute": "Unmute", "mute": "Mute",
        "missing_title": "No live stream here",
        "missing_text": "This channel does not exist or does not stream video on this server.",
    },
}


CATALOG = i18n.register("live", TEXTS)


def _live_channel(request: web.Request) -> ChannelSettings | None:
    cfg = request.app[keys.REGISTRY].settings(request.match_info["ch"])
    return cfg if cfg is not None and cfg.live is not None else None


def _language(request: web.Request, cfg: ChannelSettings | None) -> str:
    """``?lang=`` when the page and its widgets speak it, else the channel's language (else English)."""
    return i18n.pick((widget_strings.CATALOG, CATALOG), request.query.get("lang"),
                     channel_locale=cfg.locale if cfg else None)


def _widgets(cfg: ChannelSettings, lang: str) -> dict[str, WidgetSettings]:
    return {name: resolve(name, cfg.widgets.get(name, {}), {**over, "lang": lang})
            for name, over in PHONE_SETTINGS.items()}


async def live_page(request: web.Request) -> web.Response:
    cfg = _live_channel(request)
    # A channel without video still has a language for its 404.
    lang = _language(request, request.app[keys.REGISTRY].settings(request.match_info["ch"]))
    text = TEXTS[lang]
    if cfg is None:
        return render(request, "live_missing.html", {"lang": lang, "text": text}, status=404)
    parts = _widgets(cfg, lang)
    whep_url = cfg.live.whep_url if cfg.live else None
    # An external WHEP server says whether it is live by answering the offer: try at once.
    status = request.app[LIVE].status(cfg.id) if whep_url is None else {"live": True, "viewers": None}
    config = request.app[keys.CONFIG]
    target = donate_target(config, cfg)
    # ``t`` is the widgets' words, as their included markup expects; ``text`` is the page's own.
    return render(request, "live.html", {
        "lang": lang, "t": STRINGS[lang], "text": text, "channel": cfg, "parts": parts, "custom_css": [],
        "donate_href": target, **sticker_context(cfg, target), "live": status["live"],
        "page_config": page_config(request, cfg, "live", lang, parts),
        "live_config": {"channel": cfg.id, "lang": lang, "strings": text, "live": status["live"],
                        "viewers": status["viewers"], "poll_ms": STATUS_POLL_MS,
                        "ice_servers": list(config.server.ice_servers), "whep_url": whep_url},
    }, connect_src=(whep_origin(whep_url),) if whep_url else ())


async def live_status(request: web.Request) -> web.Response:
    """What the viewer page polls: only what the page itself shows."""
    cfg = _live_channel(request)
    if cfg is None:
        return error_response(404, "unknown_channel", "no live channel here")
    if cfg.live is not None and not cfg.live.served_here:  # only the external server knows
        return web.json_response({"live": None, "viewers": None}, headers={"Cache-Control": "no-store"})
    status = request.app[LIVE].status(cfg.id)
    return web.json_response({"live": status["live"], "viewers": status["viewers"]},
                             headers={"Cache-Control": "no-store"})


def setup_livepage(app: web.Application) -> None:
    app.router.add_get("/live/{ch}", live_page)
    app.router.add_get("/live/{ch}/status", live_status)

"""What an overlay page is told about its channel (its config object, the sticker's donate address):
shared by the overlay pages (overlay.web.overlays) and the live viewer page (overlay.live.page)."""
from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from overlay import keys
from overlay.config import ChannelSettings, Config
from overlay.domain import money, wire
from overlay.http.pages import STATIC
from overlay.widgets.base import WidgetSettings
from overlay.widgets.strings import STRINGS

SHARED_MODULES = {"io": "vendor/socket.io-client/socket.io.esm.min.js", "client": "overlay-client.js",
                  "ui": "overlay-ui.js", "settings": "overlay-settings.js", "watchdog": "overlay-watchdog.js"}
ASSETS = {"chime": "sounds/chime.wav", "heart": "img/heart.svg"}


def donate_target(config: Config, cfg: ChannelSettings) -> str:
    """Where the sticker sends donors: the campaign's own page, or ours when we take pledges."""
    if cfg.donate_page.mode == "off" and cfg.campaign.donate_url:
        return cfg.campaign.donate_url
    return f"{config.server.public_url.rstrip('/')}/donate/{cfg.id}"


def _short(url: str) -> str:
    parts = urlsplit(url)
    return (parts.netloc + parts.path).removeprefix("www.").rstrip("/")


def address_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def sticker_context(cfg: ChannelSettings, target: str) -> dict[str, str]:
    """What the sticker's markup shows of the donate address: short text, and a QR URL cached per address."""
    return {"donate_short": _short(target), "qr_url": f"/qr/{cfg.id}.svg?v={address_digest(target)}"}


def page_config(request: web.Request, cfg: ChannelSettings, name: str, lang: str,
                 parts: dict[str, WidgetSettings]) -> dict[str, Any]:
    static = request.app[STATIC]
    modules = {k: static.url(v) for k, v in SHARED_MODULES.items()}
    modules.update({p: static.url(f"widgets/{p}/widget.js") for p in parts})
    return {
        "channel": cfg.id, "key": cfg.overlay_key, "widget": name, "lang": lang,
        "locale": cfg.locale.replace("_", "-"), "currency": cfg.currency, "strings": STRINGS[lang],
        "modules": modules, "assets": {k: static.url(v) for k, v in ASSETS.items()},
        "watchdog": watchdog_settings(request.app[keys.CONFIG]),
        "widgets": {p: s.model_dump(mode="json", exclude={"custom_css"}) for p, s in parts.items()},
        "tiers": [t.model_dump(mode="json")["min_amount"] for t in sorted(cfg.alerts.tiers, key=lambda t: t.min_amount)],
        "milestones": [{"amount": str(m), "display": wire.display(cfg, money.parse_amount(m, cfg.currency,
                                                                                          allow_zero=True))}
                       for m in cfg.campaign.milestones],
    }


def watchdog_settings(config: Config) -> dict[str, float]:
    """The page's watchdog (overlay-watchdog.js): three beats within the time a page stays listed."""
    return {"after_s": config.server.overlay_watchdog_s, "beat_s": config.server.overlay_presence_ttl_s / 3}

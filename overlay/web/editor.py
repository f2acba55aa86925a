"""The widget editor (docs/editor.md): ``GET /dashboard/{ch}/editor``, moderators only.

Like the dashboard, the page only renders: the form is generated in the browser from
each widget's Settings JSON schema, and every action goes through the REST API (presets,
media library, test donations) with the session cookie and the page's CSRF token.
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from overlay import keys
from overlay.config import ALERT_DURATION_MS, ALERT_GAP_MS, ChannelSettings
from overlay.domain import money
from overlay.web.auth import csrf_token, moderator_session
from overlay.web.dashboard import PAGE_HEADERS, Strings, channel_for, login_page, pick_language
from overlay.http.pages import PACKAGE, render
from overlay.widgets import REGISTRY
from overlay.widgets.strings import STRINGS as WIDGET_STRINGS

STRINGS: dict[str, dict[str, str]] = json.loads(
    (PACKAGE / "static" / "editor" / "strings.json").read_text(encoding="utf-8"))


def _schema(settings: type) -> dict[str, Any]:
    schema = settings.model_json_schema()  # type: ignore[attr-defined]
    # lang is checked by a validator, so the schema does not list its values: the form needs them.
    schema["properties"]["lang"]["enum"] = ["auto", *sorted(WIDGET_STRINGS)]
    return schema


def _tiers(cfg: ChannelSettings, t: dict[str, str]) -> list[dict[str, str]]:
    """The alert tiers as the alert widget numbers them: the base alert, then by amount."""
    def label(key: str, amount: Any) -> dict[str, str]:
        minor = money.parse_amount(amount, cfg.currency, allow_zero=True)
        return {"amount": money.to_decimal_string(minor, cfg.currency),
                "label": t[key].format(amount=money.format_amount(minor, cfg.currency, cfg.locale))}
    tiers = sorted(cfg.alerts.tiers, key=lambda tier: tier.min_amount)
    return [label("tier_base", cfg.alerts.min_amount), *(label("tier_n", tier.min_amount) for tier in tiers)]


def editor_data(request: web.Request, cfg: ChannelSettings, lang: str) -> dict[str, Any]:
    server = request.app[keys.CONFIG].server
    return {
        "channel": cfg.id, "lang": lang, "strings": STRINGS[lang], "key": cfg.overlay_key,
        "public_url": server.public_url.rstrip("/"),
        "widgets": [{"name": w.name, "description": w.description, "schema": _schema(w.settings),
                     "order": list(w.settings.model_fields),
                     "configured": w.settings.model_validate(cfg.widgets.get(w.name, {})).model_dump(mode="json")}
                    for w in REGISTRY.values()],
        "tiers": _tiers(cfg, STRINGS[lang]),
        "limits": {"image_kb": server.media_max_image_kb, "sound_kb": server.media_max_sound_kb,
                   "video_kb": server.media_max_video_kb},
        "timing_bounds": {"duration": ALERT_DURATION_MS, "gap": ALERT_GAP_MS},
    }


async def editor_page(request: web.Request) -> web.Response:
    cfg = channel_for(request)
    cookie = moderator_session(cfg, request)
    if cookie is None:
        return login_page(request, cfg)
    lang = pick_language(request)
    data = editor_data(request, cfg, lang)
    return render(request, "editor.html", {
        "t": Strings(STRINGS[lang]), "lang": lang, "channel": cfg, "csrf": csrf_token(cookie), "data": data,
        "dashboard_url": f"/dashboard/{cfg.id}?lang={lang}",
        "help": STRINGS[lang]["media_help"].format(**data["limits"]),
    }, headers=PAGE_HEADERS, framable=False)


def setup_editor(app: web.Application) -> None:
    app.router.add_get("/dashboard/{ch}/editor", editor_page)

"""GET /dashboard/{ch}/summary: the stream summary for moderators, printable and
screenshot-ready (docs/dashboard.md). Rendered on the server, chart included (inline SVG)."""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from babel.core import get_global
from babel.dates import format_datetime, format_skeleton, format_time

from overlay import i18n, keys
from overlay.config import ChannelSettings
from overlay.domain import incentives, money, summary, wire
from overlay.web.auth import moderator_session
from overlay.web.dashboard import PAGE_HEADERS, STRINGS, Strings, channel_for, login_page, pick_language
from overlay.http.pages import render
from overlay.clock import now_ms


def page_zone(request: web.Request, cfg: ChannelSettings) -> tzinfo:
    """``?tz=Europe/Paris``, else the zone of the locale's country when it has only one, else UTC."""
    try:
        return ZoneInfo(request.query["tz"])
    except (KeyError, ValueError, ZoneInfoNotFoundError):
        pass
    zones = get_global("territory_zones").get(cfg.locale.partition("_")[2], [])
    return ZoneInfo(zones[0]) if len(zones) == 1 else timezone.utc


async def _figures(svc: Any, tz: tzinfo) -> dict[str, Any]:
    tally = summary.Tally(tz)
    async for page in svc.all_donations():
        for rec in page:
            tally.add(rec)
    step, bars = tally.buckets()
    return {"step_is_hour": step == summary.HOUR, "chart": summary.chart(bars),
            "biggest": None if tally.biggest is None else wire.donation(svc.cfg, tally.biggest)}


async def summary_page(request: web.Request) -> web.Response:
    cfg = channel_for(request)
    if moderator_session(cfg, request) is None:
        return login_page(request, cfg)
    svc = request.app[keys.REGISTRY].service(cfg.id)
    lang, tz = pick_language(request), page_zone(request, cfg)
    state = await svc.current()
    campaign = wire.campaign(cfg, state)
    board = await svc.leaderboard(10)
    figures = await _figures(svc, tz)
    locale = i18n.locale_for(lang, cfg.locale)  # dates and hours in the page's language ("6 Dec 2026")
    return render(request, "summary.html", {
        "t": Strings(STRINGS[lang]), "lang": lang, "channel": cfg, "campaign": campaign, **figures,
        "percent": money.format_percent(float(campaign["percent"]), locale),
        "top": [{"name": n, "total": wire.display(cfg, t)} for n, t in board],
        "amount": lambda minor: wire.display(cfg, minor),
        "hour_label": lambda d: format_time(d, "short", locale=locale) if figures["step_is_hour"]
        else format_skeleton("MMMd", d, locale=locale),
        "generated": format_datetime(datetime.now(tz), "medium", tzinfo=tz, locale=locale),
        "tz": str(getattr(tz, "key", "UTC")), "incentives": _incentive_lines(cfg, state, Strings(STRINGS[lang])),
    }, headers=PAGE_HEADERS, framable=False)


def _incentive_lines(cfg: ChannelSettings, state: Any, t: Strings) -> list[dict[str, str]]:
    """Each incentive's result: a target reached (or how far), a poll's winner (or leader), rewards
    claimed; empty for a channel without incentives."""
    now = now_ms()
    out = []
    for item in incentives.listing(cfg, state):
        pub = incentives.public(cfg, item, now)
        note = ""
        if pub["kind"] == "target":
            note = t.summary_reached if pub.get("reached") else money.format_percent(pub["percent"], cfg.locale)
        elif pub["kind"] == "poll":
            best = pub.get("winner") or pub.get("leader")
            label = next((o["label"] for o in pub["options"] if o["id"] == best), None)
            note = f"{t.summary_winner if pub.get('winner') else '→'} {label}" if label else ""
        elif pub.get("claimed"):
            note = f"× {pub['claimed']}"
        out.append({"title": pub["title"], "note": note, "total": pub["display"]["total"]})
    return out


def setup_summary(app: web.Application) -> None:
    app.router.add_get("/dashboard/{ch}/summary", summary_page)

"""The moderator dashboard page (API.md §4 GET /dashboard/{ch}): login, logout, the page.

The page itself only renders; every action goes through the REST API of §4 with
the session cookie and the page's CSRF token, and everything it shows comes over
the ``/dashboard`` Socket.IO namespace. The moderator token is read once from the
login form and never written back into a page or a URL.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from overlay import i18n, keys
from overlay.domain import export, money
from overlay.web.auth import SESSION_TTL_S, TokenHolder, cookie_name, csrf_token, matching_token, moderator_session, new_session, \
    revoke_session, secret_equal, session_token
from overlay.config import ChannelSettings
from overlay.live.link import LIVE
from overlay.http.throttle import record_failure, retry_after
from overlay.http.pages import PACKAGE, render
from overlay.speech.routes import tts_status
from overlay.web.integrations import integrations
from overlay.errors import StoreUnavailable
from overlay.widgets import WIDGETS

# The browser reads the same file's table for the chosen language (from the page's data block).
CATALOG = i18n.register_json("dashboard", PACKAGE / "static" / "dashboard" / "strings.json")
STRINGS, LANGUAGES = CATALOG.tables, CATALOG.languages
# same-origin, not the site-wide no-referrer: with no-referrer a browser sends
# "Origin: null" on form posts, and login and logout check the Origin.
PAGE_HEADERS = {"Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}


class Strings:
    """One language's strings for templates. Not a dict: in Jinja ``t.clear`` would be dict.clear."""

    def __init__(self, table: dict[str, str]):
        self._table = table

    def __getattr__(self, name: str) -> str:
        try:
            return self._table[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> str:
        return self._table[name]




def pick_language(request: web.Request) -> str:
    """``?lang=`` wins, then the browser's Accept-Language (by q), then English."""
    return CATALOG.pick(request.query.get("lang"), accept_language=request.headers.get("Accept-Language"))


def same_origin(request: web.Request) -> bool:
    """The form was posted from a page of this server (Origin, else Referer)."""
    source = request.headers.get("Origin")
    if not source or source == "null":
        source = request.headers.get("Referer")
    if not source:
        return False
    public = urlparse(request.app[keys.CONFIG].server.public_url)
    try:
        given = urlparse(source)
    except ValueError:  # "http://[" and the like: not an address at all, so not ours
        return False
    return given.netloc == request.host or (given.scheme, given.netloc) == (public.scheme, public.netloc)


def channel_for(request: web.Request) -> ChannelSettings:
    cfg = request.app[keys.REGISTRY].settings(request.match_info["ch"])
    if cfg is None:
        raise web.HTTPNotFound()
    return cfg


def _page_url(cfg: ChannelSettings, request: web.Request, suffix: str = "") -> str:
    """The dashboard's own URLs keep an explicit ``?lang=`` across login and logout."""
    lang = request.query.get("lang", "")
    return f"/dashboard/{cfg.id}{suffix}" + (f"?lang={lang}" if lang in LANGUAGES else "")


def login_page(request: web.Request, cfg: ChannelSettings, error: str | None = None,
               status: int = 200) -> web.Response:
    lang = pick_language(request)
    return render(request, "dashboard_login.html", {
        "t": Strings(STRINGS[lang]), "lang": lang, "channel": cfg, "error": STRINGS[lang][error] if error else None,
        "action": _page_url(cfg, request, "/login"),
    }, status=status, headers=PAGE_HEADERS, framable=False)


async def dashboard_page(request: web.Request) -> web.Response:
    cfg = channel_for(request)
    cookie = moderator_session(cfg, request)
    if cookie is None:
        return login_page(request, cfg)
    lang = pick_language(request)
    return render(request, "dashboard.html", {
        "t": Strings(STRINGS[lang]), "lang": lang, "languages": {k: STRINGS[k]["lang_name"] for k in LANGUAGES},
        "channel": cfg, "csrf": csrf_token(cookie), "data": page_data(request, cfg, lang),
        "logout_action": _page_url(cfg, request, "/logout"),
        "tts": tts_status(request.app, cfg.id),
        "sources": await _sources(request, cfg),
        # The button is for the charity's spreadsheet: real donations, in the channel's spreadsheet dialect.
        "export_query": f"test=false&dialect={export.spreadsheet_dialect(cfg.locale)}",
    }, headers=PAGE_HEADERS, framable=False)


async def _sources(request: web.Request, cfg: ChannelSettings) -> list[dict[str, Any]]:
    """The configured donation sources and their subscriptions (a revoked one is shown as such)."""
    svc = request.app[keys.REGISTRY].service(cfg.id)
    if svc is None:
        return []
    try:
        found = await integrations(svc, request.app[keys.CONFIG].server.public_url)
    except StoreUnavailable:  # the page must still load; the API says 503
        return []
    return [source for source in found if source["configured"] or source["subscriptions"]]


def page_data(request: web.Request, cfg: ChannelSettings, lang: str) -> dict[str, Any]:
    """What the page's script needs besides the live state. Never the moderator token."""
    base = request.app[keys.CONFIG].server.public_url.rstrip("/")
    presets = [cfg.alerts.min_amount, *(tier.min_amount for tier in cfg.alerts.tiers)]
    return {
        "channel": cfg.id, "lang": lang, "strings": STRINGS[lang],
        "locale": cfg.locale.replace("_", "-"), "currency": cfg.currency,
        "banned_words": [w for w in cfg.moderation.banned_words if w.strip()],
        "presets": [_preset(cfg, amount) for amount in sorted(set(presets)) if amount > 0],
        "widgets": [{"name": name, "url": f"{base}/overlay/{cfg.id}/{name}?key={cfg.overlay_key}",
                     "preview": f"/overlay/{cfg.id}/{name}?key={cfg.overlay_key}"} for name in WIDGETS],
        "gallery": f"/widgets/{cfg.id}?key={cfg.overlay_key}",
        "live": _live(request, cfg, base),
    }


def _live(request: web.Request, cfg: ChannelSettings, base: str) -> dict[str, Any] | None:
    """The live status as it is now, so the section is right before the first ``live`` event."""
    if cfg.live is None:
        return None
    link, external = request.app[LIVE], cfg.live.whep_url
    # error: why live video is off on this server (aiortc missing or failing its self-test)
    return {"status": link.status(cfg.id), "error": None if external else link.failure,
            "whip": None if external else f"{base}/whip/{cfg.id}", "external": external,
            "page": f"{base}/live/{cfg.id}"}


def _preset(cfg: ChannelSettings, amount: Any) -> dict[str, str]:
    minor = money.parse_amount(amount, cfg.currency, allow_zero=True)
    return {"amount": money.to_decimal_string(minor, cfg.currency),
            "label": money.format_amount(minor, cfg.currency, cfg.locale)}


async def login(request: web.Request) -> web.Response:
    cfg = channel_for(request)
    if not same_origin(request):
        return login_page(request, cfg, "login_cross_site", 403)
    wait = retry_after(request)
    if wait is not None:
        response = login_page(request, cfg, "login_rate_limited", 429)
        response.headers["Retry-After"] = str(wait)
        return response
    form = await request.post()
    token = matching_token(cfg, form.get("token"))
    if token is None:
        record_failure(request)
        return login_page(request, cfg, "login_failed", 401)
    return open_session(request, cfg, token, _page_url(cfg, request))


def open_session(request: web.Request, holder: TokenHolder, token: str, location: str) -> web.Response:
    """The login's answer: to ``location``, with a new session cookie for ``holder``."""
    response = web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
    secure = request.app[keys.CONFIG].server.public_url.startswith("https://")
    response.set_cookie(cookie_name(holder), new_session(holder, token), max_age=SESSION_TTL_S, path="/",
                        httponly=True, samesite="Strict", secure=secure)
    return response


async def logout(request: web.Request) -> web.Response:
    cfg = channel_for(request)
    return await close_session(request, cfg, _page_url(cfg, request))


async def close_session(request: web.Request, holder: TokenHolder, location: str) -> web.Response:
    """Log out: the session is revoked in the store, so a copied cookie dies too, in every worker."""
    # Any genuine cookie, even one the store could not vouch for just now: it is revoked all the same.
    cookie = request.cookies.get(cookie_name(holder))
    cookie = cookie if session_token(holder, cookie) else None
    form = await request.post()
    if not same_origin(request) or (cookie is not None and not secret_equal(form.get("csrf"), csrf_token(cookie))):
        raise web.HTTPForbidden(text="cross-site request refused")
    if cookie is not None:
        # If the store is down this answers 503: a logout must not look done when it is not.
        await revoke_session(request, holder, cookie)
    response = web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
    response.del_cookie(cookie_name(holder), path="/")
    return response


def setup_dashboard(app: web.Application) -> None:
    app.router.add_get("/dashboard/{ch}", dashboard_page)
    app.router.add_post("/dashboard/{ch}/login", login)
    app.router.add_post("/dashboard/{ch}/logout", logout)

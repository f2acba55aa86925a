"""The admin page (GET /admin): channels listed, searched, created, disabled, enabled, rotated.

Login with an admin token as the dashboard's login works with a moderator token: a signed
session cookie (``overlay.web.auth``), SameSite=Strict, and a CSRF token the page carries for
its writes. The page only renders; every action goes through the admin API (docs/api.md §8).
"""
from __future__ import annotations

from aiohttp import web

from overlay import i18n, keys
from overlay.web.auth import admins, csrf_token, matching_token, moderator_session
from overlay.web.dashboard import PAGE_HEADERS, Strings, close_session, open_session, same_origin
from overlay.http.pages import PACKAGE, render
from overlay.http.throttle import record_failure, retry_after
from overlay.widgets import WIDGETS

CATALOG = i18n.register_json("admin", PACKAGE / "static" / "admin" / "strings.json")


def _lang(request: web.Request) -> str:
    return CATALOG.pick(request.query.get("lang"), accept_language=request.headers.get("Accept-Language"))


def _here(request: web.Request, suffix: str = "") -> str:
    lang = request.query.get("lang", "")
    return f"/admin{suffix}" + (f"?lang={lang}" if lang in CATALOG.languages else "")


def _login_page(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    lang = _lang(request)
    table = CATALOG.tables[lang]
    return render(request, "admin_login.html", {
        "t": Strings(table), "lang": lang, "error": table[error] if error else None, "action": _here(request, "/login"),
    }, status=status, headers=PAGE_HEADERS, framable=False)


async def admin_page(request: web.Request) -> web.Response:
    cookie = moderator_session(admins(request), request)
    if cookie is None:
        return _login_page(request)
    lang = _lang(request)
    base = request.app[keys.CONFIG].server.public_url.rstrip("/")
    data = {"lang": lang, "strings": CATALOG.tables[lang], "base": base, "widgets": list(WIDGETS)}
    return render(request, "admin.html", {
        "t": Strings(CATALOG.tables[lang]), "lang": lang, "csrf": csrf_token(cookie), "data": data,
        "logout_action": _here(request, "/logout"),
    }, headers=PAGE_HEADERS, framable=False)


async def login(request: web.Request) -> web.Response:
    if not same_origin(request):
        return _login_page(request, "login_cross_site", 403)
    wait = retry_after(request)
    if wait is not None:
        response = _login_page(request, "login_rate_limited", 429)
        response.headers["Retry-After"] = str(wait)
        return response
    holders = admins(request)
    token = matching_token(holders, (await request.post()).get("token")) if holders.moderator_tokens else None
    if token is None:
        record_failure(request)
        return _login_page(request, "login_failed", 401)
    return open_session(request, holders, token, _here(request))


async def logout(request: web.Request) -> web.Response:
    return await close_session(request, admins(request), _here(request))


def setup_admin_page(app: web.Application) -> None:
    app.router.add_get("/admin", admin_page)
    app.router.add_post("/admin/login", login)
    app.router.add_post("/admin/logout", logout)

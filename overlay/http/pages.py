"""Pages: a template loader chain, content-hashed static files, and a strict CSP.

Templates are looked up in the user's folder (``server.templates_dir``) first, then
in the built-ins, so any page can be overridden without forking (as Datasette does).
Static URLs carry a hash of the file's content: OBS browser sources cache hard, and
a new file must get a new URL. Every page gets a Content-Security-Policy that
allows scripts from this server only, and inline styles only with the page's nonce.
"""
from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import secrets
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from overlay.config import Config
from overlay.widgets.fonts import FONTS, SUBSETS

PACKAGE = Path(__file__).resolve().parent.parent  # overlay/: templates/, static/, widgets/
STATIC_ROOTS = {"": PACKAGE / "static", "widgets": PACKAGE / "widgets"}
SERVABLE = {".js", ".css", ".svg", ".png", ".gif", ".webp", ".jpg", ".mp3", ".ogg", ".wav", ".woff2", ".json", ".ico"}
LONG_CACHE = "public, max-age=31536000, immutable"
ENV: web.AppKey[jinja2.Environment] = web.AppKey("jinja")
STATIC: web.AppKey["StaticFiles"] = web.AppKey("static")

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("font/woff2", ".woff2")


class StaticFiles:
    """Logical path ("overlay-client.js", "widgets/goal/widget.css") -> content and its hash.

    The built-in files are small (a few megabytes with the emoji font) and hashed at start-up
    anyway, so they are served from memory: no file is opened per request, and a request
    cancelled at shutdown cannot leave one open.
    """

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, str]] = {}
        for prefix, root in STATIC_ROOTS.items():
            for path in sorted(root.rglob("*")):
                if path.is_file() and path.suffix in SERVABLE:
                    logical = "/".join(filter(None, [prefix, path.relative_to(root).as_posix()]))
                    body = path.read_bytes()
                    self.files[logical] = (body, hashlib.sha256(body).hexdigest()[:12], _content_type(path))

    def url(self, logical: str) -> str:
        if logical not in self.files:
            raise KeyError(f"no static file {logical!r}")
        return f"/static/{self.files[logical][1]}/{logical}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        found = self.files.get(request.match_info["path"])
        if found is None:
            raise web.HTTPNotFound()
        body, digest, content_type = found
        # An old page asking for an old hash still gets the file, but must not cache it for a year.
        cache = LONG_CACHE if request.match_info["hash"] == digest else "no-cache"
        return web.Response(body=body, content_type=content_type,
                            headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})


def _content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def csp(nonce: str, framable: bool = True, connect_src: tuple[str, ...] = (), form_action: tuple[str, ...] = ()) -> str:
    """connect_src: origins a page may fetch from besides ours (the live page's external WHEP);
    form_action: origins its forms may lead to besides ours (the donate form's redirect to Stripe Checkout)."""
    # Overlays are framed by the gallery and the dashboard's preview; pages with a form
    # (donate, dashboard) must not be framed anywhere, or a site could overlay and click them.
    connect, forms = " ".join(("'self'", *connect_src)), " ".join(("'self'", *form_action))
    return ("default-src 'self'; script-src 'self'; "
            f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; media-src 'self'; "
            f"connect-src {connect}; frame-src 'self'; object-src 'none'; base-uri 'none'; "
            f"form-action {forms}"
            + ("" if framable else "; frame-ancestors 'none'"))


def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200,
           headers: dict[str, str] | None = None, framable: bool = True,
           connect_src: tuple[str, ...] = (), form_action: tuple[str, ...] = ()) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    html = request.app[ENV].get_template(template).render(**context, csp_nonce=nonce)
    return web.Response(text=html, status=status, content_type="text/html", headers={
        "Content-Security-Policy": csp(nonce, framable, connect_src, form_action), "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", **(headers or {})})


def _environment(config: Config, static: StaticFiles) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if config.server.templates_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(config.server.templates_dir)))
    loaders += [jinja2.FileSystemLoader(str(PACKAGE / "templates")), jinja2.FileSystemLoader(str(PACKAGE / "widgets"))]
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["static_url"] = static.url
    env.globals["fonts"], env.globals["font_subsets"] = FONTS, SUBSETS  # overlay/styles.html
    return env


async def media(request: web.Request) -> web.StreamResponse:
    """Alert sounds and images from ``server.media_dir``: plain files, no traversal."""
    root = request.app[ENV].globals.get("media_dir")
    name = request.match_info["name"]
    if not root or "/" in name or "\\" in name or name.startswith(".") or Path(name).suffix not in SERVABLE:
        raise web.HTTPNotFound()
    path = Path(root) / name
    if not path.is_file():
        raise web.HTTPNotFound()
    # Read in a worker thread that opens and closes the file itself: a request cancelled
    # meanwhile (client gone, shutdown) leaves no open file behind, as FileResponse can.
    body = await asyncio.to_thread(path.read_bytes)
    return web.Response(body=body, content_type=_content_type(path),
                        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})


async def favicon(request: web.Request) -> web.Response:
    # Browsers ask for it on every page; an error in an OBS source's console helps nobody.
    return web.Response(status=204, headers={"Cache-Control": "public, max-age=86400"})


def setup_web(app: web.Application, config: Config) -> None:
    static = StaticFiles()
    env = _environment(config, static)
    env.globals["media_dir"] = str(config.server.media_dir) if config.server.media_dir else None
    app[STATIC], app[ENV] = static, env
    app.router.add_get("/static/{hash}/{path:.+}", static.handle)
    app.router.add_get("/media/{name}", media)
    app.router.add_get("/favicon.ico", favicon)

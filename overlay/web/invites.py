"""Invites: an admin makes a link; a streamer who opens it creates their own channel.

``POST /api/v1/admin/invites`` stores the campaign's defaults, how many channels the link may
create and until when; ``/join/{invite}`` is a plain form (name, id, currency, goal) that
creates the channel through the same path as the admin API and shows its browser-source
URLs and moderator token once. Used up or expired: 410. The invite's id is a secret: a wrong
one counts towards the per-address credential limit.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from overlay import keys
from overlay.channel_records import new_secret
from overlay.domain import wire
from overlay.clock import now_ms
from overlay.web.admin import ADMIN, create_stored
from overlay.web.admin_models import NewChannel, channel_refusal
from overlay.web.admin_page import CATALOG
from overlay.web.dashboard import PAGE_HEADERS, Strings, same_origin
from overlay.http.errors import ApiError
from overlay.http.pages import render
from overlay.web.routes import Routes
from overlay.http.throttle import record_failure, retry_after
from overlay.widgets import WIDGETS

FORM_FIELDS = ("name", "id", "currency", "goal")
routes = Routes()


class InviteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    defaults: dict[str, Any] = Field({}, description="channel settings every channel made with it starts from")
    expires_at: datetime = Field(description="ISO 8601 with a time zone")
    uses: int = Field(1, ge=1, le=10_000)


class Invite(BaseModel):
    id: str
    url: str
    expires_at: str
    uses: int
    used: int


def _check_defaults(defaults: dict[str, Any]) -> None:
    if {"id", "name"} & defaults.keys():
        raise ApiError(422, "invalid_defaults", "defaults: id and name are the streamer's to choose")
    try:
        NewChannel.model_validate({**defaults, "id": "x", "name": "x"})
    except ValidationError as exc:
        code, message = channel_refusal(exc.errors(include_url=False))
        raise ApiError(422, "invalid_defaults", f"defaults: {message} ({code})") from None


@routes.post("/admin/invites", access=ADMIN, body=InviteBody, ok={201: Invite}, errors=(401, 422))
async def create_invite(request: web.Request, _: None, body: InviteBody) -> web.Response:
    """An invite link that creates up to ``uses`` channels until ``expires_at``"""
    _check_defaults(body.defaults)
    if body.expires_at.tzinfo is None:
        raise ApiError(422, "invalid_expires_at", "expires_at: needs a time zone (such as Z)")
    invite_id = new_secret()
    expires = int(body.expires_at.timestamp() * 1000)
    await request.app[keys.DIRECTORY].put_invite(invite_id, {"defaults": body.defaults, "uses": body.uses,
                                                             "expires_ms": expires})
    base = request.app[keys.CONFIG].server.public_url.rstrip("/")
    return web.json_response({"id": invite_id, "url": f"{base}/join/{invite_id}", "expires_at": wire.iso(expires),
                              "uses": body.uses, "used": 0}, status=201)


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:32]


def _page(request: web.Request, status: int, **context: Any) -> web.Response:
    lang = CATALOG.pick(request.query.get("lang"), accept_language=request.headers.get("Accept-Language"))
    table = CATALOG.tables[lang]
    error = context.pop("error", None)
    return render(request, "join.html", {
        "t": Strings(table), "lang": lang, "error": table.get(error, error) if error else None, "form": {},
        "made": None, "gone": False, "action": request.path, **context,
    }, status=status, headers={**PAGE_HEADERS, "Cache-Control": "no-store"}, framable=False)


async def _invite(request: web.Request) -> dict[str, Any] | web.Response:
    """The usable invite, or the page to answer instead (404 unknown, 410 used up or expired)."""
    wait = retry_after(request)
    if wait is not None:
        return _page(request, 429, error="login_rate_limited", gone=True)
    invite = await request.app[keys.DIRECTORY].invite(request.match_info["invite"][:64])
    if invite is None:
        record_failure(request)
        return _page(request, 404, error="join_unknown", gone=True)
    if invite["used"] >= invite["uses"] or invite["expires_ms"] <= now_ms():
        return _page(request, 410, error="join_gone", gone=True)
    return invite


async def join_page(request: web.Request) -> web.Response:
    invite = await _invite(request)
    if isinstance(invite, web.Response):
        return invite
    defaults = invite["defaults"]
    return _page(request, 200, form={"currency": defaults.get("currency", "EUR"),
                                     "goal": defaults.get("campaign", {}).get("goal", "1000")})


async def join(request: web.Request) -> web.Response:
    if not same_origin(request):
        return _page(request, 403, error="login_cross_site", gone=True)
    invite = await _invite(request)
    if isinstance(invite, web.Response):
        return invite
    form = {k: str((await request.post()).get(k, "")).strip()[:200] for k in FORM_FIELDS}
    defaults = invite["defaults"]
    wanted = {**defaults, "id": form["id"] or slug(form["name"]), "name": form["name"], "currency": form["currency"],
              "campaign": {**defaults.get("campaign", {}), "goal": form["goal"]}}
    try:
        body = NewChannel.model_validate(wanted)
    except ValidationError as exc:
        return _page(request, 422, error=channel_refusal(exc.errors(include_url=False))[1], form=form)
    if request.app[keys.REGISTRY].in_config(body.id) or await request.app[keys.DIRECTORY].channel(body.id):
        return _page(request, 409, error="join_taken", form=form)  # before the invite's use is spent
    if not await request.app[keys.DIRECTORY].use_invite(request.match_info["invite"], now_ms()):
        return _page(request, 410, error="join_gone", gone=True)
    try:
        record, secrets = await create_stored(request, body)
    except ApiError as exc:  # the id was taken in the meantime: the use is spent
        return _page(request, exc.status, error=exc.message, form=form)
    base = request.app[keys.CONFIG].server.public_url.rstrip("/")
    key = secrets["overlay_key"]
    urls = [(w, f"{base}/overlay/{record['id']}/{w}?key={key}") for w in WIDGETS]
    urls.append(("dashboard", f"{base}/dashboard/{record['id']}"))
    return _page(request, 201, made={"id": record["id"], "urls": urls, **secrets})


def setup_invites(app: web.Application) -> None:
    routes.add_to(app)
    app.router.add_get("/join/{invite}", join_page)
    app.router.add_post("/join/{invite}", join)

"""GET /api/v1/channels/{ch}/overlays (moderators): the overlay pages open now, on every
worker and host (overlay.realtime.presence keeps the list)."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from overlay import keys
from overlay.realtime.presence import Presence
from overlay.service.channel import ChannelService
from overlay.web.api import CHANNEL, MODERATOR
from overlay.web.routes import Routes

routes = Routes()
PRESENCE: web.AppKey[Presence] = web.AppKey("presence")


class OverlayPage(BaseModel):
    page_id: str = Field(description="random, chosen by the page when it loads")
    widget: str
    since_ms: int = Field(description="when the page connected, ms since epoch")
    last_seen_ms: int = Field(description="its last heartbeat, ms since epoch")
    user_agent: str = Field(description="as the page's browser sent it, cut to 300 characters")
    client: str = Field(description='"OBS 30.2", "Chrome 124"…, or "" when not recognised')


class OverlayPages(BaseModel):
    pages: list[OverlayPage]
    ttl_s: int = Field(description="a page leaves the list this long after its last heartbeat")


@routes.get("/channels/{ch}/overlays", access=MODERATOR, ok={200: OverlayPages}, path_params=CHANNEL,
            summary="The overlay pages open now, oldest first")
async def list_overlay_pages(request: web.Request, svc: ChannelService) -> web.Response:
    found: list[dict[str, Any]] = await request.app[PRESENCE].listing(svc.cfg.id)
    return web.json_response({"pages": found, "ttl_s": request.app[keys.CONFIG].server.overlay_presence_ttl_s},
                             headers={"Cache-Control": "no-store"})


def setup_overlay_pages(app: web.Application) -> None:
    presence = Presence(app[keys.SIO], app[keys.STORE], app[keys.CONFIG].server.overlay_presence_ttl_s)
    app[keys.REALTIME].on_leave.append(presence.forget)
    app[PRESENCE] = presence
    routes.add_to(app)

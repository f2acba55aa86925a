"""GET /api/v1/channels/{ch}/integrations: which donation sources a channel has, and what
their platforms last told us about the subscriptions they send through (moderators only).

Today only Twitch EventSub reports subscriptions: ``enabled`` once its verification
challenge was answered, or the status of its revocation (``authorization_revoked``,
``user_removed``, ``notification_failures_exceeded``, ``version_removed``).
"""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from overlay import keys
from overlay.domain import wire
from overlay.intake.webhooks import PARSERS, settings_for
from overlay.service import ChannelService
from overlay.web.api import CHANNEL, MODERATOR
from overlay.web.routes import Routes

routes = Routes()


class Subscription(BaseModel):
    type: str = Field(description="the platform's subscription type, e.g. channel.charity_campaign.donate")
    status: str = Field(description="enabled, or why the platform ended it")
    active: bool = Field(description="false once the platform revoked it: it sends nothing more")
    at: str | None = Field(description="when the platform said so (RFC 3339)")


class Integration(BaseModel):
    provider: str
    configured: bool = Field(description="the channel's config has this provider's webhook secret")
    url: str = Field(description="the address to give the platform")
    subscriptions: list[Subscription]


class IntegrationList(BaseModel):
    integrations: list[Integration]


async def integrations(svc: ChannelService, public_url: str) -> list[dict[str, Any]]:
    """Every provider, configured or not, with its subscriptions' last known status."""
    known = await svc.store.integration_status(svc.cfg.id)
    return [{
        "provider": provider,
        "configured": settings_for(svc.cfg.webhooks, provider) is not None,
        "url": f"{public_url.rstrip('/')}/webhooks/{svc.cfg.id}/{provider}",
        "subscriptions": [{"type": name, "status": s.get("status", ""), "active": s.get("status") == "enabled",
                           "at": wire.iso(s.get("at"))} for name, s in known.get(provider, {}).items()],
    } for provider in PARSERS]


@routes.get("/channels/{ch}/integrations", access=MODERATOR, ok={200: IntegrationList}, path_params=CHANNEL)
async def get_integrations(request: web.Request, svc: ChannelService) -> web.Response:
    """Donation sources and their platforms' subscription status (e.g. a revoked Twitch subscription)."""
    public_url = request.app[keys.CONFIG].server.public_url
    return web.json_response({"integrations": await integrations(svc, public_url)})


def setup_integrations(app: web.Application) -> None:
    routes.add_to(app)

"""GET /api/v1/channels/{ch}/integrations: which donation sources a channel has, and what
their platforms last told us about the subscriptions they send through (moderators only).

Today only Twitch EventSub reports subscriptions: ``enabled`` once its verification
challenge was answered, or the status of its revocation (``authorization_revoked``,
``user_removed``, ``notification_failures_exceeded``, ``version_removed``).

Each provider's ``health`` (overlay/store/health.py) counts its deliveries of the last hour
and says when it last delivered; ``silent`` is set when a provider that delivered in the last
``RECENT_HOURS`` has sent nothing for longer than its ``silence_warning_min``.
The sources the server polls or connects to (DonorDrive, Streamlabs: overlay/intake/sources)
follow with ``kind: "source"``: their ``state`` is what the process holding the source's
lease last stored (overlay/intake/sources/health.py), so every process answers alike.
POST .../integrations/{provider}/test: overlay/web/integration_test.py.
"""
from __future__ import annotations

import time
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from overlay import keys
from overlay.domain import wire
from overlay.intake.sources.donordrive import donations_url
from overlay.intake.sources.health import STATUS_NAME as SOURCE_STATUS, read_state
from overlay.intake.webhooks import PARSERS, settings_for
from overlay.service.channel import ChannelService
from overlay.web.api import CHANNEL, MODERATOR
from overlay.web.routes import Routes

routes = Routes()


class Subscription(BaseModel):
    type: str = Field(description="the platform's subscription type, e.g. channel.charity_campaign.donate")
    status: str = Field(description="enabled, or why the platform ended it")
    active: bool = Field(description="false once the platform revoked it: it sends nothing more")
    at: str | None = Field(description="when the platform said so (RFC 3339)")


class Health(BaseModel):
    last_delivery: str | None = Field(description="when the provider last delivered (RFC 3339), whatever the outcome")
    accepted: int = Field(description="deliveries taken in the last hour (donations, duplicates, ignored events)")
    refused: int = Field(description="deliveries refused in the last hour: signature, timestamp, body, currency")
    failed: int = Field(description="deliveries we failed in the last hour (our 5xx, e.g. storage down)")
    silence_warning_min: int | None = Field(description="the configured silence interval; null never warns")
    silent: bool = Field(description="delivered in the last hours, then nothing for over silence_warning_min")


class SourceState(BaseModel):
    state: str = Field(description="starting, polling, connected, throttled, unreachable, disconnected, error; "
                                   "waiting: no process runs it now (its lease is about to be taken over)")
    detail: str = Field(description="what the platform answered, as logged")
    since: str | None = Field(description="since when (RFC 3339)")
    holder: str | None = Field(description="the process running it: host and pid")


class Integration(BaseModel):
    provider: str
    kind: Literal["webhook", "source"] = Field(description="source: the server polls or connects to the platform")
    configured: bool = Field(description="the channel's config has this provider's webhook secret (or source)")
    url: str = Field(description="the address to give the platform; for a source, the one it reads")
    subscriptions: list[Subscription]
    health: Health = Field(description="for a source, accepted counts donations booked and failed its failed "
                                       "polls or connections; last_delivery is its last donation")
    state: SourceState | None = Field(None, description="a source's state; null for a webhook or an idle source")


class IntegrationList(BaseModel):
    integrations: list[Integration]


RECENT_HOURS = 6


def _health(found: dict[str, Any] | None, settings: Any, now_ms: int) -> dict[str, Any]:
    found = found or {}
    last, minutes = found.get("last_ms"), getattr(settings, "silence_warning_min", None)
    silent = bool(last and minutes and minutes * 60_000 < now_ms - last <= RECENT_HOURS * 3_600_000)
    return {"last_delivery": wire.iso(last), "accepted": found.get("accepted", 0),
            "refused": found.get("refused", 0), "failed": found.get("failed", 0),
            "silence_warning_min": minutes, "silent": silent}


async def integrations(svc: ChannelService, public_url: str) -> list[dict[str, Any]]:
    """Every provider, configured or not, with its subscriptions' last known status and its health."""
    known = await svc.integration_status()
    now_ms = int(time.time() * 1000)
    health = await svc.delivery_health(now_ms)
    webhooks = [{
        "provider": provider, "kind": "webhook",
        "configured": settings_for(svc.cfg.webhooks, provider) is not None,
        "url": f"{public_url.rstrip('/')}/webhooks/{svc.cfg.id}/{provider}",
        "subscriptions": [{"type": name, "status": s.get("status", ""), "active": s.get("status") == "enabled",
                           "at": wire.iso(s.get("at"))} for name, s in known.get(provider, {}).items()],
        "health": _health(health.get(provider), settings_for(svc.cfg.webhooks, provider), now_ms),
        "state": None,
    } for provider in PARSERS]
    return webhooks + _sources(svc, known, health, now_ms)


def _sources(svc: ChannelService, known: dict[str, Any], health: dict[str, Any], now_ms: int) -> list[dict[str, Any]]:
    sources = svc.cfg.sources
    urls = {"donordrive": donations_url(sources.donordrive) if sources.donordrive else "",
            "streamlabs": sources.streamlabs.url if sources.streamlabs else ""}
    out = []
    for provider, url in urls.items():
        settings = getattr(sources, provider)
        state = read_state(known.get(provider, {}).get(SOURCE_STATUS), now_ms) if settings else None
        out.append({"provider": provider, "kind": "source", "configured": settings is not None, "url": url,
                    "subscriptions": [], "health": _health(health.get(provider), settings, now_ms),
                    "state": state and {**state, "since": wire.iso(state["since"])}})
    return out


@routes.get("/channels/{ch}/integrations", access=MODERATOR, ok={200: IntegrationList}, path_params=CHANNEL)
async def get_integrations(request: web.Request, svc: ChannelService) -> web.Response:
    """Donation sources and their platforms' subscription status (e.g. a revoked Twitch subscription)."""
    public_url = request.app[keys.CONFIG].server.public_url
    return web.json_response({"integrations": await integrations(svc, public_url)})


def setup_integrations(app: web.Application) -> None:
    routes.add_to(app)

"""POST /api/v1/channels/{ch}/integrations/{provider}/test: the dashboard's "Send test event".

Builds the platform's real delivery (overlay.intake.webhooks.samples), signed with the secret
configured for the channel, and posts it over HTTP to this server's own webhook route, on the
address and port the request came in on (loopback to the process's listening socket). The
route does everything it does for the platform: signature, parsing, currency and the channel's
fx, the store, the alert. The donation is a test one: it plays an alert and never counts.

What it proves: the route, the config's secret and the store work together. What it cannot:
that the platform holds the same secret, nor that it can reach ``public_url`` (a proxy, a
firewall, a tunnel in front of this server are not crossed).
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import aiohttp
from aiohttp import web
from pydantic import BaseModel, Field

from overlay.domain import money
from overlay.intake.webhooks import PARSERS, samples, settings_for
from overlay.service.channel import ChannelService
from overlay.web.api import CHANNEL, MODERATOR
from overlay.http.errors import ApiError
from overlay.web.routes import Routes

log = logging.getLogger(__name__)
routes = Routes()
TIMEOUT_S = 10
MAX_ANSWER = 2048  # characters of the route's answer reported back


class TestQuery(BaseModel):
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$",
                                 description="the test donation's currency (default: the channel's)")


class TestResult(BaseModel):
    ok: bool = Field(description="the route answered 2xx and took the donation")
    status: int = Field(description="the HTTP status the webhook route answered")
    answer: str = Field(description="the route's answer, as the platform would read it")
    external_id: str = Field(description="the test donation's id (starts with overlay-test-)")
    elapsed_ms: int


def _own_address(request: web.Request) -> str:
    """This process's listening socket, as the request reached it (never public_url: a proxy
    or tunnel in front may be absent or may not loop back)."""
    sock = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sock, tuple) and len(sock) >= 2:
        host = sock[0] if ":" not in sock[0] else f"[{sock[0]}]"
        return f"http://{host}:{sock[1]}"
    raise ApiError(503, "no_loopback", "this server listens on no TCP address it can post to")


@routes.post("/channels/{ch}/integrations/{provider}/test", access=MODERATOR, query=TestQuery,
             ok={200: TestResult}, path_params={**CHANNEL, "provider": {"enum": list(PARSERS)}}, errors=(409,))
async def send_test(request: web.Request, svc: ChannelService, query: TestQuery) -> web.Response:
    """Send a signed test delivery of the platform's own shape to this channel's webhook route."""
    provider = request.match_info["provider"]
    settings = settings_for(svc.cfg.webhooks, provider)
    if settings is None:
        raise ApiError(404, "provider_not_configured", "this provider is not configured for this channel")
    if provider not in samples.BUILDERS:  # PayPal signs with its own private key, which we never hold
        raise ApiError(409, "test_event_unavailable", f"a {provider} delivery cannot be signed here; "
                       "send one from the platform's own webhook simulator")
    currency = query.currency or svc.cfg.currency
    if currency not in money.known_currencies():
        raise ApiError(400, "invalid_currency", "currency must be an ISO 4217 code")
    sample = samples.build(provider, settings, currency, datetime.now(timezone.utc))
    url = f"{_own_address(request)}/webhooks/{svc.cfg.id}/{provider}"
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http:
            async with http.post(url, data=sample.body, headers=sample.headers) as r:
                status, text = r.status, (await r.text(errors="replace"))[:MAX_ANSWER]
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("test delivery %s/%s: the route did not answer (%s)", svc.cfg.id, provider, type(exc).__name__)
        raise ApiError(502, "route_unreachable", "the webhook route did not answer") from None
    took = 200 <= status < 300 and '"donation_id"' in text and '"refused"' not in text
    return web.json_response({"ok": took, "status": status, "answer": text, "external_id": sample.external_id,
                              "elapsed_ms": int((time.monotonic() - started) * 1000)})


def setup_integration_test(app: web.Application) -> None:
    routes.add_to(app)

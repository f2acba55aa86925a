"""Keep a channel's Tiltify webhook endpoint active.

Tiltify deactivates a webhook endpoint that failed to answer 2xx through its whole retry
schedule (about an hour), and then sends nothing more. With ``webhooks.tiltify.client_id``,
``client_secret`` and ``webhook_id``, one process across every worker and host (the holder of
the lease ``tiltify-keepalive:<channel>``, run by overlay.intake.sources.runner like the
sources) checks the endpoint when it takes the lease and then every ``keepalive_interval_s``:
an app token (client credentials, scope ``webhooks:write``: ``POST {api_base}/oauth/token``),
the endpoint (``GET {api_base}/api/private/webhook_endpoints/{id}``) and, when it has been
deactivated, ``POST .../activate``. What it found is stored as the endpoint's status
(``/integrations``, the dashboard): ``enabled``, or ``reactivated`` (the warning: deliveries
Tiltify gave up on meanwhile are not resent).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import time
from typing import Any

import aiohttp
from aiohttp import web

from overlay import keys
from overlay.intake.sources.runner import Source, sources_context
from overlay.errors import StoreUnavailable

log = logging.getLogger(__name__)
TIMEOUT_S = 20
STATUS_NAME = "webhook_endpoint"


class KeepaliveError(Exception):
    pass


async def _answer(r: aiohttp.ClientResponse, what: str) -> dict[str, Any]:
    if r.status >= 300:
        raise KeepaliveError(f"{what}: Tiltify answered {r.status}")
    data = await r.json(content_type=None)
    if not isinstance(data, dict):
        raise KeepaliveError(f"{what}: Tiltify's answer is not an object")
    return data.get("data", data) if isinstance(data.get("data", data), dict) else data


async def check(settings: Any) -> str:
    """``enabled`` when the endpoint was active, ``reactivated`` when this call activated it."""
    base = settings.api_base.rstrip("/")
    url = f"{base}/api/private/webhook_endpoints/{settings.webhook_id}"
    # The pid says which process checks: one at a time, whatever the number of workers.
    agent = f"overlay-donation-server (pid {os.getpid()})"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
                                     headers={"User-Agent": agent}) as http:
        params = {"client_id": settings.client_id, "client_secret": settings.client_secret,
                  "grant_type": "client_credentials", "scope": "webhooks:write"}
        async with http.post(f"{base}/oauth/token", params=params) as r:
            token = (await _answer(r, "app token")).get("access_token")
        if not isinstance(token, str):
            raise KeepaliveError("app token: Tiltify's answer has no access_token")
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(url, headers=headers) as r:
            endpoint = await _answer(r, "webhook endpoint")
        if endpoint.get("deactivated_at") is None:
            return "enabled"
        async with http.post(f"{url}/activate", headers=headers) as r:
            await _answer(r, "activate")
        return "reactivated"


async def _keep(svc: Any, settings: Any) -> None:
    channel, previous = svc.cfg.id, None
    while True:
        try:
            found = await check(settings)
        except (KeepaliveError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("tiltify %s: the webhook endpoint could not be checked: %s", channel, exc)
        else:
            if found == "reactivated":
                log.warning("tiltify %s: the webhook endpoint had been deactivated by Tiltify; reactivated", channel)
            # The warning stays until a process starts again and finds the endpoint active.
            if found == "reactivated" or previous is None:
                await _record(svc, found)
            previous = found
        await asyncio.sleep(settings.keepalive_interval_s)


async def _record(svc: Any, status: str) -> None:
    with contextlib.suppress(StoreUnavailable):
        await svc.put_integration_status("tiltify", STATUS_NAME,
                                         {"status": status, "at": int(time.time() * 1000)})


def keepalive_sources(app: web.Application) -> list[Source]:
    """One per channel known at start-up whose Tiltify credentials are configured."""
    found = []
    registry = app[keys.REGISTRY]
    for channel in registry.ids_setting("webhooks"):
        cfg = registry.settings(channel)
        tiltify = cfg.webhooks.tiltify if cfg is not None and cfg.webhooks else None
        if tiltify and tiltify.client_id and tiltify.client_secret and tiltify.webhook_id:
            svc = registry.service(channel, keep=True)  # held by the keep-alive: never dropped
            assert svc is not None
            found.append(Source(f"tiltify-keepalive:{channel}", functools.partial(_keep, svc, tiltify)))
    return found


# cleanup_ctx: the checks run while the app runs, in the lease holder only.
keepalive_context = sources_context(keepalive_sources)

"""Keep a channel's Tiltify webhook endpoint active.

Tiltify deactivates a webhook endpoint that failed to answer 2xx through its whole retry
schedule (about an hour), and then sends nothing more. With ``webhooks.tiltify.client_id``,
``client_secret`` and ``webhook_id``, every server process checks the endpoint at start-up and
then every ``keepalive_interval_s``: an app token (client credentials, scope ``webhooks:write``:
``POST {api_base}/oauth/token``), the endpoint (``GET {api_base}/api/private/webhook_endpoints/{id}``)
and, when it has been deactivated, ``POST .../activate``. The check is idempotent, so several
processes doing it is harmless (a few more API calls); what it found is stored as the
endpoint's status (``/integrations``, the dashboard): ``enabled``, or ``reactivated`` (the
warning: deliveries Tiltify gave up on meanwhile are not resent).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from overlay import keys
from overlay.store.base import StoreUnavailable

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
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http:
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
        await svc.store.put_integration_status(svc.cfg.id, "tiltify", STATUS_NAME,
                                               {"status": status, "at": int(time.time() * 1000)})


async def keepalive_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: one task per channel whose Tiltify credentials are configured."""
    tasks = []
    registry = app[keys.REGISTRY]
    for channel in registry.ids():  # the channels known at start-up
        cfg = registry.settings(channel)
        tiltify = cfg.webhooks.tiltify if cfg is not None and cfg.webhooks else None
        if tiltify and tiltify.client_id and tiltify.client_secret and tiltify.webhook_id:
            svc = registry.service(channel)
            assert svc is not None
            tasks.append(asyncio.create_task(_keep(svc, tiltify)))
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

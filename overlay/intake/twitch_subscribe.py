"""``python server.py twitch-subscribe --channel ID``: create the channel's EventSub subscriptions.

With the streamer's Twitch application in ``webhooks.twitch`` (``client_id``, ``client_secret``,
``broadcaster_user_id``): an app access token by the client-credentials grant
(``POST {auth_base}/token``), the existing subscriptions listed (``GET {api_base}/eventsub/subscriptions``),
then ``channel.charity_campaign.donate`` (and ``channel.cheer`` when ``cheer`` is set) created
(``POST {api_base}/eventsub/subscriptions``) with the webhook transport: callback
``<public_url>/webhooks/<channel>/twitch``, secret ``webhooks.twitch.secret``. A subscription of the
same type, condition and callback that is enabled or awaiting its verification is not created again.

Twitch requires an app access token for webhook subscriptions; the broadcaster must have
authorized the application once with the scopes of the types (``channel:read:charity``,
``bits:read``), or Twitch answers 403. Twitch then sends its verification challenge to the
callback, which the running server answers (overlay/intake/webhooks/eventsub.py).
"""
from __future__ import annotations

from typing import Any

import aiohttp

from overlay.config import ChannelSettings
from overlay.intake.webhooks.twitch import CHARITY_DONATION, CHEER

TIMEOUT_S = 20
LIVE_STATUSES = {"enabled", "webhook_callback_verification_pending"}
SCOPES = {CHARITY_DONATION: "channel:read:charity", CHEER: "bits:read"}


class SubscribeError(Exception):
    """Said to the streamer as is: a missing setting or what Twitch answered."""


def wanted_types(cfg: ChannelSettings) -> list[str]:
    twitch = cfg.webhooks.twitch if cfg.webhooks else None
    if twitch is None:
        raise SubscribeError(f"channel {cfg.id}: webhooks.twitch is not configured")
    missing = [k for k in ("client_id", "client_secret", "broadcaster_user_id") if not getattr(twitch, k)]
    if missing:
        raise SubscribeError(f"channel {cfg.id}: webhooks.twitch needs {', '.join(missing)}")
    return [CHARITY_DONATION, *([CHEER] if twitch.cheer else [])]


async def _json(r: aiohttp.ClientResponse, what: str) -> Any:
    data = await r.json(content_type=None) if r.content_length != 0 else None
    if r.status >= 300:
        message = data.get("message") if isinstance(data, dict) else None
        raise SubscribeError(f"{what}: Twitch answered {r.status} {str(message or '')[:200]}".rstrip())
    return data


async def _token(http: aiohttp.ClientSession, twitch: Any) -> str:
    form = {"client_id": twitch.client_id, "client_secret": twitch.client_secret, "grant_type": "client_credentials"}
    async with http.post(f"{twitch.auth_base.rstrip('/')}/token", data=form) as r:
        data = await _json(r, "app access token")
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        raise SubscribeError("app access token: Twitch's answer has no access_token")
    return data["access_token"]


async def _existing(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        async with http.get(url, headers=headers, params={"after": cursor} if cursor else None) as r:
            data = await _json(r, "list subscriptions")
        found += [s for s in data.get("data", []) if isinstance(s, dict)]
        cursor = (data.get("pagination") or {}).get("cursor")
        if not cursor:
            return found


def _matches(sub: dict[str, Any], kind: str, broadcaster: str, callback: str) -> bool:
    return (sub.get("type") == kind and sub.get("status") in LIVE_STATUSES
            and (sub.get("condition") or {}).get("broadcaster_user_id") == broadcaster
            and (sub.get("transport") or {}).get("callback") == callback)


async def subscribe(cfg: ChannelSettings, public_url: str) -> list[tuple[str, str]]:
    """(type, "created" | "exists") for each wanted type; SubscribeError when Twitch refuses."""
    try:
        return await _subscribe(cfg, public_url)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:  # ValueError: an answer that is not JSON
        raise SubscribeError(f"Twitch could not be reached or answered nonsense ({type(exc).__name__})") from None


async def _subscribe(cfg: ChannelSettings, public_url: str) -> list[tuple[str, str]]:
    kinds = wanted_types(cfg)
    twitch = cfg.webhooks.twitch  # type: ignore[union-attr]
    callback = f"{public_url.rstrip('/')}/webhooks/{cfg.id}/twitch"
    url = f"{twitch.api_base.rstrip('/')}/eventsub/subscriptions"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http:
        headers = {"Client-Id": twitch.client_id, "Authorization": f"Bearer {await _token(http, twitch)}"}
        existing = await _existing(http, url, headers)
        done = []
        for kind in kinds:
            if any(_matches(s, kind, twitch.broadcaster_user_id, callback) for s in existing):
                done.append((kind, "exists"))
                continue
            body = {"type": kind, "version": "1", "condition": {"broadcaster_user_id": twitch.broadcaster_user_id},
                    "transport": {"method": "webhook", "callback": callback, "secret": twitch.secret}}
            async with http.post(url, json=body, headers=headers) as r:
                if r.status == 403:
                    raise SubscribeError(f"{kind}: Twitch answered 403: the broadcaster has not authorized the "
                                         f"application with the {SCOPES[kind]} scope")
                await _json(r, kind)
            done.append((kind, "created"))
        return done

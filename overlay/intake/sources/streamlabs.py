"""Streamlabs donations through its Socket API (a Socket.IO 2 server: see ``eio3``).

The streamer copies the "Socket API Token" from Streamlabs' API settings. The socket sends
the event ``event`` with ``{"type": "donation", "message": [{"_id", "name", "amount",
"formatted_amount", "currency", "message", ...}], "event_id", "for": "streamlabs"}`` (other
types: follows, subscriptions, ... are ignored). Each donation is booked once by its
``_id`` (source ``streamlabs``): an event sent again after a reconnect, or seen by a second
process, finds the stored donation. A test donation (``isTest``, from Streamlabs' "Test
Widgets") is booked as a test: its alert plays, the totals do not change.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import aiohttp

from overlay.intake.sources import eio3
from overlay.intake.sources.book import book, display_text
from overlay.intake.sources.health import SourceHealth
from overlay.settings.sources import StreamlabsSettings
from overlay.intake.webhooks.base import IncomingDonation, MAX_ID_LENGTH, WebhookError, currency_code, provider_amount
from overlay.service.channel import ChannelService

log = logging.getLogger(__name__)
SOURCE = "streamlabs"
MAX_BACKOFF_S = 60.0
_GROUPED = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")


def _amount(value: Any) -> Any:
    # Streamlabs writes large amounts with thousands separators ("1,000.00").
    if isinstance(value, str) and _GROUPED.fullmatch(value.strip()):
        return value.strip().replace(",", "")
    return value


def parse_donation(item: Any) -> IncomingDonation | None:
    if not isinstance(item, dict):
        return None
    donation_id = item.get("_id", item.get("id"))
    if isinstance(donation_id, int) and not isinstance(donation_id, bool):
        donation_id = str(donation_id)
    if not isinstance(donation_id, str) or not 0 < len(donation_id) <= MAX_ID_LENGTH:
        return None
    try:
        currency = currency_code(item["currency"]) if item.get("currency") else "USD"  # Streamlabs' default
        amount = provider_amount(_amount(item.get("amount")), currency)
    except WebhookError:
        return None
    return IncomingDonation(external_id=donation_id, amount=amount, currency=currency,
                            donor_name=display_text(item.get("name")), message=display_text(item.get("message")),
                            created_at=None)


def donations_in(data: Any) -> tuple[list[tuple[IncomingDonation, bool]], int]:
    """(donation, is a test) for each donation of one ``event`` message ([] for other types),
    and how many of its entries could not be read. A test (``isTest``: the "Test Widgets"
    buttons of Streamlabs) shows its alert but counts nowhere."""
    if not isinstance(data, dict) or data.get("type") != "donation":
        return [], 0
    if not isinstance(data.get("message"), list):
        return [], 1
    found = []
    for item in data["message"]:
        d = parse_donation(item)
        if d is not None:
            found.append((d, item.get("isTest") is True))
    return found, len(data["message"]) - len(found)


def _reason(exc: Exception) -> str:
    # Never str(exc) of aiohttp's errors: they carry the URL, and the URL carries the token.
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"refused with {exc.status}" + (": check socket_token" if exc.status in (401, 403) else "")
    return str(exc) if isinstance(exc, eio3.Closed) else type(exc).__name__


class StreamlabsSocket:
    """``run`` stays connected until cancelled, reconnecting with a doubling back-off."""

    def __init__(self, svc: ChannelService, settings: StreamlabsSettings) -> None:
        self.svc, self.settings = svc, settings
        self.health = SourceHealth(svc, SOURCE)
        self.heard = False  # an event arrived on the current connection

    async def run(self) -> None:
        delay = 1.0
        async with aiohttp.ClientSession() as http:
            while True:
                self.heard = False
                try:
                    await self._listen(http)
                except (aiohttp.ClientError, TimeoutError, eio3.Closed) as exc:
                    if not self.heard:
                        await self.health.count("failed")
                    await self.health.state("unreachable" if not self.heard else "disconnected",
                                            f"disconnected ({_reason(exc)}); reconnecting")
                # A connection that carried events was fine: reconnect at once; else back off.
                delay = 1.0 if self.heard else min(delay * 2, MAX_BACKOFF_S)
                await asyncio.sleep(delay)

    async def _listen(self, http: aiohttp.ClientSession) -> None:
        async for name, data in eio3.events(http, self.settings.url, {"token": self.settings.socket_token}):
            if name == "connect":
                await self.health.state("connected", level=logging.INFO)
                continue
            self.heard = True
            if name == "event":
                found, bad = donations_in(data)
                await self.health.count("refused", bad)
                for d, test in found:
                    await book(self.svc, SOURCE, d, self.health, test=test)

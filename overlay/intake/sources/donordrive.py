"""DonorDrive (Extra Life and other DonorDrive events): poll a participant's or a team's
public donations, since DonorDrive sends no webhooks.

``GET {base_url}/api/participants/{id}/donations`` (or ``/api/teams/{id}/donations``)
answers the latest donations, newest first (``limit`` up to 100), each with ``donationID``,
``amount`` (a JSON number, in the event's currency; absent when the donor hid it),
``displayName``, ``message``, ``createdDateUTC``, ``incentiveID`` (matched to an
incentive's ``donordrive_id`` when the donation is booked). We send the last
``ETag`` in ``If-None-Match`` and get 304 while nothing changed. 429 ("take a break") and
5xx are retried after ``Retry-After`` when given, else after a doubling back-off.

Each donation is booked once by ``donationID`` (source ``donordrive``). On the first poll
after a start every listed donation goes through the write path: those already stored are
found by their id and skipped; those made while the server was down are booked then, each
with its alert, oldest first.
"""
from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from overlay.intake.sources.book import book, display_text
from overlay.intake.sources.health import SourceHealth
from overlay.settings.sources import DonorDriveSettings
from overlay.intake.webhooks.base import IncomingDonation, MAX_ID_LENGTH, WebhookError, provider_amount
from overlay.service.channel import ChannelService
from overlay.http import strictjson

log = logging.getLogger(__name__)
SOURCE = "donordrive"
MAX_BACKOFF_S = 600.0
TIMEOUT = aiohttp.ClientTimeout(total=30)
MAX_BODY = 1024 * 1024  # 100 donations take about 40 kB


def user_agent() -> str:
    # Read when polling starts, in the worker itself: says which process polls.
    return f"overlay-donation-server (pid {os.getpid()})"


def donations_url(settings: DonorDriveSettings) -> str:
    base = settings.base_url.rstrip("/")
    if settings.participant_id is not None:
        return f"{base}/api/participants/{settings.participant_id}/donations?limit=100"
    return f"{base}/api/teams/{settings.team_id}/donations?limit=100"



def parse_donation(item: Any, currency: str) -> IncomingDonation | None:
    """One entry of the answer, or None when it cannot be booked (no id, a hidden amount)."""
    if not isinstance(item, dict):
        return None
    donation_id, amount = item.get("donationID"), item.get("amount")
    if not isinstance(donation_id, str) or not 0 < len(donation_id) <= MAX_ID_LENGTH or amount is None:
        return None
    try:
        value = provider_amount(amount, currency)
    except WebhookError:
        return None
    created = item.get("createdDateUTC")
    try:
        created_at = datetime.fromisoformat(created).astimezone(timezone.utc) if isinstance(created, str) else None
    except ValueError:
        created_at = None
    incentive = item.get("incentiveID")
    return IncomingDonation(external_id=donation_id, amount=value, currency=currency,
                            donor_name=display_text(item.get("displayName")), message=display_text(item.get("message")),
                            created_at=created_at,
                            incentive={"donordrive_id": incentive} if isinstance(incentive, str) else None)


def parse_donations(body: bytes, currency: str) -> tuple[list[IncomingDonation], set[str]]:
    """The answer, oldest first, and the ids of the entries that cannot be booked (a malformed
    one; not a hidden amount, which is the donor's choice): those are left out."""
    try:
        items = strictjson.loads(body)
    except ValueError:
        raise ValueError("the donations answer is not JSON") from None
    if not isinstance(items, list):
        raise ValueError("the donations answer is not a JSON array")
    found, bad = [], set()
    for item in reversed(items):
        d = parse_donation(item, currency)
        if d is not None:
            found.append(d)
        elif isinstance(item, dict) and item.get("amount") is not None:
            bad.add(str(item.get("donationID")))
    return found, bad


def retry_after(value: str | None, default: float) -> float:
    """Retry-After in seconds or as an HTTP date; ``default`` when absent or unreadable."""
    if not value:
        return default
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return default


class DonorDrivePoller:
    """``run`` polls until cancelled; the runner makes sure one process does at a time."""

    def __init__(self, svc: ChannelService, settings: DonorDriveSettings) -> None:
        self.svc, self.settings = svc, settings
        self.url = donations_url(settings)
        self.etag: str | None = None
        self.booked: set[str] = set()  # ids this poller has seen stored: not sent again
        self.refused: set[str] = set()  # malformed entries already counted
        self.failures = 0
        self.health = SourceHealth(svc, SOURCE)

    async def run(self) -> None:
        async with aiohttp.ClientSession(timeout=TIMEOUT, headers={"User-Agent": user_agent()}) as http:
            while True:
                await asyncio.sleep(await self.poll_once(http))

    def _backoff(self, hint: str | None = None) -> float:
        self.failures += 1
        doubling = min(self.settings.interval_s * 2 ** (self.failures - 1), MAX_BACKOFF_S)
        return max(retry_after(hint, doubling), 1.0)

    async def poll_once(self, http: aiohttp.ClientSession) -> float:
        """One request; the seconds to wait before the next."""
        headers = {"If-None-Match": self.etag} if self.etag else {}
        try:
            async with http.get(self.url, headers=headers) as r:
                body, status, etag = await r.content.read(MAX_BODY + 1), r.status, r.headers.get("ETag")
                hint = r.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self.health.count("failed")
            await self.health.state("unreachable", f"unreachable ({type(exc).__name__})")
            return self._backoff()
        if status == 429 or status >= 500:
            await self.health.count("failed")
            await self.health.state("throttled" if status == 429 else "unreachable", f"answered {status}; backing off")
            return self._backoff(hint)
        if status == 304:
            self.failures = 0
            await self.health.state("polling", level=logging.INFO)
            return self.settings.interval_s
        if status != 200:
            await self.health.count("failed")
            await self.health.state("error", f"answered {status} (check base_url and the participant or team id)",
                                    logging.ERROR)
            return self._backoff()
        try:
            if len(body) > MAX_BODY:
                raise ValueError(f"the donations answer is larger than {MAX_BODY} bytes")
            found, bad = parse_donations(body, self.settings.currency)
        except ValueError as exc:
            await self.health.count("refused")
            await self.health.state("error", str(exc), logging.ERROR)
            return self._backoff()
        await self.health.count("refused", len(bad - self.refused))
        self.refused |= bad
        await self._book_all(found)
        # Only once everything listed is stored: a failed booking is fetched and tried again.
        self.etag, self.failures = etag, 0
        await self.health.state("polling", level=logging.INFO)
        return self.settings.interval_s

    async def _book_all(self, found: list[IncomingDonation]) -> None:
        fresh = [d for d in found if d.external_id not in self.booked]
        if not fresh:
            return
        # After a start or a take-over the whole list is new to us: one read finds those stored.
        stored = await self.svc.find_externals([(SOURCE, d.external_id) for d in fresh])
        for d in fresh:
            if stored.get((SOURCE, d.external_id)) is None:
                await book(self.svc, SOURCE, d, self.health)
            self.booked.add(d.external_id)

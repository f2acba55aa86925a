"""Book a donation a source brought in, through the same write path as the webhooks."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from overlay import metrics
from overlay.domain import wire
from overlay.domain.donations import DonationError, DonationInput
from overlay.intake.webhooks.base import IncomingDonation
from overlay.service.channel import ChannelService

if TYPE_CHECKING:
    from overlay.intake.sources.health import SourceHealth

log = logging.getLogger(__name__)


class StateLog:
    """Logs a source's state only when it changes: a source down for hours writes one line."""

    def __init__(self, name: str) -> None:
        self.name, self.last = name, ""

    def say(self, state: str, level: int = logging.WARNING) -> None:
        if state != self.last:
            log.log(level, "source %s: %s", self.name, state)
            self.last = state


def display_text(value: Any) -> str | None:
    """A platform's optional text field: not a string, or blank, means None."""
    return (value.strip() or None) if isinstance(value, str) else None


async def book(svc: ChannelService, provider: str, d: IncomingDonation, health: SourceHealth, *,
               test: bool = False) -> bool:
    """True if newly booked (``test``: a platform's test alert, shown but counted nowhere). Idempotent by (provider, external_id): a second process, a
    restart or a re-sent event finds the stored one. A donation we can never accept (no fx
    rate for its currency) is logged and skipped: polling it again would not change that."""
    inp = DonationInput(amount=d.amount, currency=d.currency, donor_name=d.donor_name, message=d.message,
                        source=provider, external_id=d.external_id, test=test, incentive=d.incentive,
                        created_at=wire.to_ms(d.created_at) if d.created_at else None)
    try:
        _rec, created = await svc.donate(inp)
    except DonationError as exc:
        log.error("source %s/%s: donation %s refused: %s", svc.cfg.id, provider, d.external_id, exc.code)
        metrics.WEBHOOKS.labels(svc.cfg.id, provider, exc.code).inc()
        await health.count("refused")
        return False
    metrics.WEBHOOKS.labels(svc.cfg.id, provider, "donation" if created else "duplicate").inc()
    if created:
        await health.count("accepted")
    return created

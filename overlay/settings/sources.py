"""Per-channel donation sources the server polls or connects to: `channels[].sources`."""
from __future__ import annotations

from pydantic import Field, model_validator

from overlay.settings.base import Strict

# DonorDrive answers 429 to clients that poll too often; its own widgets refresh every
# 15 s or more, so we never poll faster.
MIN_DONORDRIVE_INTERVAL_S = 15


_Strict = Strict  # frozen, extra keys refused, shared defaults not copied (overlay.settings.base)


def _silence() -> int | None:
    """`silence_warning_min`: the dashboard warns when the source, having booked a donation
    in the last hours, has brought nothing for this many minutes; null never warns."""
    return Field(60, ge=1, le=24 * 60)


class DonorDriveSettings(_Strict):
    """`base_url`: the event's DonorDrive site (Extra Life: https://www.extra-life.org).
    Exactly one of `participant_id` / `team_id` (in the fundraising page's URL). Amounts
    are in the event's currency, `currency` (Extra Life: USD)."""

    base_url: str = Field("https://www.extra-life.org", pattern=r"^https?://[^\s/]+(:[0-9]+)?/?$")
    participant_id: int | None = Field(None, ge=1)
    team_id: int | None = Field(None, ge=1)
    interval_s: int = Field(60, ge=MIN_DONORDRIVE_INTERVAL_S, le=3600)
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    silence_warning_min: int | None = _silence()

    @model_validator(mode="after")
    def _one_target(self) -> "DonorDriveSettings":
        if (self.participant_id is None) == (self.team_id is None):
            raise ValueError("give exactly one of participant_id or team_id")
        return self


class StreamlabsSettings(_Strict):
    """`socket_token`: Streamlabs > Settings > API Settings > API Tokens > Your Socket API
    Token. `url`: another socket server (a local fake, for tests)."""

    socket_token: str = Field(min_length=1)
    url: str = Field("https://sockets.streamlabs.com", pattern=r"^https?://[^\s]+$")
    silence_warning_min: int | None = _silence()


class SourceSettings(_Strict):
    donordrive: DonorDriveSettings | None = None
    streamlabs: StreamlabsSettings | None = None

"""The ``live:`` section of a channel. No aiortc here: config loading imports this at every start-up."""
from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class LiveSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stream_key: str | None = Field(default=None, min_length=1)
    max_viewers: int = Field(default=100, ge=1)
    # An external WHEP endpoint (MediaMTX, Broadcast Box...) the viewer page plays from
    # instead of ours; the overlays are still drawn by us.
    whep_url: str | None = None

    @field_validator("whep_url")
    @classmethod
    def _whep_url(cls, v: str | None) -> str | None:
        if v is not None and (urlsplit(v).scheme not in ("http", "https") or not urlsplit(v).netloc):
            raise ValueError("must be an http:// or https:// URL")
        return v

    @model_validator(mode="after")
    def _source(self) -> LiveSettings:
        if self.stream_key is None and self.whep_url is None:
            raise ValueError("give stream_key (stream to this server) or whep_url (play from another)")
        return self

    @property
    def served_here(self) -> bool:
        """Does our own live process take this channel's WHIP and WHEP?"""
        return self.whep_url is None


def whep_origin(url: str) -> str:
    """What the page's CSP connect-src must allow for this endpoint."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"

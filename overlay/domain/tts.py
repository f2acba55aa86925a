"""Text-to-speech rules: which alert speaks, what it says, and the clip's address.

Pure functions of the channel's settings and a donation as clients see it
(``wire.donation``): the server process that answers the clip's URL and the one
that logged the ``play`` event compute the same text and the same address
without sharing anything but the config.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from overlay.config import ChannelSettings
from overlay.domain import money

# What a spoken alert needs beyond its picture: the tier's sound first (the chime is
# about a second), then the speech at espeak-ng's default rate (~14 characters a second).
SOUND_MS = 2500
MS_PER_CHAR = 75
TAIL_MS = 1000
MAX_ALERT_MS = 120_000

_MASKED = re.compile(r"\*{2,}")  # banned words arrive masked as ****: say nothing for them
_SPACES = re.compile(r"\s+")


def speech_text(cfg: ChannelSettings, donation: dict[str, Any]) -> str | None:
    """The words the alert says for ``donation``, or None when it stays silent: TTS off,
    not approved, below ``tts.min_amount``, or no message left once masked words are dropped."""
    tts = cfg.alerts.tts
    if not tts.enabled or donation.get("status") != "approved" or not donation.get("message"):
        return None
    if money.parse_amount(donation["amount"], cfg.currency) < money.parse_amount(
            tts.min_amount, cfg.currency, allow_zero=True):
        return None
    text = _SPACES.sub(" ", _MASKED.sub(" ", donation["message"])).strip()
    if len(text) > tts.max_chars:
        cut = text[:tts.max_chars]
        # End on a whole word when one ends in the last fifth; a very long word is simply cut.
        space = cut.rfind(" ")
        text = cut[:space] if space > tts.max_chars * 4 // 5 else cut
    return text if any(c.isalnum() for c in text) else None


def clip_token(cfg: ChannelSettings, donation_id: str, text: str) -> str:
    """Unguessable without the overlay key, and different whenever the words or voice change,
    so a clip can be cached for as long as a browser likes."""
    msg = "\n".join((cfg.id, donation_id, cfg.alerts.tts.voice or "", cfg.locale, text)).encode()
    return hmac.new(cfg.overlay_key.encode(), msg, hashlib.sha256).hexdigest()[:32]


def clip_path(cfg: ChannelSettings, donation: dict[str, Any]) -> str | None:
    """The clip's URL path for an alert ``play``, or None when the alert stays silent."""
    text = speech_text(cfg, donation)
    if text is None:
        return None
    return f"/tts/{cfg.id}/{donation['id']}/{clip_token(cfg, donation['id'], text)}.wav"


def alert_duration(cfg: ChannelSettings, donation: dict[str, Any], duration_ms: int) -> int:
    """Long enough for the sound and then the speech, never shorter than configured."""
    text = speech_text(cfg, donation)
    if text is None:
        return duration_ms
    return max(duration_ms, min(MAX_ALERT_MS, SOUND_MS + len(text) * MS_PER_CHAR + TAIL_MS))

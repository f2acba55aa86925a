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
import unicodedata
from collections.abc import Sequence
from typing import Any

from overlay.settings.channel import ChannelSettings
from overlay.domain import money, moderation

# What a spoken alert needs beyond its picture: the tier's sound first (the chime is
# about a second), then the speech at espeak-ng's default rate (~14 characters a second).
SOUND_MS = 2500
MS_PER_CHAR = 75
TAIL_MS = 1000
MAX_ALERT_MS = 120_000

_MASKED = re.compile(r"\*{2,}")  # banned words arrive masked as ****: say nothing for them
_SPACES = re.compile(r"\s+")
# Engine markup, which would make the voice say what the screen does not show. eSpeak NG
# and Piper both read [[...]] as phonemes (an unclosed one runs to the end); eSpeak NG reads
# SSML tags and entities with -m (never given, but a voice is no place for them either).
_MARKUP = re.compile(
    r"\[\[.*?(?:\]\]|\Z)"                     # phonemes
    r"|<\s*[/!?]?[A-Za-z][^<>]*(?:>|\Z)"       # a tag, <speak>, <phoneme ph=...>, </say-as
    r"|&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);"  # an entity, &#105; &lt;
    r"|[\[\]<>]",                               # what is left of brackets, nested or stray
    re.DOTALL)


def _plain_char(ch: str) -> str:
    """Control characters (eSpeak NG reads \\x01 as the start of a command: speed, pitch...)
    become spaces; format characters (zero-width...) go, so that a word they split is one again."""
    kind = unicodedata.category(ch)
    return " " if kind == "Cc" else "" if kind in ("Cf", "Co", "Cs") else ch


def without_markup(text: str) -> str:
    """``text`` with nothing an engine reads as other than words: what engines are given."""
    if not (text.isascii() and text.isprintable()):
        text = "".join(map(_plain_char, text))
    return _SPACES.sub(" ", _MARKUP.sub(" ", text)).strip()


def speakable(text: str, banned_words: Sequence[str]) -> str:
    """What the voice may say of ``text``: no markup, and no banned word, even one that
    removing markup or invisible characters put together (masked words are left out)."""
    masked, _ = moderation.mask_banned(without_markup(_MASKED.sub(" ", text)), tuple(banned_words))
    return _SPACES.sub(" ", _MASKED.sub(" ", masked)).strip()


_REPEATED_CHAR = re.compile(r"(.)\1{3,}", re.DOTALL)
_REPEATED_WORDS = re.compile(r"\b(\w+(?:\W+\w+){0,2}?)(?:\W+\1\b){3,}", re.IGNORECASE)
REPEATS_KEPT = 3


def collapse_repeats(text: str) -> str:
    """A character or a word (or a run of up to three words) said more than three times in a
    row is said three times: "!!!!!!!!" -> "!!!", "lol lol lol lol" -> "lol lol lol"."""
    text = _REPEATED_CHAR.sub(lambda m: m.group(1) * REPEATS_KEPT, text)

    def three(m: re.Match[str]) -> str:
        whole, unit = m.group(0), m.group(1)
        sep = whole[len(unit):whole.lower().index(unit.lower(), len(unit))]
        return sep.join([unit] * REPEATS_KEPT)
    return _REPEATED_WORDS.sub(three, text)


def speech_text(cfg: ChannelSettings, donation: dict[str, Any], minor: int | None = None) -> str | None:
    """The words the alert says for ``donation``, or None when it stays silent: TTS off,
    not approved, below ``tts.min_amount``, or no message left once markup and masked words
    are dropped. ``minor``: the real amount, for a donation whose public amount is hidden
    (without either, the caller has judged the amount already)."""
    tts = cfg.alerts.tts
    if not tts.enabled or donation.get("status") != "approved" or not donation.get("message"):
        return None
    if minor is None and donation.get("amount") is not None:
        minor = money.parse_amount(donation["amount"], cfg.currency)
    if minor is not None and minor < money.parse_amount(tts.min_amount, cfg.currency, allow_zero=True):
        return None
    text = collapse_repeats(speakable(donation["message"], cfg.moderation.banned_words))
    if len(text) > tts.max_chars:
        cut = text[:tts.max_chars]
        # End on a whole word when one ends in the last fifth; a very long word is simply cut.
        space = cut.rfind(" ")
        # Masked again: a cut can end a longer word on a banned one ("idiotement" -> "idiot").
        text = speakable(cut[:space] if space > tts.max_chars * 4 // 5 else cut, cfg.moderation.banned_words)
    return text if any(c.isalnum() for c in text) else None


def may_speak(cfg: ChannelSettings, spoken: dict[str, Any] | None, donation: dict[str, Any], now: int, *,
              reviewed: bool, minor: int | None = None,
              donor: str | None = None) -> tuple[bool, dict[str, Any] | None]:
    """(whether the alert queued now for ``donation`` speaks, the per-donor record after it):
    decided once at queue time so that every worker agrees. ``reviewed``: a moderator approved
    the message in the screening queue (``tts.only_approved`` speaks only those). A donor's
    messages are spoken at most once per ``tts.donor_cooldown_s`` (by name, case-insensitive).
    ``minor``: the real amount, for a donation whose public amount is hidden."""
    tts = cfg.alerts.tts
    if speech_text(cfg, donation, minor) is None or (tts.only_approved and not reviewed):
        return False, spoken
    # ``donor``: the real name, when the donor chose to show another (or none) publicly.
    name = (donor if donor is not None else donation.get("donor_name") or "").strip().casefold()
    if not tts.donor_cooldown_s or not name:
        return True, spoken
    window = tts.donor_cooldown_s * 1000
    last = (spoken or {}).get(name)
    if last is not None and now - last < window:
        return False, spoken
    kept = {k: t for k, t in (spoken or {}).items() if now - t < window}  # older ones no longer matter
    return True, {**kept, name: now}


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


def alert_duration(cfg: ChannelSettings, donation: dict[str, Any], duration_ms: int,
                   minor: int | None = None, *, speak: bool = True) -> int:
    """Long enough for the sound and then the speech, never shorter than configured."""
    text = speech_text(cfg, donation, minor) if speak else None
    if text is None:
        return duration_ms
    return max(duration_ms, min(MAX_ALERT_MS, SOUND_MS + len(text) * MS_PER_CHAR + TAIL_MS))

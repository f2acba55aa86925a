"""Moderation rules of a channel, applied to donor text before anything stores or shows it."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from overlay.settings.channel import ModerationSettings

# Scheme URLs, www. hosts and bare domains with a common TLD ("example.com/x").
_LINK = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]*://\S+|www\.\S+|[a-z0-9-]+(?:\.[a-z0-9-]+)*\."
    r"(?:com|net|org|io|gg|tv|co|me|ly|fr|de|uk|info|xyz|app|dev|link|live|shop)\b(?:/\S*)?)"
)
# Bidi overrides and other format characters let a troll flip or hide text on screen.
_FORMAT_CATEGORIES = {"Cf", "Cc", "Co", "Cs"}
MAX_NAME_LENGTH = 64


@dataclass(frozen=True)
class Screened:
    donor_name: str | None
    message: str | None
    flagged: bool  # a banned word or link was found
    original_message: str | None  # cleaned but unmasked: moderators only


def clean_text(text: str | None) -> str | None:
    """Normalise and drop invisible control/format characters; empty -> None."""
    if text is None:
        return None
    text = str(text)
    # Printable ASCII holds no control or format character and is NFC already: skip the
    # walk over every character (the usual message's cost).
    if not (text.isascii() and text.isprintable()):
        text = unicodedata.normalize("NFC", text)
        text = "".join(" " if ch in "\r\n\t" else ch for ch in text
                       if ch in "\r\n\t" or unicodedata.category(ch) not in _FORMAT_CATEGORIES)
    text = re.sub(r"\s{2,}", " ", text).strip()
    return text or None


@lru_cache(maxsize=64)
def _banned_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    words = tuple(w.strip() for w in words if w.strip())
    if not words:
        return None
    return re.compile(r"(?i)(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)")


def mask_banned(text: str, words: tuple[str, ...]) -> tuple[str, bool]:
    pattern = _banned_pattern(words)
    if pattern is None:
        return text, False
    masked, n = pattern.subn(lambda m: "*" * len(m.group(0)), text)
    return masked, n > 0


def strip_links(text: str) -> tuple[str, bool]:
    stripped, n = _LINK.subn("", text)
    return re.sub(r"\s{2,}", " ", stripped).strip(), n > 0


def screen(rules: ModerationSettings, name: str | None, message: str | None,
           amount_minor: int, name_min_minor: int) -> Screened:
    """Apply the channel's rules to a donor's name and message."""
    words = tuple(rules.banned_words)
    flagged = False
    name = clean_text(name)
    if name is not None:
        name, hit = mask_banned(name[:MAX_NAME_LENGTH], words)
        flagged |= hit
        if amount_minor < name_min_minor:
            name = None
    message = original = clean_text(message)
    if original is not None:
        original = original[:2000]
        if rules.strip_links:
            message, hit = strip_links(message)
            flagged |= hit
        message, hit = mask_banned(message, words)
        flagged |= hit
        message = message[: rules.max_message_length] or None
    return Screened(name or None, message, flagged, original)


def needs_hold(rules: ModerationSettings, message: str | None) -> bool:
    if rules.hold == "all":
        return True
    return rules.hold == "messages" and bool(message)

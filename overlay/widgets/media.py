"""Setting types for files of the media library (overlay/web/media.py), per alert tier."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from overlay.domain import media

MAX_TIERS = 10


def _split(value: Any) -> Any:
    # In a URL the list is written "a.png,,b.png": one entry per tier, empty for "the default".
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")] if value.strip() else []
    return value


def _library_names(kind: str):  # noqa: ANN202
    def check(names: list[str]) -> list[str]:
        for name in names:
            found = media.parse_stored(name) if name else None
            if name and (found is None or found.kind not in media.FITS[kind]):
                raise ValueError(f"{name[:60]!r} is not a {kind} of the media library")
        return names
    return check


def TierMedia(kind: str) -> Any:  # noqa: N802 - used as a type
    return Annotated[list[str], BeforeValidator(_split), AfterValidator(_library_names(kind)),
                     Field(max_length=MAX_TIERS + 1)]

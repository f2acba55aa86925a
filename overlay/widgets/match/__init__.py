"""match: the sponsor's matching banner, shown only while a match is active."""
from __future__ import annotations

from overlay.widgets.base import Position, WidgetSettings

ORDER = 30
DESCRIPTION = "The matching banner: sponsor, ×2, what is left of the cap, countdown. Hidden when no match runs."


class Settings(WidgetSettings):
    position: Position = "right"
    show_remaining: bool = True
    show_countdown: bool = True

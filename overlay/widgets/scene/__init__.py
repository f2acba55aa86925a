"""scene: every widget laid out on one 1920×1080 page, for a single browser source."""
from __future__ import annotations

from overlay.widgets.base import WidgetSettings

ORDER = 90
DESCRIPTION = "Everything on one 1920×1080 page, for streamers who want a single source."
PARTS = ("goal", "match", "leaderboard", "sticker", "ticker", "alert")  # back to front


class Settings(WidgetSettings):
    show_goal: bool = True
    show_match: bool = True
    show_leaderboard: bool = True
    show_sticker: bool = True
    show_ticker: bool = True
    show_alert: bool = True

    def parts(self) -> list[str]:
        return [p for p in PARTS if getattr(self, f"show_{p}")]

"""ticker: the latest donations crawling along the bottom, newest first."""
from __future__ import annotations

from pydantic import Field

from overlay.widgets.base import Position, Text, WidgetSettings

ORDER = 50
DESCRIPTION = "The latest donations crawling along the bottom, newest first."


class Settings(WidgetSettings):
    position: Position = "bottom"
    count: int = Field(10, ge=1, le=20, description="how many donations")
    speed: int = Field(70, ge=0, le=400, description="crawl speed in pixels per second; 0: no crawl")
    label: Text = Field(None, description="label on the left; empty: “Derniers dons” / “Latest donations”")
    show_messages: bool = False

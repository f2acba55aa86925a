"""leaderboard: top donors by total; anonymous donors are never listed."""
from __future__ import annotations

from pydantic import Field

from overlay.widgets.base import Position, Text, WidgetSettings

ORDER = 60
DESCRIPTION = "Top donors by total (anonymous donors excluded)."


class Settings(WidgetSettings):
    position: Position = "bottom-right"
    count: int = Field(5, ge=1, le=20, description="how many donors")
    title: Text = Field(None, description="heading; empty: “Top donateurs” / “Top donors”")

"""targets: the channel's sub-goals (incentives of kind target) stacked, each with its bar."""
from __future__ import annotations

from pydantic import Field

from overlay.widgets.base import Position, Text, WidgetSettings

ORDER = 25
DESCRIPTION = "Sub-goals (“at 500 € I dye my hair”) stacked, each with its progress; unlocked ones celebrated."


class Settings(WidgetSettings):
    position: Position = "top-right"
    target: Text = Field(None, description="one target's id: only that one, open or not; empty: the open ones, newest first")
    title: Text = Field(None, description="heading; empty: “Défis” / “Challenges”")
    width: int = Field(560, ge=280, le=1824, description="width in pixels at 1080p")
    count: int = Field(5, ge=1, le=20, description="how many targets at most")
    show_reached: bool = Field(True, description="keep unlocked targets in the list")
    show_closed: bool = Field(False, description="list closed targets too")

    def css_vars(self) -> dict[str, str]:
        return {**super().css_vars(), "targets-width": f"{self.width}px"}

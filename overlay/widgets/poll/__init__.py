"""poll: a bid war's race, live bars per option, the leader highlighted, the winner once closed."""
from __future__ import annotations

from pydantic import Field

from overlay.widgets.base import Position, Text, WidgetSettings

ORDER = 26
DESCRIPTION = "A poll / bid war: each option's total as a bar, the leader and its lead, the winner when closed."


class Settings(WidgetSettings):
    position: Position = "top"
    poll: Text = Field(None, description="the poll's id; empty: the newest open poll (else the newest one)")
    width: int = Field(640, ge=280, le=1824, description="width in pixels at 1080p")
    show_amounts: bool = Field(True, description="show each option's total")

    def css_vars(self) -> dict[str, str]:
        return {**super().css_vars(), "poll-width": f"{self.width}px"}

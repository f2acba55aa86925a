"""team: the total of a team of channels (``teams:`` in config.yaml) and what each member raised."""
from __future__ import annotations

from pydantic import Field

from overlay.widgets.base import Position, Text, WidgetSettings

ORDER = 25
DESCRIPTION = "A team's total toward its goal, and each member channel's part. Hidden outside a team."


class Settings(WidgetSettings):
    position: Position = "bottom-left"
    team: Text = Field(None, pattern=r"^[a-z0-9-]{1,32}$",
                       description="team id; empty: the first team this channel belongs to")
    title: Text = Field(None, description="heading; empty: the team's name")
    width: int = Field(560, ge=320, le=1824, description="width in pixels at 1080p")
    show_percent: bool = True
    members: int = Field(5, ge=0, le=20, description="member channels listed, highest first; 0: none")

    def css_vars(self) -> dict[str, str]:
        return {**super().css_vars(), "team-width": f"{self.width}px"}

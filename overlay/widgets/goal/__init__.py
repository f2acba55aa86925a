"""goal: the campaign's progress toward its goal, donors and sponsor shown apart, with milestones."""
from __future__ import annotations

from pydantic import Field

from overlay.widgets.base import Position, Text, WidgetSettings

ORDER = 20
DESCRIPTION = "Progress bar toward the goal: raised and matched apart, percentage, milestones."


class Settings(WidgetSettings):
    position: Position = "top-left"
    title: Text = Field(None, description="heading; empty: the campaign title")
    width: int = Field(560, ge=320, le=1824, description="width in pixels at 1080p")
    show_percent: bool = True
    show_amounts: bool = True
    show_milestones: bool = True
    show_team: bool = Field(False, description="the team's total under the channel's (teams: in config.yaml)")
    team: Text = Field(None, pattern=r"^[a-z0-9-]{1,32}$",
                       description="which team, with show_team; empty: the channel's first team")

    def css_vars(self) -> dict[str, str]:
        return {**super().css_vars(), "goal-width": f"{self.width}px"}

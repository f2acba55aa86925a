"""timer: the subathon countdown that donations extend (docs/timer.md)."""
from __future__ import annotations

from pydantic import Field

from overlay.widgets.base import Position, Text, WidgetSettings

ORDER = 35
DESCRIPTION = "Subathon timer: the countdown that every donation extends, with the time it just added."


class Settings(WidgetSettings):
    position: Position = "left"
    title: Text = Field(None, description="heading; empty: “Subathon”")
    show_added: bool = Field(True, description="flash the time a donation just added")
    show_cap: bool = Field(False, description="how much of the cap donations have used")
    hide_when_stopped: bool = Field(True, description="hidden until a moderator starts the timer")

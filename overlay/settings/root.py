"""The whole of config.yaml, as models (overlay/config.py reads the file into them)."""
from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from overlay.settings.base import Strict
from overlay.settings.channel import ChannelSettings
from overlay.settings.server import ServerSettings, StorageSettings
from overlay.settings.teams import TeamSettings, check_teams


class Config(Strict):
    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    channels: list[ChannelSettings] = Field(..., min_length=1)
    teams: list[TeamSettings] = []

    @model_validator(mode="after")
    def _teams(self) -> "Config":
        problems = check_teams(self.teams, {c.id: c.currency for c in self.channels})
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def team(self, team_id: str) -> TeamSettings | None:
        return next((t for t in self.teams if t.id == team_id), None)

    @field_validator("channels")
    @classmethod
    def _unique_ids(cls, v: list[ChannelSettings]) -> list[ChannelSettings]:
        ids = [c.id for c in v]
        if len(set(ids)) != len(ids):
            raise ValueError("channel ids must be unique")
        return v

    def channel(self, channel_id: str) -> ChannelSettings | None:
        return next((c for c in self.channels if c.id == channel_id), None)

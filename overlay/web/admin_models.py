"""The admin API's models (docs/api.md §8): a channel as config.yaml describes one, without
its secrets, which the server makes and shows once."""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, create_model, field_validator
from pydantic.json_schema import SkipJsonSchema

from overlay.config import ChannelSettings, TeamSettings

SERVER_MADE = {"overlay_key": "the server makes it (rotate to change it)",
               "moderator_tokens": "the server makes it (rotate to change it)",
               "live": "live video is set in config.yaml only (docs/channels.md)"}


def channel_refusal(errors: list[Any]) -> tuple[str, str]:
    """(code, message) naming the field: ``invalid_<top-level key>``, ``unknown_field``."""
    first = sorted(errors, key=lambda e: e["type"] != "extra_forbidden")[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    where = ".".join(str(part)[:40] for part in first["loc"])
    if not where:  # a check across fields names its key in its message: "campaign.goal: ..."
        where, _, message = message.partition(": ") if ": " in message else ("body", "", message)
    if first["type"] == "extra_forbidden" and len(first["loc"]) == 1:
        return "unknown_field", f"unknown field: {where}"
    key = re.split(r"[.\[]", where)[0]
    return f"invalid_{key}", f"{where}: {message}"


def _refuse_server_made(value: Any, info: Any) -> Any:
    if value is not None:
        raise ValueError(SERVER_MADE[info.field_name])
    return value


class NewChannel(ChannelSettings):
    """POST /api/v1/admin/channels: a ``channels[]`` entry of config.yaml without its secrets."""
    overlay_key: SkipJsonSchema[None] = None  # type: ignore[assignment]
    moderator_tokens: SkipJsonSchema[None] = None  # type: ignore[assignment]
    live: SkipJsonSchema[None] = None

    _server_made = field_validator("overlay_key", "moderator_tokens", "live", mode="before")(_refuse_server_made)

    refusal = staticmethod(channel_refusal)

    @field_validator("moderator_tokens")  # replaces ChannelSettings' check of the tokens' length
    @classmethod
    def _tokens(cls, v: Any) -> Any:
        return v


_CHANGEABLE = {name: (SkipJsonSchema[None] | info.annotation, None)  # type: ignore[valid-type]
               for name, info in ChannelSettings.model_fields.items() if name not in {"id", *SERVER_MADE}}
ChannelChange = create_model("ChannelChange", __config__=ConfigDict(extra="forbid", frozen=True),
                             __doc__="PATCH: each key given replaces that key whole.",
                             **_CHANGEABLE)  # type: ignore[call-overload]


class Rotate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    overlay_key: StrictBool = False
    moderator_token: StrictBool = False
    stream_key: StrictBool = False


class ChannelsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: StrictStr = Field("", max_length=100, description="part of the id or the name, any case")
    limit: int = Field(50, ge=1, le=200)
    cursor: StrictStr | None = Field(None, max_length=32, description="next_cursor of the previous page")


class AdminChannel(BaseModel):
    """A channel as the admin API shows it: its settings, no moderator token, no webhook secret."""
    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    currency: str
    overlay_key: str
    disabled: bool
    source: str = Field(description='"config" (config.yaml: read-only here) or "api"')
    webhooks: list[str] = Field(description="the providers whose secrets are set")
    moderator_tokens: int = Field(description="how many moderator tokens the channel has")


class ChannelList(BaseModel):
    channels: list[AdminChannel]
    next_cursor: str | None


class Created(BaseModel):
    channel: AdminChannel
    overlay_key: str
    moderator_token: str = Field(description="shown only here: the store keeps its hash")


class Rotated(BaseModel):
    channel: AdminChannel
    overlay_key: str | None = None
    moderator_token: str | None = None


class NewTeam(TeamSettings):
    """POST /api/v1/admin/teams: a ``teams[]`` entry of config.yaml."""
    refusal = staticmethod(channel_refusal)


_TEAM_CHANGEABLE = {name: (SkipJsonSchema[None] | info.annotation, None)  # type: ignore[valid-type]
                    for name, info in TeamSettings.model_fields.items() if name != "id"}
TeamChange = create_model("TeamChange", __config__=ConfigDict(extra="forbid", frozen=True),
                          __doc__="PATCH: each key given replaces that key whole.",
                          **_TEAM_CHANGEABLE)  # type: ignore[call-overload]
TeamChange.refusal = staticmethod(channel_refusal)  # type: ignore[attr-defined]


class AdminTeam(BaseModel):
    """A team as the admin API shows it."""
    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    goal: str
    currency: str | None
    channels: list[str]
    source: str = Field(description='"config" (config.yaml: read-only here) or "api"')


class TeamList(BaseModel):
    teams: list[AdminTeam]

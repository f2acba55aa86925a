"""Request and response models of the §7 endpoints (incentives, rewards, teams, presets,
media) for the route table (overlay.web.routes) and the OpenAPI document.

Incentive and preset bodies are checked field by field by the domain (its error codes are
the documented ones: ``invalid_incentive``, ``invalid_settings``…), so their models only
require a JSON object and describe it; the handlers pass what the model validated.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, WithJsonSchema

from overlay.web.api_models import Body, Donation, Money


class Open(BaseModel):
    """An answer whose fields beyond the listed ones are described in docs/api.md."""
    model_config = ConfigDict(extra="allow")


class IncentiveBody(Open):
    """POST …/incentives, PATCH …/incentives/{iid}: id, kind (target, poll, reward), title,
    goal/options/min_amount/limit, active… (API.md §7); the domain checks each field."""


def _choice_part(description: str) -> Any:
    return Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1, "maxLength": 64},
                                                    {"type": "null"}], "description": description})]


class MoveBody(BaseModel):
    """POST …/donations/{id}/incentive: ``{"id": null}`` takes the donation out of any incentive.
    The domain checks the shape (``invalid_incentive``, ``unknown_incentive`` as for a new
    donation's ``incentive``), so the model takes any value and hands over what was sent."""
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False})
    id: _choice_part("an incentive id; null: none") = None
    option: _choice_part("a poll's option") = None


class RewardBody(Body):
    """POST …/donations/{id}/reward: whether the reward was given."""
    fulfilled: StrictBool


class Incentive(Open):
    id: str
    kind: str
    title: str


IncentiveList = RootModel[list[Incentive]]


class Reward(Open):
    donation: Donation
    fulfilled: bool


class RewardList(BaseModel):
    rewards: list[Reward]


class Removed(BaseModel):
    ok: bool
    id: str


class TeamMember(BaseModel):
    channel: str
    name: str
    raised: Money
    matched: Money
    total: Money
    count: int
    display: dict[str, str]


class Team(BaseModel):
    """A team's total across its channels (API.md §7)."""
    id: str
    name: str
    currency: str
    goal: Money
    raised: Money
    matched: Money
    total: Money
    count: int
    percent: float
    members: list[TeamMember]
    display: dict[str, str]


class SettingsBody(Open):
    """PUT …/presets/{name}: the widget's settings to save (keys of its Settings model)."""


class Preset(BaseModel):
    widget: str
    name: str
    settings: dict[str, Any]
    url: str


class PresetList(BaseModel):
    presets: list[Preset]


class MediaQuery(BaseModel):
    name: Annotated[str | None, Field(description="a name to show; the stored name adds a hash")] = None


class MediaFile(BaseModel):
    name: str
    kind: str
    type: str
    size: int
    url: str


class MediaList(BaseModel):
    media: list[MediaFile]


class CsvQuery(BaseModel):
    """?from=&to=: an ISO 8601 date (a whole UTC day) or date-time; ?status=approved,held…"""
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field("", alias="from", max_length=64)
    to: str = Field("", max_length=64)
    status: str = Field("", max_length=200)

"""Request and response models of the §7 endpoints (incentives, rewards, teams, presets,
media) for the route table (overlay.web.routes) and the OpenAPI document.

Incentive and preset bodies are checked field by field by the domain (its error codes are
the documented ones: ``invalid_incentive``, ``invalid_settings``…), so their models only
require a JSON object and describe it; the handlers pass what the model validated.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, StrictStr

from overlay.web.api_models import Body, Donation


class Open(BaseModel):
    """An answer whose fields beyond the listed ones are described in docs/api.md."""
    model_config = ConfigDict(extra="allow")


class IncentiveBody(Open):
    """POST …/incentives, PATCH …/incentives/{iid}: id, kind (target, poll, reward), title,
    goal/options/min_amount/limit, active… (API.md §7); the domain checks each field."""


class MoveBody(Body):
    """POST …/donations/{id}/incentive: ``{"id": null}`` takes the donation out of any incentive."""
    id: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None
    option: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None


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


class Team(Open):
    """A team's total across its channels (API.md §7)."""


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
    name: Annotated[str, Field(max_length=200, description="a name to show; the stored name adds a hash")] | None = None


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

"""Request and response models of incentives and rewards (API.md §7) for the route table
(overlay.web.routes) and the OpenAPI document.

An incentive's body is its kind's model (overlay.settings.incentives: the models
config.yaml's incentives go through), a union discriminated by ``kind``; an edit is one
kind's fields, each optional. The route validates with exactly these models; a refusal keeps
the code of §7, ``invalid_incentive``, through each model's ``refusal``. What needs the
channel's state (an edit merged into the stored definition, an option holding donations)
is checked by the domain.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, StrictStr, WithJsonSchema, create_model

from overlay.settings.incentives import IncentiveSettings, PollIncentive, RewardIncentive, TargetIncentive, \
    problem
from overlay.web.api_models import Body, Donation, Money


class IncentiveBody(RootModel[IncentiveSettings]):
    """POST …/incentives: a definition shaped like a config.yaml entry, by its ``kind``."""

    @classmethod
    def refusal(cls, errors: list[Any]) -> tuple[str, str]:
        return "invalid_incentive", problem(errors[0])


def _no_defaults(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)  # a field left out is left unchanged


class _Edit(Body):
    model_config = ConfigDict(json_schema_extra=_no_defaults)


def _edit(model: type[BaseModel]) -> type[BaseModel]:
    """``model`` for PATCH: each field optional and changed only when sent, checked as ``model``
    checks it; ``kind`` cannot change (``id`` may repeat the path's)."""
    fields: dict[str, Any] = {
        name: (Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation,
               Field(None, description=f.description, json_schema_extra=f.json_schema_extra))
        for name, f in model.model_fields.items() if name != "kind"}
    edit = create_model(model.__name__.replace("Incentive", "Edit"), __base__=_Edit, **fields)
    edit.__doc__ = f"The fields of a {model.__name__.removesuffix('Incentive').lower()} to change."
    return edit


TargetEdit, PollEdit, RewardEdit = (_edit(m) for m in (TargetIncentive, PollIncentive, RewardIncentive))


class IncentiveEdit(RootModel[TargetEdit | PollEdit | RewardEdit]):  # type: ignore[valid-type]
    """PATCH …/incentives/{iid}: some fields of the incentive's kind; merged into its definition,
    which is then checked whole (a field of another kind is ``422 invalid_incentive``)."""

    @classmethod
    def refusal(cls, errors: list[Any]) -> tuple[str, str]:
        if any(e["loc"][-1:] == ("kind",) and e["type"] == "extra_forbidden" for e in errors):
            return "invalid_incentive", "an incentive's id and kind cannot change"
        first = errors[0]  # every member refused it; the first member's first problem
        return "invalid_incentive", problem({**first, "loc": tuple(first["loc"])[1:]})


def _choice_part(description: str) -> Any:
    return Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1, "maxLength": 64},
                                                    {"type": "null"}], "description": description})]


class MoveBody(BaseModel):
    """POST …/donations/{id}/incentive: ``{"id": null}`` takes the donation out of any incentive.
    The domain checks the shape (``invalid_incentive``, ``unknown_incentive`` as for a new
    donation's ``incentive``), so the model takes any value and hands over what was sent."""
    model_config = ConfigDict(extra="allow", json_schema_extra={
        "additionalProperties": False, "required": ["id"],
        # An option goes with an incentive's id only: {"id": null, "option": "a"} is refused.
        "anyOf": [{"properties": {"id": {"type": "string"}}},
                  {"properties": {"id": {"type": "null"}, "option": {"type": "null"}}}]})
    id: _choice_part("an incentive id; null: none") = None
    option: _choice_part("a poll's option") = None


class MergeBody(Body):
    """POST …/suggestions/{id}/merge: the option the suggestion's money moves to."""
    option: Annotated[StrictStr, Field(min_length=1, max_length=64)]


class Suggestion(BaseModel):
    """A donor's suggestion waiting for a moderator (moderators only)."""
    donation_id: str
    text: str
    amount: Money
    display: str


class SuggestionList(BaseModel):
    suggestions: list[Suggestion]


class Decided(BaseModel):
    """A suggestion decided: the donation as moderators see it, and the poll as it is now."""
    donation: Donation
    incentive: PollShown


class RewardBody(Body):
    """POST …/donations/{id}/reward: whether the reward was given."""
    fulfilled: StrictBool


# --- answers -----------------------------------------------------------------------------------

class Shown(BaseModel):
    """What every kind shows (overlay.domain.incentives.public)."""
    id: str
    title: str
    open: bool
    total: Money
    count: int
    ends_at: datetime | None
    display: dict[str, str]


class TargetShown(Shown):
    kind: Literal["target"]
    amount: Money
    reached: bool
    reached_at: datetime | None
    percent: float


class OptionShown(BaseModel):
    id: str
    label: str
    total: Money
    count: int
    share: float
    display: str


class PollShown(Shown):
    kind: Literal["poll"]
    options: list[OptionShown]
    leader: str | None
    margin: Money
    winner: str | None
    display_margin: str
    unallocated: Money = Field(description="money in the poll on no option: suggestions waiting or rejected")
    display_unallocated: str = ""
    allow_suggestions: bool = False


class RewardShown(Shown):
    kind: Literal["reward"]
    min_amount: Money
    quantity: int | None
    claimed: int
    remaining: int | None


IncentiveShown = Annotated[TargetShown | PollShown | RewardShown, Field(discriminator="kind")]


class Incentive(RootModel[IncentiveShown]):
    """An incentive with its progress, by its kind."""


class IncentiveList(RootModel[list[IncentiveShown]]):
    """The channel's incentives with their progress."""


class RewardOf(BaseModel):
    id: str
    title: str


class Reward(BaseModel):
    """A reward claimed by a donation."""
    incentive: RewardOf
    donation: Donation
    fulfilled: bool


class RewardList(BaseModel):
    rewards: list[Reward]


class Removed(BaseModel):
    ok: bool
    id: str

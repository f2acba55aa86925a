"""Request and response models of the §7 endpoints (teams, presets, media, export) for the
route table (overlay.web.routes) and the OpenAPI document; incentives and rewards have theirs
in overlay.web.incentive_models.

A preset's body is its widget's Settings model, so the route validates it exactly as a page
validates its URL's settings; its refusals keep the code of §7 (``invalid_settings``)
through the model's ``refusal``.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from overlay.web.api_models import Match, Money
from overlay.widgets import Widget, settings_error
from overlay.widgets.base import as_sent

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
    leaderboard: list[TeamMember] = Field(description="the top members by raised, highest first")
    display: dict[str, str]
    match: Match = Field(description="the team's match, one cap shared by every member (docs/teams.md)")


def preset_body(widget: Widget) -> type[BaseModel]:
    """PUT …/widgets/<widget>/presets/{name}: the widget's Settings model itself (a preset is
    checked like the URL's settings), named for the document, which lists every form a setting
    is accepted in (``overlay.widgets.base.as_sent``); refusals are ``invalid_settings``."""
    def refusal(cls: type, errors: list[Any]) -> tuple[str, str]:
        return "invalid_settings", str(settings_error(widget.name, errors))[:500]
    name = "".join(part.title() for part in widget.name.split("_")) + "WidgetSettings"
    return type(name, (widget.settings,), {
        "__module__": __name__, "__doc__": f"The {widget.name} widget's settings to save: only those given are stored.",
        "model_config": ConfigDict(json_schema_extra=as_sent), "refusal": classmethod(refusal)})


def preset_answer(widget: Widget, body: type[BaseModel]) -> type[BaseModel]:
    """A saved preset of ``widget``: its settings as stored (normalised, only those given)."""
    name = body.__name__.removesuffix("WidgetSettings") + "Preset"
    return create_model(name, __doc__=f"A preset of the {widget.name} widget.",  # type: ignore[call-overload]
                        widget=(str, ...), name=(str, ...), settings=(body, ...), url=(str, ...))


class Preset(BaseModel):
    """A preset of any widget (GET): its settings are those of the widget's own
    ``<Widget>WidgetSettings`` schema, as stored (normalised, only those given)."""
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


# What the document shows of them (overlay.web.export reads them): a part of what is taken
# (days 29 to 31 are left out, and the years before 1970 or after 9998), all of it valid.
_DAY = r"(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
_TIME = r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?"
MOMENT_PATTERN = rf"^\s*({_DAY}({_TIME})?)?\s*$"
_STATUS = "(approved|held|rejected|pending|refunded)"
STATUSES_PATTERN = rf"^[\s,]*({_STATUS}(\s*,[\s,]*{_STATUS})*)?[\s,]*$"


class CsvQuery(BaseModel):
    """?from=&to=: an ISO 8601 date (a whole UTC day) or date-time; ?status=approved,held…"""
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field("", alias="from", max_length=64, json_schema_extra={"pattern": MOMENT_PATTERN})
    to: str = Field("", max_length=64, json_schema_extra={"pattern": MOMENT_PATTERN,
                                                          "description": "after from, when both are given"})
    status: str = Field("", max_length=200, json_schema_extra={"pattern": STATUSES_PATTERN})
    test: Literal["", "true", "false"] = Field("", description="true: test donations only; false: real ones only")
    dialect: Literal["rfc4180", "excel-fr"] = Field(
        "rfc4180", description="excel-fr: ';'-separated, decimal commas, UTF-8 byte-order mark")

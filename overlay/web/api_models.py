"""The API's request models (they validate what handlers receive) and the response models
the OpenAPI document describes answers with (API.md §3-§5).

Request bodies arrive through overlay.http.strictjson: a JSON number with a fraction is a
Decimal (an ExponentNumber when written with an exponent), never a float. Amount fields
keep that value untouched, because the currency decides how many decimals are allowed:
the domain (``money.parse_amount``) reads it, the model only refuses other JSON types.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr, \
    WithJsonSchema, field_validator

from overlay.domain import money, wire
from overlay.widgets import WIDGETS

AMOUNT_PATTERN = r"^[0-9]+(\.[0-9]+)?$"         # the amount grammar of API.md §3
MONEY_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"        # amounts we write (a refund may leave a total below zero)
MULTIPLIER_PATTERN = r"^0*([1-9][0-9]?(\.[0-9]+)?|100(\.0+)?)$"   # 1 to 100
CURRENCY_PATTERN = r"^([A-Za-z]{3})?$"      # the document lists this server's currencies instead
MAX_SEQ = 2**53


def _json_amount(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError('must be a decimal string such as "12.50"')
    return value


AmountIn = Annotated[Any, AfterValidator(_json_amount), WithJsonSchema({
    "description": "A decimal string of the amount grammar (an integer JSON number is read alike; a "
                   "fraction without an exponent too, but write it as a string): above 0, at most "
                   "1,000,000,000, at most as many decimals as the currency has (the document's pattern "
                   "allows the most any currency of this server has).",
    "anyOf": [{"type": "string", "pattern": money.POSITIVE_AMOUNT_PATTERN, "maxLength": money.MAX_LITERAL_LENGTH},
              {"type": "integer", "minimum": 1, "maximum": money.MAX_MAJOR_UNITS}]})]
Money = Annotated[str, Field(pattern=MONEY_PATTERN, description="decimal string in the channel's currency")]


def _multiplier(value: Any) -> Decimal:
    try:
        number = Decimal(value) if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not 1 <= number <= 100:
        raise ValueError("must be a number from 1 to 100")
    return number


# A date-time we can write back: from 1970 to the last day of year 9999 (UTC). An offset can
# push "0001-01-01T00:00+01:00" before year 1, which no datetime can show: that was a 500.
LAST_MS = 253402214400000


def _iso_ms(value: Any) -> int | None:
    if value is None:
        return None
    try:
        ms = wire.to_ms(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except (ValueError, OverflowError, OSError):
        raise ValueError("must be an ISO 8601 date-time") from None
    if not 0 <= ms < LAST_MS:
        raise ValueError("must be between 1970 and 9999")
    return ms


Multiplier = Annotated[Any, AfterValidator(_multiplier), WithJsonSchema({
    "description": "1 to 100 (2 doubles each donation)",
    "anyOf": [{"type": "string", "pattern": MULTIPLIER_PATTERN},
              {"type": "number", "minimum": 1, "maximum": 100}]})]
# Years 1971 to 9998 in the document: any offset keeps those between 1970 and 9999 in UTC.
DateTimeIn = Annotated[Any, AfterValidator(_iso_ms), WithJsonSchema({"anyOf": [
    {"type": "string", "format": "date-time",
     "pattern": r"^(197[1-9]|19[89][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"},
    {"type": "null"}]})]


class Body(BaseModel):
    """A request body: any other field is ``422 unknown_field``; FIELD_HINTS names the
    right field in that error's message for a likely wrong one."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    FIELD_HINTS: ClassVar[dict[str, str]] = {}


class IncentiveChoice(Body):
    """The incentive a donation goes to: a target or reward by id, a poll with its option."""
    id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    option: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None
    suggestion: Annotated[StrictStr, Field(min_length=1, max_length=100)] | None = Field(
        None, description="a new option for a poll that takes suggestions (instead of option); a moderator "
                          "accepts, merges or rejects it")


class DonationBody(Body):
    """POST …/donations: a donation recorded by a moderator or an integration."""
    # First guesses at field names, answered with the real one (not aliased: one spelling on
    # the wire, and a typo never silently drops the donor's name).
    FIELD_HINTS = {"name": "donor_name", "donor": "donor_name", "donorName": "donor_name",
                   "username": "donor_name", "comment": "message", "note": "message"}
    amount: AmountIn
    currency: Annotated[StrictStr | None, WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": CURRENCY_PATTERN}, {"type": "null"}]})] = Field(
        None, description="ISO 4217, any case: the channel's, or one its fx converts from; "
                          "null or empty: the channel's")
    donor_name: Annotated[StrictStr, Field(max_length=200)] | None = Field(None, description="null: anonymous")
    message: Annotated[StrictStr, Field(max_length=2000)] | None = None
    external_id: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = Field(
        None, description="with source, the idempotency key")
    source: StrictStr = Field("api", pattern=r"^[a-z0-9_-]{1,32}$")
    test: StrictBool = Field(False, description="plays alerts, never counts")
    simulate_match: StrictBool = Field(
        False, description="with test: true, the alert shows the match the current match would add; "
                           "its cap and the totals are not touched")
    incentive: IncentiveChoice | None = Field(None, description="at most one incentive (API.md §7)")
    display_name: Literal["full", "first", "alias", "anonymous"] = Field(
        "full", description="which name overlays show: the full name, its first word, the alias, or none")
    alias: Annotated[StrictStr, Field(max_length=64)] | None = Field(
        None, description="the name shown with display_name \"alias\" (moderated as a name)")
    show_amount: StrictBool = Field(True, description="false: overlays and the public API show no amount")


class MatchBody(Body):
    """PUT …/match: start or change the match."""
    sponsor: Annotated[StrictStr, Field(max_length=100, pattern=r"\S")]
    multiplier: Multiplier = Decimal(2)
    cap: AmountIn
    starts_at: DateTimeIn = None
    ends_at: DateTimeIn = None


class ReloadBody(Body):
    """POST …/overlays/reload: which pages reload themselves."""
    widget: Annotated[StrictStr, Field(json_schema_extra={"enum": list(WIDGETS)},
                                       description="only this widget's pages (and scenes showing it)")] | None = None

    @field_validator("widget")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in WIDGETS:
            raise ValueError(f"unknown widget; one of {', '.join(WIDGETS)}")
        return value


class CampaignBody(Body):
    """PATCH …/campaign."""
    title: Annotated[StrictStr, Field(max_length=200)] | None = None
    goal: AmountIn | None = None
    milestones: list[AmountIn] | None = Field(None, max_length=20, description="amounts; [] removes them all")


def _query_int(value: Any) -> Any:
    # Query values are text: "" means "not given"; anything but ASCII digits is refused
    # (int() would take " 5", "+5", "5_0" and other digits).
    if value == "":
        return None
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be an integer")
    return value


QueryInt = Annotated[int | None, BeforeValidator(_query_int)]


class DonationsQuery(BaseModel):
    """GET …/donations."""
    after_seq: QueryInt = Field(None, ge=0, le=MAX_SEQ, description="events after this seq, oldest first")
    limit: QueryInt = Field(50, ge=1, le=500)


# --- answers -----------------------------------------------------------------------------------

class ErrorDetail(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    message: str


class Error(BaseModel):
    """Every 4xx/5xx of the API."""
    error: ErrorDetail


Status = Literal["approved", "held", "rejected", "pending", "refunded"]


class Donation(BaseModel):
    """A donation (API.md §3). Moderators also see original_message, flagged and the donor's display
    choice; the public sees the name as chosen, and no amount (nulls) when show_amount is false."""
    id: str
    seq: int
    channel: str
    amount: Money | None
    currency: str
    original_amount: Money | None
    original_currency: str | None
    matched: Money | None
    donor_name: str | None
    message: str | None
    source: str
    external_id: str | None
    test: bool
    status: Status
    created_at: datetime
    display: dict[str, str | None]
    original_message: str | None = None
    flagged: bool | None = None
    show_amount: bool = True
    display_name: Literal["full", "first", "alias", "anonymous"] | None = Field(None, description="moderators only")
    alias: str | None = Field(None, description="moderators only")
    public_name: str | None = Field(None, description="moderators only: the name overlays show")


class DonationList(BaseModel):
    donations: list[Donation]


class Campaign(BaseModel):
    title: str
    goal: Money
    raised: Money
    matched: Money
    total: Money
    percent: float
    count: int
    currency: str
    milestones: list[str]
    display: dict[str, str | list[str]]   # "milestones": the milestones formatted


class Match(BaseModel):
    active: bool
    sponsor: str | None
    multiplier: Annotated[str, Field(pattern=AMOUNT_PATTERN)] | None
    cap: Money | None
    used: Money | None
    remaining: Money | None
    starts_at: datetime | None
    ends_at: datetime | None
    display: dict[str, str] | None
    team: str | None = Field(None, description="set when this is a team's match (docs/teams.md)")


class LeaderboardEntry(BaseModel):
    donor_name: str | None
    total: Money
    display: str


class State(BaseModel):
    """The snapshot of API.md §5, current to its seq; moderators also get the newest donations."""
    seq: int
    server_time: datetime
    campaign: Campaign
    match: Match
    recent: list[Donation]
    leaderboard: list[LeaderboardEntry]
    alerts: dict[str, Any]
    settings: dict[str, Any]
    donations: list[Donation] | None = None


class Reloaded(BaseModel):
    ok: Literal[True]
    seq: int = Field(description="the seq of the reload event")
    widget: str | None


class Done(BaseModel):
    ok: Literal[True]
    action: str

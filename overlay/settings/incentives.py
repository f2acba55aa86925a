"""An incentive's definition (API.md §7), one model per kind: what config.yaml's
``channels[].incentives`` holds and what ``POST …/incentives`` takes, validated by the same
models (the route table documents them as a union discriminated by ``kind``).

Values are checked as JSON sends them and as YAML reads them: an amount is a decimal string
or a number, ``open`` a boolean, ``quantity`` an integer, ``ends_at`` an ISO 8601 date-time
(YAML's own timestamps too). Rules that need the channel (its currency's decimals, an
option that holds donations) are checked where the channel is known.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, \
    StrictStr, TypeAdapter, WithJsonSchema

from overlay.settings import amounts as money

KINDS = ("target", "poll", "reward")
ID_PATTERN = r"^[a-z0-9_-]{1,32}$"
MAX_OPTIONS = 20
AMOUNT_SCHEMA = {
    "description": "A decimal string such as \"500.00\" (a JSON number is read alike, but write it as a "
                   "string); above 0, with at most as many decimals as the channel's currency has, at most "
                   "1,000,000,000.",
    "anyOf": [{"type": "string", "pattern": money.POSITIVE_AMOUNT_PATTERN, "maxLength": money.MAX_LITERAL_LENGTH},
              {"type": "integer", "minimum": 1, "maximum": money.MAX_MAJOR_UNITS}]}


def _amount(value: Any) -> Any:
    # A quoted amount follows the one grammar ("1e3", " 5", "5." are refused); a JSON number
    # arrives as int or Decimal, a YAML one as Decimal. true is not an amount.
    if isinstance(value, str):
        return money.check_literal(value)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError('must be a decimal string such as "12.50"')
    return value


def _whole(value: Any) -> Any:
    # JSON Schema's integer is any whole number: 5.0 and 5e0 are 5 (strictjson reads them as Decimal).
    whole = isinstance(value, Decimal) and value.is_finite() and value.adjusted() < 18
    if whole and value == value.to_integral_value():
        return int(value)
    return value


# An integer as JSON Schema means it: any whole number (5.0 too), never true, 5.5 or "5". Written
# after the bounds (Annotated[StrictInt, Field(ge=…), WHOLE]): before them, pydantic's JSON Schema
# says "ge" where it means "minimum".
WHOLE = BeforeValidator(_whole)


def _date_time(value: Any) -> Any:
    # A number is not a date-time here (pydantic would read it as Unix time), nor is a string of one.
    if value is None or isinstance(value, (datetime, date)):
        return value
    if not isinstance(value, str) or not re.match(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be an ISO 8601 date-time such as 2026-12-01T20:00:00Z")
    return value


def _writable(value: datetime | None) -> datetime | None:
    # "0001-01-01T00:00+01:00" is a valid date-time before year 1 in UTC: it could never be written back.
    if value is not None:
        try:
            (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
        except OverflowError:
            raise ValueError("must be between the years 1 and 9999 in UTC") from None
    return value


def _options(options: list[IncentiveOption]) -> list[IncentiveOption]:
    if len(options) < 2:
        raise ValueError("a poll needs at least two options")
    if len({o.id for o in options}) != len(options):
        raise ValueError("option ids must be unique")
    return options


Amount = Annotated[Decimal, BeforeValidator(_amount), Field(gt=0), WithJsonSchema(AMOUNT_SCHEMA)]
EndsAt = Annotated[datetime | None, BeforeValidator(_date_time), AfterValidator(_writable), WithJsonSchema({
    "description": "past it, the incentive is closed; null: never", "anyOf": [
        # Years 2 to 9998: any offset keeps those between the years 1 and 9999 in UTC.
        {"type": "string", "format": "date-time", "pattern": r"^([0-9]{3}[2-9]|[0-9]{2}[1-9][0-9]|0[1-9][0-9]{2}"
                                                             r"|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"},
        {"type": "null"}]})]
Id = Annotated[StrictStr, Field(pattern=ID_PATTERN)]
TiltifyId = Annotated[StrictStr, Field(max_length=64)] | None
PlatformId = TiltifyId  # a platform's own id for an incentive: Tiltify's, DonorDrive's incentiveID


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IncentiveOption(Strict):
    """A poll's option."""
    id: Id
    label: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    tiltify_id: TiltifyId = Field(None, description="the poll option's id at Tiltify")
    donordrive_id: PlatformId = Field(None, description="the incentiveID of a DonorDrive incentive that votes for it")


class IncentiveBase(Strict):
    """What every kind has."""
    id: Id = Field(description="unique per channel")
    kind: Literal["target", "poll", "reward"]
    title: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    open: StrictBool = Field(True, description="false: closed (new donations cannot choose it)")
    ends_at: EndsAt = None
    tiltify_id: TiltifyId = Field(None, description="its id at Tiltify")
    donordrive_id: PlatformId = Field(None, description="its incentiveID at DonorDrive")


class TargetIncentive(IncentiveBase):
    """A target: "at 500 I dye my hair"; reached once its total gets to ``amount``."""
    kind: Literal["target"]
    amount: Amount


class PollIncentive(IncentiveBase):
    """A poll (bid war): each donation backs one option."""
    kind: Literal["poll"]
    options: Annotated[list[IncentiveOption], AfterValidator(_options)] = Field(
        max_length=MAX_OPTIONS, json_schema_extra={"minItems": 2}, description="2 to 20, ids unique")
    allow_suggestions: StrictBool = Field(False, description="donors may suggest an option, which waits for "
                                          "a moderator to accept, merge or reject it")
    suggestion_min_amount: Amount | None = Field(None, description="the least a suggesting donation gives; "
                                                 "null: any amount")


class RewardIncentive(IncentiveBase):
    """A reward a donation of at least ``min_amount`` claims, ``quantity`` times at most."""
    kind: Literal["reward"]
    min_amount: Amount
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000), WHOLE] | None = Field(None, description="null: no limit")


IncentiveSettings = Annotated[TargetIncentive | PollIncentive | RewardIncentive, Field(discriminator="kind")]
INCENTIVE: TypeAdapter[TargetIncentive | PollIncentive | RewardIncentive] = TypeAdapter(IncentiveSettings)


def untagged(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """An error's location without the kind the union adds to it (``("target", "amount")`` ->
    ``("amount",)``), wherever the union sits (``incentives[0].target.amount``)."""
    for i, part in enumerate(loc):
        if part in KINDS and (i == 0 or (i >= 2 and loc[i - 2] == "incentives" and isinstance(loc[i - 1], int))):
            return loc[:i] + loc[i + 1:]
    return loc


def tag_message(err: Any) -> str | None:
    """What is wrong with ``kind`` when it is missing or unknown (the error is the union's, at
    the incentive itself); None for any other error."""
    if err["type"] == "union_tag_not_found":
        return "is required (target, poll or reward)"
    if err["type"] == "union_tag_invalid":
        return "must be target, poll or reward"
    return None


def problem(err: Any) -> str:
    """One validation error of an incentive's definition, as ``invalid_incentive`` says it:
    ``amount: is required``, ``options[0].id: String should match pattern…``."""
    loc = untagged(tuple(err["loc"])) + (("kind",) if tag_message(err) else ())
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "incentive"
    if err["type"] == "extra_forbidden":
        what = "unknown field"
    elif err["type"] == "missing":
        what = "is required"
    else:
        what = tag_message(err) or str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {what}"[:300]

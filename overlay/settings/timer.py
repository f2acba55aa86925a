"""A channel's subathon timer settings (``channels[].timer`` in config.yaml, docs/timer.md).

How much time a donation adds is a list of rules, the first one a donation matches wins:
``{min_amount?, incentive?, seconds?, seconds_per_unit?}`` adds ``seconds`` plus
``seconds_per_unit`` for each whole unit of the channel's currency. A rule that an earlier
one always matches first, or that adds nothing, is refused here: it could never do anything.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from overlay.settings.base import Strict
from overlay.settings import amounts as money

MAX_SECONDS = 30 * 24 * 3600  # one "add" or rule: at most 30 days


def _decimal(value: Any) -> Any:
    return money.check_literal(value) if isinstance(value, str) else value


Dec = Annotated[Decimal, BeforeValidator(_decimal)]


_Strict = Strict  # frozen, extra keys refused, shared defaults not copied (overlay.settings.base)


class TimerRule(_Strict):
    min_amount: Dec = Field(Decimal(0), ge=0, description="the donation reaches this amount")
    incentive: str | None = Field(None, pattern=r"^[a-z0-9_-]{1,32}$", description="only gifts to this incentive")
    seconds: int = Field(0, ge=0, le=MAX_SECONDS, description="flat seconds added")
    seconds_per_unit: Dec = Field(Decimal(0), ge=0, le=MAX_SECONDS,
                                  description="seconds added per whole unit of the channel's currency")

    @model_validator(mode="after")
    def _adds_time(self) -> "TimerRule":
        if self.seconds == 0 and self.seconds_per_unit == 0:
            raise ValueError("adds no time: give seconds or seconds_per_unit")
        return self

    def covers(self, other: "TimerRule") -> bool:
        """Every donation ``other`` matches, this rule matches too."""
        return self.min_amount <= other.min_amount and self.incentive in (None, other.incentive)


class HappyHour(_Strict):
    starts_at: datetime
    ends_at: datetime
    multiplier: Dec = Field(..., gt=0, le=10, description="time a donation adds is multiplied by this")

    @model_validator(mode="after")
    def _ordered(self) -> "HappyHour":
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need a time zone (…Z or …+01:00)")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class TimerSettings(_Strict):
    initial_s: int = Field(3600, ge=1, le=MAX_SECONDS, description="the countdown's length when started")
    cap_s: int | None = Field(None, ge=0, description="at most this much time added by donations; null: no cap")
    min_amount: Dec = Field(Decimal("1.00"), ge=0, description="smaller donations add no time")
    rules: list[TimerRule] = Field(default_factory=lambda: [TimerRule(seconds_per_unit=Decimal(60))], max_length=20)
    happy_hours: list[HappyHour] = Field([], max_length=50)
    count_tests: bool = Field(False, description="test donations add time too")

    @field_validator("rules")
    @classmethod
    def _reachable(cls, rules: list[TimerRule]) -> list[TimerRule]:
        for j, later in enumerate(rules):
            for i, earlier in enumerate(rules[:j]):
                if earlier.covers(later):
                    raise ValueError(f"rules[{j}] can never match: rules[{i}] matches every donation it would")
        return rules

    @field_validator("happy_hours")
    @classmethod
    def _apart(cls, hours: list[HappyHour]) -> list[HappyHour]:
        ordered = sorted(enumerate(hours), key=lambda ih: ih[1].starts_at)
        for (i, a), (j, b) in zip(ordered, ordered[1:]):
            if b.starts_at < a.ends_at:
                raise ValueError(f"happy_hours[{j}] overlaps happy_hours[{i}]")
        return hours

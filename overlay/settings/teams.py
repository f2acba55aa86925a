"""Teams: channels raising toward one total (the ``teams:`` section, docs/teams.md)."""
from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator

from overlay.settings import amounts as money
from overlay.settings.base import DecimalStr, Strict
from overlay.settings.channel import MatchSettings


class TeamSettings(Strict):
    """Channels raising toward one total: the sum of their campaign totals (docs/teams.md)."""
    id: str = Field(..., pattern=r"^[a-z0-9-]{1,32}$")
    name: str = Field(..., min_length=1, max_length=100)
    goal: DecimalStr = Field(Decimal("1000"), gt=0)
    currency: str | None = None  # None: the members' currency
    channels: list[str] = Field(..., min_length=1, max_length=10_000)
    match: MatchSettings | None = None  # a sponsor's match shared by every member (docs/teams.md)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        return None if v is None else money.check_currency(v)


def check_teams(teams: list[TeamSettings], currencies: dict[str, str]) -> list[str]:
    """Config problems, one line each naming its key. Members share the team's currency:
    a team total in mixed currencies would need rates nobody agreed on."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, team in enumerate(teams):
        key = f"teams[{i}]"
        if team.id in seen:
            problems.append(f"{key}.id: team ids must be unique")
        seen.add(team.id)
        if len(set(team.channels)) != len(team.channels):
            problems.append(f"{key}.channels: a channel is listed twice")
        known = [c for c in team.channels if c in currencies]
        for j, channel in enumerate(team.channels):
            if channel not in currencies:
                problems.append(f"{key}.channels[{j}]: no channel has the id {channel[:40]!r}")
        currency = team.currency or (currencies[known[0]] if known else None)
        for j, channel in enumerate(team.channels):
            if channel in currencies and currencies[channel] != currency:
                problems.append(f"{key}.channels[{j}]: channel {channel} counts in {currencies[channel]}, "
                                f"the team in {currency}; members must share the team's currency")
        if currency is not None:
            try:
                money.parse_amount(team.goal, currency)
            except money.MoneyError as exc:
                problems.append(f"{key}.goal: {exc}")
            m = team.match
            if m is not None and m.starts_at is not None and m.ends_at is not None and m.ends_at <= m.starts_at:
                problems.append(f"{key}.match.ends_at: ends_at must be after starts_at")
            if m is not None:
                try:
                    money.parse_amount(team.match.cap, currency)
                except money.MoneyError as exc:
                    problems.append(f"{key}.match.cap: {exc}")
    return problems

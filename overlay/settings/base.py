"""What every settings model shares: strict, frozen models; amounts as Decimal; CIDR blocks."""
from __future__ import annotations

import ipaddress
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from overlay.settings import amounts as money


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> "Strict":
        # Frozen, so a copy is the same value: pydantic deep-copies a model default (``tts:
        # TtsSettings = TtsSettings()``) for every instance, which was a third of validating a channel.
        return self


def _decimal_literal(value: Any) -> Any:
    # A quoted number goes through the amount grammar of overlay.settings.amounts ("1e3", "1_000", " 5" are refused);
    # YAML numbers arrive as int or, with _DecimalLoader, as Decimal.
    return money.check_literal(value) if isinstance(value, str) else value


# Amounts, rates and multipliers in config: decimal strings or YAML numbers, read as Decimal.
DecimalStr = Annotated[Decimal, BeforeValidator(_decimal_literal)]


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(f"not an IP address or CIDR block: {value[:60]!r}") from None


Cidr = Annotated[str, AfterValidator(_cidr)]

"""The one strict JSON reader of request bodies (API and webhooks).

No NaN/Infinity; numbers with a fraction or exponent become Decimal (``money.json_number``),
never float; and no lone surrogate ("\\ud800" is valid JSON syntax but not text: SQLite,
UTF-8 logs and browsers cannot take it), in keys or values.
"""
from __future__ import annotations

import json
from typing import Any

from overlay.domain import money


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _check_text(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # UnicodeEncodeError (a ValueError) on a lone surrogate
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def loads(text: str | bytes) -> Any:
    """Parsed JSON, or ValueError (RecursionError for absurd nesting)."""
    value = json.loads(text, parse_float=money.json_number, parse_constant=_reject_constant)
    _check_text(value)
    return value


class NotAnObject(ValueError):
    """Valid JSON, but not an object on top."""


def load_object(text: str | bytes) -> dict[str, Any]:
    """A JSON object, read by ``loads``: what a request body must be (API and webhooks).
    Any failure is a ValueError; NotAnObject when it is JSON but not an object."""
    try:
        value = loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(value, dict):
        raise NotAnObject("not a JSON object")
    return value

"""Checks that need more than the settings know: a Redis URL's forms, the widgets' own Settings
models, alert variations' conditions. Settings are a leaf, so they do not import those
modules; overlay/config.py passes them in as pydantic's validation context
(``Config.model_validate(data, context=config.CHECKS)``), and each check runs where it
always did, so its error keeps its key. A model validated without that context skips them.
"""
from __future__ import annotations

from typing import Any, Callable

from pydantic import ValidationInfo

REDIS_URL = "redis_url"   # (url) -> url, ValueError when unusable
WIDGETS = "widgets"       # (channels[].widgets) -> the normalised values
VARIATIONS = "variations"  # (alerts.variations, currency, incentive ids) -> None, ValueError naming the field


def _given(info: ValidationInfo, name: str) -> Callable[..., Any] | None:
    return (info.context or {}).get(name) if isinstance(info.context, dict) else None


def check_redis_url(url: str, info: ValidationInfo) -> str:
    check = _given(info, REDIS_URL)
    return check(url) if check else url


def check_widgets(values: dict[str, dict[str, Any]], info: ValidationInfo) -> dict[str, dict[str, Any]]:
    check = _given(info, WIDGETS)
    return check(values) if check else values


def check_variations(info: ValidationInfo, variations: list[dict[str, Any]], currency: str,
                     incentive_ids: set[str]) -> None:
    check = _given(info, VARIATIONS)
    if check:
        check(variations, currency, incentive_ids)

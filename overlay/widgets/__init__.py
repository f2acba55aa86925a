"""The widget registry: every package under ``overlay/widgets/`` is a widget.

A widget is a folder: ``__init__.py`` (a pydantic ``Settings`` model, every field with a
default, and optionally ``ORDER`` and ``DESCRIPTION``), ``widget.html``, ``widget.js`` and
``widget.css``. Adding one means adding a folder: nothing here lists them.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from overlay.widgets.base import WidgetSettings


@dataclass(frozen=True)
class Widget:
    name: str
    settings: type[WidgetSettings]
    order: int
    description: str


@dataclass(frozen=True)
class Problem:
    setting: str
    message: str
    value: Any


class SettingsError(ValueError):
    """Settings a streamer must correct; each problem names its setting."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{p.setting}: {p.message}" for p in problems))
        self.problems = problems


def _discover() -> dict[str, Widget]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        settings = getattr(module, "Settings", None)
        if not (isinstance(settings, type) and issubclass(settings, WidgetSettings)):
            raise TypeError(f"widget {info.name}: its __init__.py must define Settings(WidgetSettings)")
        found.append(Widget(info.name, settings, getattr(module, "ORDER", 100), getattr(module, "DESCRIPTION", "")))
    return {w.name: w for w in sorted(found, key=lambda w: (w.order, w.name))}


REGISTRY: dict[str, Widget] = _discover()
WIDGETS: tuple[str, ...] = tuple(REGISTRY)

# channels[].widgets as one model, so that a mistake is reported at its full key:
# channels[0].widgets.goal.bar_color, and an unknown widget name as an unknown key.
_ConfigModel: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "WidgetsConfig", __config__=ConfigDict(extra="forbid"),
    **{name: (w.settings | None, None) for name, w in REGISTRY.items()})


def validate_config(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Check ``channels[].widgets``; returns what was set, normalised and JSON-safe.

    Raises pydantic's ValidationError, which the config loader reports key by key.
    """
    return _ConfigModel.model_validate(values).model_dump(mode="json", exclude_unset=True, exclude_none=True)


def resolve(name: str, configured: Mapping[str, Any], query: Mapping[str, str]) -> WidgetSettings:
    """The widget's settings: its defaults, then config, then the URL's query parameters."""
    try:
        return REGISTRY[name].settings.model_validate({**configured, **query})
    except ValidationError as exc:
        raise settings_error(name, exc.errors()) from None


def settings_error(name: str, errors: list[Any]) -> SettingsError:
    """pydantic's errors for widget ``name``'s settings, each naming its setting."""
    return SettingsError([
        Problem(".".join(str(p) for p in err["loc"]) or name,
                "unknown setting" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, "),
                err.get("input"))
        for err in errors])

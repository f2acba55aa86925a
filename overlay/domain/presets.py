"""Named widget presets: what a moderator saves in the editor, checked like URL settings.

A preset holds only the settings the moderator set (normalised by the widget's own
``Settings`` model); the page applies channel config, then the preset, then the URL.
Pure: no I/O. The ``settings`` event it builds is logged like every other event.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from overlay.domain.state import OVERLAY, Change, ChannelState
from overlay.errors import Refusal
from overlay.widgets import REGISTRY, resolve
from overlay.widgets.base import WidgetSettings

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_PER_WIDGET = 50


class PresetError(Refusal, ValueError):
    """A widget or preset name the API refuses (kind "not_found" or "invalid")."""


def check_widget(widget: str) -> str:
    if widget not in REGISTRY:
        raise PresetError("widget_not_found", "no such widget", "not_found")
    return widget


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise PresetError("invalid_preset_name",
                          "a preset name is 1 to 32 characters: a-z, 0-9, - and _, starting with a letter or digit")
    return name


def stored(settings: WidgetSettings) -> dict[str, Any]:
    """The preset as stored: only the settings that were given, as the widget's model read
    them (the route validated the body with that model, as a page validates its URL's)."""
    return settings.model_dump(mode="json", include=settings.model_fields_set)


def effective(widget: str, configured: Mapping[str, Any], preset: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting of the widget once config and preset are applied (what overlays apply)."""
    return resolve(widget, {**configured, **preset}, {}).model_dump(mode="json")


def save(state: ChannelState, now: int, widget: str, name: str, values: dict[str, Any],
         full: dict[str, Any], known: Collection[str]) -> Change:
    """Write a preset and announce it (``full``: every setting, as overlays apply them), in one
    commit. ``known``: the widget's preset names as this commit finds them, so the limit is
    checked in the same step as the write."""
    if name not in known and len(known) >= MAX_PER_WIDGET:
        raise PresetError("too_many_presets", f"at most {MAX_PER_WIDGET} presets per widget: delete one first",
                          "conflict")
    change = settings_changed(state, now, widget, name, full)
    change.presets.append((widget, name, values))
    return change


def delete(state: ChannelState, now: int, widget: str, name: str, fallback: dict[str, Any],
           known: Collection[str]) -> Change:
    """Delete a preset; overlays still showing it fall back to ``fallback`` (the channel's settings)."""
    if name not in known:
        raise PresetError("preset_not_found", "no such preset", "not_found")
    change = settings_changed(state, now, widget, name, fallback)
    change.presets.append((widget, name, None))
    return change


def settings_changed(state: ChannelState, now: int, widget: str, name: str,
                     settings: dict[str, Any] | None) -> Change:
    """The ``settings`` event of API.md §7; ``settings`` None: the preset was deleted."""
    change = Change.begin(state, now)
    change.emit("settings", OVERLAY, {"widget": widget, "preset": name, "settings": settings})
    return change

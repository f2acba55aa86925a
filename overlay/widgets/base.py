"""What every widget's ``Settings`` shares, and the value types settings are made of.

A setting comes from ``channels[].widgets.<name>`` in config.yaml or from the
browser-source URL (a query parameter, always a string), and both go through the
same model: the types below accept the forms a streamer types into a URL.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from overlay.widgets.strings import STRINGS

_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
Position = Literal["top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right"]


def _colour(value: str) -> str:
    # "#" must be written %23 in a URL, so "ff2d55" is accepted as well; the value lands in CSS.
    m = _HEX.match(value.strip())
    if m is None:
        raise ValueError("must be a hex colour such as #fe2c55")
    return "#" + m.group(1).lower()


def _css(value: str) -> str:
    # The text goes inside a <style> element: it must not be able to close it.
    if re.search(r"</\s*style", value, re.IGNORECASE):
        raise ValueError("must not contain </style>")
    return value


def _lang(value: str) -> str:
    if value != "auto" and value not in STRINGS:
        raise ValueError(f"must be auto or one of {', '.join(sorted(STRINGS))}")
    return value


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


Colour = Annotated[str, AfterValidator(_colour)]
# The bound sits on the text itself: on the union it was applied to None too (a 500 for
# "title": null, or a blank ?title= in a URL).
Text = Annotated[Annotated[str, Field(max_length=120)] | None, BeforeValidator(_blank_is_none)]


class WidgetSettings(BaseModel):
    """Settings every widget understands. Subclasses add their own, each with a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: Annotated[str, AfterValidator(_lang)] = Field("auto",
                                                        description="language of the words; auto: the channel's locale")
    theme: Literal["dark", "light"] = Field("dark", description="dark or light panels; both read over any footage")
    accent_color: Colour = Field("#fe2c55", description="main colour (amounts, bar)")
    second_color: Colour = Field("#25f4ee", description="second colour (matched part, badges)")
    font_scale: float = Field(1.0, ge=0.5, le=3.0, description="size of everything, 1 = made for 1080p")
    position: Position = Field("center", description="where the widget sits on the 1920×1080 page")
    custom_css: Annotated[str, AfterValidator(_css)] = Field("", max_length=20_000,
                                                             description="CSS appended after the widget's own")

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic reads true as 1: a width, a count or a volume is never written true.
        if isinstance(value, bool) and info.field_name and cls.model_fields[info.field_name].annotation in (int, float):
            raise ValueError("must be a number")
        return value

    def css_vars(self) -> dict[str, str]:
        """CSS custom properties for the widget's root; values are validated, safe in a <style>."""
        return {"accent": self.accent_color, "second": self.second_color, "scale": f"{self.font_scale:g}"}


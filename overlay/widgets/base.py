"""What every widget's ``Settings`` shares, and the value types settings are made of.

A setting comes from ``channels[].widgets.<name>`` in config.yaml or from the
browser-source URL (a query parameter, always a string), and both go through the
same model: the types below accept the forms a streamer types into a URL.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, \
    WithJsonSchema, field_validator

from overlay.widgets.fonts import FontName, stack
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


# The document says what _colour takes (JSON Schema's \s for str.strip()'s blanks).
HEX_PATTERN = r"^\s*#?([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})\s*$"
Colour = Annotated[str, AfterValidator(_colour), WithJsonSchema({"type": "string", "pattern": HEX_PATTERN})]
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
    font: FontName = Field("inter", description="the letters: inter, fredoka (rounded), oswald (condensed), "
                                                "playfair (serif) or caveat (handwritten); bundled, never fetched")
    panel: Literal["opaque", "glass"] = Field(
        "opaque", description="opaque panels read over any footage; glass lets a little of it show through")
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
        return {"accent": self.accent_color, "second": self.second_color, "scale": f"{self.font_scale:g}",
                "font": stack(self.font)}


# --- a setting as a request sends it ----------------------------------------------------------
# A preset (PUT …/presets/{name}) is checked like the URL's settings, so a setting may also be
# sent as the text a URL carries ("0.5", "true", "a.png,b.png"). The editor reads the plain
# schema (model_json_schema); the API's document describes every accepted form.

BOOL_WORDS = ("0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes")  # pydantic's, any case
BOOL_TEXT = {"type": "string", "pattern": "^(" + "|".join(
    "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in word) for word in BOOL_WORDS) + ")$"}
# A number as a URL writes it (within the setting's bounds, which a pattern cannot say).
NUMBER_TEXT = {"integer": r"^\s*[+-]?[0-9]{1,9}(\.0{1,9})?\s*$", "number": r"^\s*[+-]?[0-9]{1,9}(\.[0-9]{1,9})?\s*$"}
# Text strips what str.strip() strips: JSON Schema's \s, and the separators \x1c-\x1f, \x85.
BLANK_TEXT = {"type": "string", "pattern": r"^[\s\x1c-\x1f\x85]*$", "description": "blank: the default"}


def as_sent(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Widen ``model``'s JSON Schema (in place) to every form its settings are accepted in:
    booleans also as 0/1 and the words of BOOL_WORDS, numbers and lists also as text, an
    optional text also blank; ``lang`` lists its values."""
    for name, prop in schema.get("properties", {}).items():
        field = model.model_fields[name]
        if name == "lang":
            prop["enum"] = ["auto", *sorted(STRINGS)]
        kind = prop.get("type")
        forms: list[dict[str, Any]] = []
        if kind == "boolean":
            forms = [{"enum": [0, 1]}, BOOL_TEXT]
        elif kind in ("integer", "number"):
            forms = [{"type": "string", "pattern": NUMBER_TEXT[kind], "description": "the number as text"}]
        elif kind == "array":
            forms = [{"type": "string", "description": "the items separated by commas"}]
        elif any(getattr(m, "func", None) is _blank_is_none for m in field.metadata):
            forms = [BLANK_TEXT]
        if forms:
            notes = {k: prop.pop(k) for k in ("title", "description", "default") if k in prop}
            schema["properties"][name] = {**notes, "anyOf": [prop, *forms]}

"""The fonts a widget may be drawn in (the ``font`` setting): Inter, the default, and a few
families under the SIL Open Font License vendored in overlay/static/fonts/ (README.md there).
Each comes as its latin and latin-ext subsets; a browser fetches only the files a page uses."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Font:
    family: str    # the @font-face name
    folder: str    # under overlay/static/
    stem: str      # <stem>-latin-wght-normal.woff2, <stem>-latin-ext-wght-normal.woff2
    weights: str   # the variable font's weight range
    generic: str   # what stands in while the file loads, or for a letter it lacks


FONTS = {
    "inter": Font("Inter Variable", "vendor/inter", "inter", "100 900", "sans-serif"),
    "fredoka": Font("Fredoka Variable", "fonts/fredoka", "fredoka", "300 700", "sans-serif"),
    "oswald": Font("Oswald Variable", "fonts/oswald", "oswald", "200 700", "sans-serif"),
    "playfair": Font("Playfair Display Variable", "fonts/playfair-display", "playfair-display", "400 900", "serif"),
    "caveat": Font("Caveat Variable", "fonts/caveat", "caveat", "400 700", "cursive"),
}
FontName = Literal["inter", "fredoka", "oswald", "playfair", "caveat"]

# The subsets' ranges, as the fonts' packages declare them.
SUBSETS = {
    "latin": "U+0000-00FF, U+0131, U+0152-0153, U+02BB-02BC, U+02C6, U+02DA, U+02DC, U+0304, U+0308, U+0329, "
             "U+2000-206F, U+20AC, U+2122, U+2191, U+2193, U+2212, U+2215, U+FEFF, U+FFFD",
    "latin-ext": "U+0100-02BA, U+02BD-02C5, U+02C7-02CC, U+02CE-02D7, U+02DD-02FF, U+0304, U+0308, U+0329, "
                 "U+1D00-1DBF, U+1E00-1E9F, U+1EF2-1EFF, U+2020, U+20A0-20AB, U+20AD-20C0, U+2113, U+2C60-2C7F, "
                 "U+A720-A7FF",
}


def stack(name: str) -> str:
    """The CSS font-family value that starts with the chosen font. Unquoted (family names of
    plain words are valid so): the template escapes quotes, which CSS would not read back."""
    font = FONTS[name]
    return f"{font.family}, {font.generic}"

"""The one i18n registry: every area's strings, and the one way a page picks its language.

Each area keeps its words as data beside its code (widgets/strings.py, intake/donate/text.py,
live/page.py, static/dashboard/strings.json) and registers the table here as a ``Catalog``.
A page then asks ``pick`` for its language: what the visitor asked for (``?lang=``, a widget's
``lang`` setting) if every catalog it shows speaks it, else the browser's Accept-Language
when the page honours it, else the channel's language, else English.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

DEFAULT_LANGUAGE = "en"
# The locale that writes amounts and numbers for a language the channel does not use.
LOCALES = {"fr": "fr_FR", "en": "en_US"}
MAX_ACCEPT_LANGUAGE_PARTS = 20  # a header is the client's: do not rank thousands of entries


class Catalog:
    """One area's strings: language -> key -> text."""

    def __init__(self, area: str, tables: dict[str, dict[str, str]]) -> None:
        self.area, self.tables = area, tables

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.tables)

    def __getitem__(self, lang: str) -> dict[str, str]:
        return self.tables[lang]

    def __contains__(self, lang: object) -> bool:
        return lang in self.tables

    def pick(self, requested: str | None = None, *, channel_locale: str | None = None,
             accept_language: str | None = None) -> str:
        return pick((self,), requested, channel_locale=channel_locale, accept_language=accept_language)


_CATALOGS: dict[str, Catalog] = {}


def register(area: str, tables: dict[str, dict[str, str]]) -> Catalog:
    """Add an area's strings to the registry (the table is shared, not copied)."""
    catalog = _CATALOGS[area] = Catalog(area, tables)
    return catalog


def register_json(area: str, path: Path) -> Catalog:
    """An area whose strings are a JSON file the browser also reads (the dashboard's)."""
    return register(area, json.loads(path.read_text(encoding="utf-8")))


def catalog(area: str) -> Catalog:
    return _CATALOGS[area]


def catalogs() -> dict[str, Catalog]:
    return dict(_CATALOGS)


def accepted_languages(header: str | None) -> list[str]:
    """Accept-Language's primary languages, best first (by q, then by order)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")[:MAX_ACCEPT_LANGUAGE_PARTS]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip().lower().split("-")[0]))
    return [lang for _, _, lang in sorted(ranked)]


def pick(shown: Iterable[Catalog], requested: str | None = None, *, channel_locale: str | None = None,
         accept_language: str | None = None) -> str:
    """The language of a page that shows every catalog in ``shown`` (see the module's docstring)."""
    spoken = set.intersection(*(set(c.languages) for c in shown))
    candidates = [requested, *accepted_languages(accept_language),
                  channel_locale.split("_")[0] if channel_locale else None]
    return next((lang for lang in candidates if lang in spoken), DEFAULT_LANGUAGE)


def locale_for(lang: str, channel_locale: str) -> str:
    """Amounts are written as the channel writes them, unless the page speaks another language."""
    return channel_locale if channel_locale.split("_")[0] == lang else LOCALES[lang]

"""overlay.i18n: one registry of every area's strings, one way to pick a language."""
from __future__ import annotations

import pytest

import overlay.app  # noqa: F401  - imports every area, which registers its catalog
from overlay import i18n

AREAS = ("widgets", "donate", "live", "dashboard")


def test_every_area_is_registered_in_french_and_english() -> None:
    catalogs = i18n.catalogs()
    assert set(AREAS) <= set(catalogs)
    for area in AREAS:
        assert {"fr", "en"} <= set(catalogs[area].languages), area


@pytest.mark.parametrize("area", AREAS)
def test_every_language_of_an_area_has_the_same_keys(area: str) -> None:
    # A key missing in one language would show its name (the dashboard) or fail (templates).
    catalog = i18n.catalog(area)
    english = set(catalog["en"])
    assert {lang: sorted(set(catalog[lang]) ^ english) for lang in catalog.languages} == \
        {lang: [] for lang in catalog.languages}


FR_EN = i18n.Catalog("test", {"fr": {}, "en": {}})
EN_ONLY = i18n.Catalog("test-en", {"en": {}})


@pytest.mark.parametrize("requested, accept, locale, expected", [
    ("fr", "en", "en_US", "fr"),              # asked for, spoken: wins
    ("de", "fr;q=0.9, en;q=0.8", None, "fr"),  # not spoken: the browser's best spoken language
    ("de", None, "fr_CA", "fr"),              # then the channel's language
    (None, "de, ja", "ja_JP", "en"),          # nothing spoken: English
    (None, "en-GB;q=0.2, fr-FR;q=0.7", None, "fr"),
    (None, "fr;q=abc, en", None, "en"),       # an unreadable q ranks last, not an error
])
def test_pick_order(requested: str | None, accept: str | None, locale: str | None, expected: str) -> None:
    assert FR_EN.pick(requested, accept_language=accept, channel_locale=locale) == expected


def test_a_page_showing_two_areas_speaks_only_what_both_speak() -> None:
    assert i18n.pick((FR_EN, EN_ONLY), "fr", channel_locale="fr_FR") == "en"


def test_locale_for_writes_amounts_as_the_channel_unless_the_page_speaks_another_language() -> None:
    assert i18n.locale_for("fr", "fr_CA") == "fr_CA"
    assert i18n.locale_for("en", "fr_CA") == "en_US"

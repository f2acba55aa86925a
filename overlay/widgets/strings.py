"""The words overlays show, per language. The server picks one table and embeds it in the page."""
from __future__ import annotations

DEFAULT_LANGUAGE = "en"

STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "anonymous": "Anonyme",
        "donated": "a donné {amount}",
        "verb_2": "doublés", "verb_3": "triplés", "verb_4": "quadruplés",
        "match_line": "+{amount} {verb} par {sponsor}",
        "match_line_other": "+{amount} offerts par {sponsor}",
        "match_headline": "Dons {verb} par {sponsor}",
        "match_headline_other": "Dons ×{multiplier} grâce à {sponsor}",
        "match_remaining": "Encore {amount} à {verb_infinitive}",
        "infinitive_2": "doubler", "infinitive_3": "tripler", "infinitive_4": "quadrupler",
        "infinitive_other": "abonder",
        "ends_in": "Fin dans {time}",
        "goal": "Objectif",
        "raised": "Dons",
        "matched": "Abondement",
        "milestone": "Palier atteint : {amount}",
        "goal_reached": "Objectif atteint !",
        "cta": "Faire un don",
        "scan": "Scannez pour donner",
        "raised_total": "{amount} collectés",
        "latest": "Derniers dons",
        "top_donors": "Top donateurs",
        "be_first": "Soyez le premier à donner !",
        "copy_link": "Copier",
        "copied_link": "Copié !",
        "test_badge": "TEST",
    },
    "en": {
        "anonymous": "Anonymous",
        "donated": "donated {amount}",
        "verb_2": "doubled", "verb_3": "tripled", "verb_4": "quadrupled",
        "match_line": "+{amount} {verb} by {sponsor}",
        "match_line_other": "+{amount} added by {sponsor}",
        "match_headline": "Donations {verb} by {sponsor}",
        "match_headline_other": "Donations ×{multiplier} thanks to {sponsor}",
        "match_remaining": "{amount} left to {verb_infinitive}",
        "infinitive_2": "double", "infinitive_3": "triple", "infinitive_4": "quadruple",
        "infinitive_other": "match",
        "ends_in": "Ends in {time}",
        "goal": "Goal",
        "raised": "Donations",
        "matched": "Matched",
        "milestone": "Milestone reached: {amount}",
        "goal_reached": "Goal reached!",
        "cta": "Donate",
        "scan": "Scan to donate",
        "raised_total": "{amount} raised",
        "latest": "Latest donations",
        "top_donors": "Top donors",
        "be_first": "Be the first to donate!",
        "copy_link": "Copy",
        "copied_link": "Copied!",
        "test_badge": "TEST",
    },
}


def language(setting: str, channel_language: str) -> str:
    """The ``lang`` setting, or the channel's language when it is "auto" (English if we lack it)."""
    lang = channel_language if setting == "auto" else setting
    return lang if lang in STRINGS else DEFAULT_LANGUAGE

"""The widget gallery's words, per language (the widgets' own words are in strings.py)."""
from __future__ import annotations

from overlay import i18n
from overlay.widgets import REGISTRY

STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "widgets",
        "browser_sources": "sources navigateur",
        "intro": "Dans OBS : Sources → + → Navigateur, collez une adresse, largeur 1920, hauteur 1080. "
                 "Chaque widget a un fond transparent : placez-le au-dessus du jeu ou de la caméra. "
                 "Gardez ces adresses pour vous : elles contiennent la clé d'overlay de la chaîne.",
        "preview_background": "Fond de l'aperçu",
        "preview_over": "Aperçu sur :",
        "backdrop_dark": "image sombre", "backdrop_light": "image claire", "backdrop_check": "transparence",
        "preview": "aperçu de {name}", "address": "adresse de source navigateur de {name}",
        "footer": "Les réglages se placent après la clé, par exemple {example} ; les valeurs par défaut "
                  "viennent de {config} dans config.yaml. Un réglage erroné s'affiche par son nom dans l'aperçu.",
        "name_alert": "Alerte", "name_goal": "Objectif", "name_targets": "Défis", "name_team": "Équipe",
        "name_poll": "Vote", "name_match": "Abondement", "name_timer": "Minuteur", "name_sticker": "Sticker de don",
        "name_ticker": "Bandeau", "name_leaderboard": "Classement", "name_scene": "Scène complète",
        "about_alert": "Chaque don à son arrivée : nom, montant, message, abondement, image et son.",
        "about_goal": "Barre de progression vers l'objectif : dons et abondement séparés, pourcentage, paliers.",
        "about_targets": "Les défis (« à 500 € je me teins les cheveux ») empilés, chacun avec sa progression ; "
                         "ceux débloqués sont fêtés.",
        "about_team": "Le total d'une équipe vers son objectif, et la part de chaque chaîne membre. "
                      "Masqué hors d'une équipe.",
        "about_poll": "Un vote / une enchère : le total de chaque option en barre, l'option en tête et son avance, "
                      "la gagnante une fois clos.",
        "about_match": "La bannière d'abondement : sponsor, ×2, ce qui reste du plafond, compte à rebours. "
                       "Masquée sans abondement en cours.",
        "about_timer": "Minuteur de subathon : le compte à rebours que chaque don prolonge, avec le temps ajouté.",
        "about_sticker": "Le sticker de don : appel à donner, QR code vers la page de don, montant collecté, "
                         "badge d'abondement.",
        "about_ticker": "Les derniers dons qui défilent en bas de l'écran, le plus récent d'abord.",
        "about_leaderboard": "Les meilleurs donateurs par total (dons anonymes exclus).",
        "about_scene": "Tout sur une page 1920×1080, pour qui veut une seule source.",
    },
    "en": {
        "title": "widgets",
        "browser_sources": "browser sources",
        "intro": "In OBS: Sources → + → Browser, paste an address, width 1920, height 1080. "
                 "Every widget has a transparent background: put it above your game or camera. "
                 "Keep these addresses private: they contain the channel's overlay key.",
        "preview_background": "Preview background",
        "preview_over": "Preview over:",
        "backdrop_dark": "dark footage", "backdrop_light": "bright footage", "backdrop_check": "transparency",
        "preview": "{name} preview", "address": "{name} browser-source address",
        "footer": "Settings go after the key, e.g. {example}; defaults come from {config} in config.yaml. "
                  "A wrong setting shows its name in the preview.",
        "name_alert": "Alert", "name_goal": "Goal", "name_targets": "Targets", "name_team": "Team",
        "name_poll": "Poll", "name_match": "Match", "name_timer": "Timer", "name_sticker": "Donation sticker",
        "name_ticker": "Ticker", "name_leaderboard": "Leaderboard", "name_scene": "Whole scene",
    },
}
# English descriptions are the widgets' own, from the registry: one place for them.
STRINGS["en"].update({f"about_{w.name}": w.description for w in REGISTRY.values()})
CATALOG = i18n.register("gallery", STRINGS)

"""The donate page's words, in the languages it speaks (picked through overlay.i18n)."""
from __future__ import annotations

from overlay import i18n

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Faire un don", "raised_of": "{total} sur {goal}", "gifts_one": "{n} don", "gifts": "{n} dons",
        "match_double": "Votre don est doublé par {sponsor} !",
        "match_times": "Votre don est multiplié par {m} grâce à {sponsor} !",
        "match_left": "Encore {remaining} offerts par {sponsor}",
        "amount": "Montant", "custom": "Autre montant", "name": "Votre nom", "name_hint": "Pseudo affiché en direct",
        "anonymous": "Rester anonyme", "message": "Message", "optional": "facultatif",
        "message_hint": "Un petit mot pour le stream", "submit": "Donner {amount}", "submit_plain": "Envoyer mon don",
        "pledge_note": "Votre promesse de don s'affiche en direct dès que la modération l'a confirmée.",
        "pay_note": "Le paiement se fait ensuite sur {host}.",
        "stripe_note": "Vous paierez ensuite sur la page sécurisée de Stripe ; votre don s'affiche en direct dès "
                       "le paiement accepté.",
        "thanks_paid": "Votre paiement est accepté : votre don s'affiche en direct dans quelques instants.",
        "checkout_item": "Don pour {name}",
        "pay_down_title": "Paiement indisponible",
        "pay_down_text": "Le paiement n'a pas pu démarrer. Rien n'a été débité : réessayez dans un instant.",
        "thanks": "Merci !", "thanks_amount": "Votre don de {amount} est bien enregistré.",
        "thanks_generic": "Votre promesse de don est bien enregistrée.",
        "thanks_pending": "Votre promesse de don de {amount} est bien enregistrée. Elle comptera dans le total dès "
                          "qu'un modérateur l'aura confirmée.",
        "thanks_match": "{sponsor} ajoute {matched} : {total} pour la cause !",
        "thanks_held": "Votre message s'affichera après validation par la modération.",
        "pay_now": "Finaliser le paiement", "again": "Faire un autre don",
        "err_form": "Vérifiez le formulaire.",
        "err_amount": "Choisissez ou saisissez un montant valide, par exemple 12,50.",
        "err_amount_max": "Le montant maximum est {max}.",
        "err_name": "Le nom ne doit pas dépasser {n} caractères.",
        "err_message": "Le message ne doit pas dépasser {n} caractères.",
        "err_token": "Ce formulaire a expiré ou votre connexion a changé. Vérifiez vos informations et envoyez-le de "
                     "nouveau.",
        "slow_title": "Doucement !", "slow_text": "Trop de dons depuis cette connexion. Réessayez dans une minute.",
        "back": "Retour au formulaire",
        "origin_title": "Formulaire refusé",
        "origin_text": "Ce formulaire a été envoyé depuis un autre site. Ouvrez la page de don et envoyez-le depuis "
                       "celle-ci.",
        "missing_title": "Page introuvable", "missing_text": "Il n'y a pas de page de don ici.",
        "closed_title": "Dons fermés", "closed_text": "Les dons ne se font pas sur cette page.",
        "down_title": "Un instant…", "down_text": "Le service est momentanément indisponible. Réessayez dans quelques secondes.",
        "incentive": "Votre don soutient", "incentive_none": "La collecte, sans choix particulier",
        "kind_target": "Défis", "kind_reward": "Récompenses", "reward_from": "{title} (dès {amount})",
        "err_incentive": "Ce choix n'est plus possible (clos, épuisé ou au-dessus de votre montant). "
                         "Choisissez-en un autre ou aucun.",
    },
    "en": {
        "title": "Donate", "raised_of": "{total} of {goal}", "gifts_one": "{n} gift", "gifts": "{n} gifts",
        "match_double": "{sponsor} doubles your gift!",
        "match_times": "{sponsor} multiplies your gift by {m}!",
        "match_left": "{remaining} of matching left from {sponsor}",
        "amount": "Amount", "custom": "Other amount", "name": "Your name", "name_hint": "Shown live on stream",
        "anonymous": "Stay anonymous", "message": "Message", "optional": "optional",
        "message_hint": "A few words for the stream", "submit": "Give {amount}", "submit_plain": "Send my gift",
        "pledge_note": "Your pledge shows live on stream once a moderator confirms it.",
        "pay_note": "You then pay on {host}.",
        "stripe_note": "You then pay on Stripe's secure page; your gift shows live on stream once the payment "
                       "goes through.",
        "thanks_paid": "Your payment went through: your gift shows live on stream in a moment.",
        "checkout_item": "Gift to {name}",
        "pay_down_title": "Payment unavailable",
        "pay_down_text": "The payment could not start. Nothing was charged: try again in a moment.",
        "thanks": "Thank you!", "thanks_amount": "Your gift of {amount} is recorded.",
        "thanks_generic": "Your pledge is recorded.",
        "thanks_pending": "Your pledge of {amount} is recorded. It will count in the total once a moderator confirms "
                          "it.",
        "thanks_match": "{sponsor} adds {matched}: {total} for the cause!",
        "thanks_held": "Your message will show once a moderator approves it.",
        "pay_now": "Complete your payment", "again": "Give again",
        "err_form": "Please check the form.",
        "err_amount": "Choose or enter a valid amount, for example 12.50.",
        "err_amount_max": "The largest amount is {max}.",
        "err_name": "The name must be at most {n} characters.",
        "err_message": "The message must be at most {n} characters.",
        "err_token": "This form has expired or your connection changed. Check your details and send it again.",
        "slow_title": "Slow down!", "slow_text": "Too many gifts from this connection. Try again in a minute.",
        "back": "Back to the form",
        "origin_title": "Form refused",
        "origin_text": "This form was sent from another site. Open the donate page and send it from there.",
        "missing_title": "Page not found", "missing_text": "There is no donate page here.",
        "closed_title": "Donations closed", "closed_text": "Donations are not taken on this page.",
        "down_title": "One moment…", "down_text": "The service is unavailable for a moment. Try again in a few seconds.",
        "incentive": "Your gift supports", "incentive_none": "The campaign, nothing in particular",
        "kind_target": "Challenges", "kind_reward": "Rewards", "reward_from": "{title} (from {amount})",
        "err_incentive": "This choice is no longer possible (closed, sold out or above your amount). "
                         "Choose another one or none.",
    },
}
CATALOG = i18n.register("donate", TEXTS)

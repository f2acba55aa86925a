"""Server state and form input -> what the donate templates show. Donor text is never marked safe."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from babel import Locale
from babel.numbers import format_currency, format_decimal

from overlay.domain import money
from overlay.config import ChannelSettings
from overlay.i18n import locale_for
from overlay.intake.donate import choices, shown
from overlay.intake.donate.text import TEXTS
from overlay.domain.moderation import MAX_NAME_LENGTH
from overlay.http.pages import render

HONEYPOT = "website"


def amount_label(minor: int, cfg: ChannelSettings, lang: str, *, short: bool = True) -> str:
    """12,50 € ; whole amounts without decimals on buttons: 20 €."""
    locale = locale_for(lang, cfg.locale)
    exp = money.exponent(cfg.currency)
    if not short or minor % 10**exp:
        return money.format_amount(minor, cfg.currency, locale)
    pattern = re.sub(r"0\.0+", "0", Locale.parse(locale).currency_formats["standard"].pattern)
    return format_currency(Decimal(minor).scaleb(-exp), cfg.currency, locale=locale, format=pattern,
                           currency_digits=False)


def _minor(cfg: ChannelSettings, decimal_string: str) -> int:
    return money.parse_amount(decimal_string, cfg.currency, allow_zero=True)


def _goal(cfg: ChannelSettings, lang: str, campaign: dict[str, Any]) -> dict[str, Any]:
    t, percent = TEXTS[lang], float(campaign["percent"])
    full = {k: amount_label(_minor(cfg, campaign[k]), cfg, lang, short=False) for k in ("total", "goal")}
    count = campaign["count"]
    return {"title": campaign["title"], "raised_of": t["raised_of"].format(**full),
            "percent": _percent(percent, locale_for(lang, cfg.locale)),
            "width": f"{min(max(percent, 0.0), 100.0):.1f}", "value": f"{percent:.0f}",
            "count": (t["gifts_one"] if count == 1 else t["gifts"]).format(n=count)}


def _percent(percent: float, locale: str) -> str:
    """42 %, 0,4 %: the one percent format of every page (money.format_percent)."""
    return money.format_percent(percent, locale)


def _match(cfg: ChannelSettings, lang: str, match: dict[str, Any]) -> dict[str, str] | None:
    if not match["active"]:
        return None
    t, multiplier = TEXTS[lang], Decimal(match["multiplier"])
    headline = t["match_double"] if multiplier == 2 else t["match_times"]
    m = format_decimal(multiplier, locale=locale_for(lang, cfg.locale))
    remaining = amount_label(_minor(cfg, match["remaining"]), cfg, lang, short=False)
    return {"headline": headline.format(sponsor=match["sponsor"], m=m),
            "left": t["match_left"].format(remaining=remaining, sponsor=match["sponsor"])}


def _notes(cfg: ChannelSettings, lang: str) -> list[str]:
    t = TEXTS[lang]
    if cfg.donate_page.mode == "stripe":
        return [t["stripe_note"]]
    host = urlsplit(cfg.campaign.donate_url).hostname if cfg.campaign.donate_url else None
    return [t["pledge_note"]] + ([t["pay_note"].format(host=host)] if host else [])


def _page(request: web.Request, template: str, cfg: ChannelSettings | None, lang: str, status: int = 200,
          headers: dict[str, str] | None = None, **context: Any) -> web.Response:
    base = {"lang": lang, "t": TEXTS[lang], "channel_name": cfg.name if cfg else "",
            "form_url": f"/donate/{cfg.id}?lang={lang}" if cfg else None}
    # same-origin, not no-referrer: under no-referrer a browser posts the form with "Origin: null",
    # and the Origin is how a post from another site is told apart (guard.origin_allowed).
    headers = {"Referrer-Policy": "same-origin", "X-Frame-Options": "DENY", **(headers or {})}
    return render(request, template, {**base, **context}, status=status, headers=headers, framable=False,
                  form_action=checkout_origins(cfg) if cfg else ())


STRIPE_CHECKOUT = "https://checkout.stripe.com"


def checkout_origins(cfg: ChannelSettings) -> tuple[str, ...]:
    """Where the form's answer may send the browser: Chromium applies form-action to the redirect too."""
    stripe = cfg.webhooks.stripe
    if cfg.donate_page.mode != "stripe" or stripe is None:
        return ()
    if stripe.api_base:  # a local fake of Stripe serves its own stand-in of the Checkout page
        parts = urlsplit(stripe.api_base)
        return (STRIPE_CHECKOUT, f"{parts.scheme}://{parts.netloc}")
    return (STRIPE_CHECKOUT,)


def form_page(request: web.Request, cfg: ChannelSettings, lang: str, snapshot: dict[str, Any], token: str,
              form: Any, errors: dict[str, str], status: int) -> web.Response:
    t = TEXTS[lang]
    presets = [money.parse_amount(p, cfg.currency) for p in cfg.donate_page.presets]
    options = [{"value": money.to_decimal_string(p, cfg.currency), "label": amount_label(p, cfg, lang)} for p in presets]
    form = form or {}
    default = options[0]["value"] if options else "custom"
    checked = form.get("amount") or default
    values = {k: form.get(k) if isinstance(form.get(k), str) else "" for k in ("custom_amount", "donor_name", "message")}
    first = next((o["label"] for o in options if o["value"] == checked), None)
    return _page(request, "donate.html", cfg, lang, status, heading="h1",
                 goal=_goal(cfg, lang, snapshot["campaign"]), match=_match(cfg, lang, snapshot["match"]),
                 presets=options, checked=checked, values=values,
                 errors=dict.fromkeys(("form", "amount", "donor_name", "alias", "message", "incentive"), "") | errors,
                 choices_shown=("full", "first", "alias", "anonymous"), **shown.template_values(form),
                 incentives=choices.groups(snapshot.get("incentives", []), lang), chosen=form.get(choices.FIELD), max_message=cfg.moderation.max_message_length, max_name=MAX_NAME_LENGTH,
                 token=token, honeypot=HONEYPOT, notes=_notes(cfg, lang), currency=cfg.currency,
                 intl_locale=locale_for(lang, cfg.locale).replace("_", "-"), submit_template=t["submit"],
                 submit_label=t["submit"].format(amount=first) if first else t["submit_plain"])


def thanks_page(request: web.Request, cfg: ChannelSettings, lang: str, snapshot: dict[str, Any],
                rec: dict[str, Any] | None) -> web.Response:
    t, lines = TEXTS[lang], []
    if rec is None:
        lines.append(t["thanks_paid"] if cfg.donate_page.mode == "stripe" else t["thanks_generic"])
    elif rec["status"] == "pending":
        lines.append(t["thanks_pending"].format(amount=amount_label(rec["amount"], cfg, lang, short=False)))
    elif rec["status"] == "rejected" and not rec.get("counted", True):
        lines.append(t["thanks_generic"])  # the moderators' verdict is theirs to tell, not this page's
    else:
        lines.append(t["thanks_amount"].format(amount=amount_label(rec["amount"], cfg, lang, short=False)))
        sponsor = snapshot["match"]["sponsor"] or (cfg.match.sponsor if cfg.match else "")
        if rec["matched"]:
            lines.append(t["thanks_match"].format(
                sponsor=sponsor, matched=amount_label(rec["matched"], cfg, lang, short=False),
                total=amount_label(rec["amount"] + rec["matched"], cfg, lang, short=False)))
        if rec["status"] == "held" and rec["message"]:
            lines.append(t["thanks_held"])
    return _page(request, "donate_thanks.html", cfg, lang, goal=_goal(cfg, lang, snapshot["campaign"]), heading="h2",
                 lines=lines, matched=bool(rec and rec["matched"]), pay_url=cfg.campaign.donate_url)


def notice(request: web.Request, lang: str, title: str, text: str, *, status: int, cfg: ChannelSettings | None = None,
           headers: dict[str, str] | None = None, back: bool = False) -> web.Response:
    return _page(request, "donate_notice.html", cfg, lang, status, headers, title=title, text=text,
                 back=back and cfg is not None)

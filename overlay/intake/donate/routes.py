"""GET/POST /donate/{ch}: the public donate page, its thank-you page, and ``mode: off``.

A donation made here is a *pledge*: a promise, not money (that is paid elsewhere,
``campaign.donate_url``). It is stored ``pending`` and counts nowhere until a
moderator confirms it; then matching and moderation apply exactly as for the API.
The form posts back here and redirects to the thank-you page (post/redirect/get),
so reloading the thank-you page never pledges twice.
"""
from __future__ import annotations

import logging
import unicodedata
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy

from overlay import keys
from overlay.domain import money
from overlay.config import ChannelSettings
from overlay.intake.donate import choices, shown, view
from overlay.intake.donate.checkout import start_checkout
from overlay.intake.donate.guard import check_token, client_address, issue_token, origin_allowed
from overlay.intake.donate.text import CATALOG, TEXTS
from overlay.domain.donations import DonationError, DonationInput
from overlay.domain.moderation import MAX_NAME_LENGTH
from overlay.http.errors import KIND_STATUS
from overlay.http.clientaddr import limit_key
from overlay.http.ratelimit import RateLimiter
from overlay.service.channel import ChannelService
from overlay.errors import StoreUnavailable

log = logging.getLogger(__name__)
LIMITER: web.AppKey[RateLimiter] = web.AppKey("donate_limiter", RateLimiter)


def _lang(request: web.Request, cfg: ChannelSettings | None) -> str:
    return CATALOG.pick(request.query.get("lang"), channel_locale=cfg.locale if cfg else None)


def _service(request: web.Request) -> ChannelService | None:
    return request.app[keys.REGISTRY].service(request.match_info["ch"])


def _closed(request: web.Request, svc: ChannelService | None) -> web.Response | None:
    """The answer when there is no form to show here, or None when there is."""
    if svc is None:
        t = TEXTS[_lang(request, None)]
        return view.notice(request, _lang(request, None), t["missing_title"], t["missing_text"], status=404)
    cfg = svc.cfg
    if cfg.donate_page.mode in ("pledge", "stripe"):
        return None
    if cfg.campaign.donate_url and request.method == "GET":
        raise web.HTTPFound(cfg.campaign.donate_url)
    t = TEXTS[_lang(request, cfg)]
    return view.notice(request, _lang(request, cfg), t["closed_title"], t["closed_text"], status=404, cfg=cfg)


def _field(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _amount_text(raw: str) -> str:
    """What people type: "12,50", "1 000", "10 €" -> "12.50", "1000", "10"."""
    text = "".join(ch for ch in raw if not ch.isspace() and unicodedata.category(ch) != "Sc")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    return text


def read_form(cfg: ChannelSettings, form: MultiDictProxy[Any], lang: str) -> tuple[DonationInput | None, dict[str, str]]:
    t, errors = TEXTS[lang], {}
    choice = _field(form, "amount")
    raw = _field(form, "custom_amount") if choice in ("", "custom") else choice
    minor = 0
    try:
        minor = money.parse_amount(_amount_text(raw), cfg.currency)
    except money.MoneyError:
        errors["amount"] = t["err_amount"]
    ceiling = cfg.donate_page.max_amount
    if ceiling is not None and minor > money.parse_amount(ceiling, cfg.currency):
        errors["amount"] = t["err_amount_max"].format(
            max=view.amount_label(money.parse_amount(ceiling, cfg.currency), cfg, lang))
    name = None if form.get("anonymous") else _field(form, "donor_name").strip() or None
    if name is not None and len(name) > MAX_NAME_LENGTH:
        errors["donor_name"] = t["err_name"].format(n=MAX_NAME_LENGTH)
    # Browsers send a line break as CRLF but count it as one character against maxlength.
    message = _field(form, "message").replace("\r\n", "\n").strip() or None
    limit = cfg.moderation.max_message_length
    if message is not None and len(message) > limit:
        errors["message"] = t["err_message"].format(n=limit)
    display_name, alias = shown.read(form, t, errors)
    if errors:
        return None, errors
    return DonationInput(amount=money.to_decimal_string(minor, cfg.currency), currency=None, donor_name=name,
                         message=message, source="pledge", incentive=choices.read(form),
                         display_name=display_name, alias=alias, show_amount=shown.show_amount(form)), {}


async def show_form(request: web.Request) -> web.Response:
    svc = _service(request)
    closed = _closed(request, svc)
    if closed is not None:
        return closed
    assert svc is not None
    return await _form(request, svc, _lang(request, svc.cfg))


async def _form(request: web.Request, svc: ChannelService, lang: str, form: MultiDictProxy[Any] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    try:
        snapshot = await svc.snapshot()
    except StoreUnavailable:
        return _unavailable(request, svc.cfg, lang)
    token = issue_token(svc.cfg, client_address(request))
    return view.form_page(request, svc.cfg, lang, snapshot, token, form, errors or {}, status)


def _unavailable(request: web.Request, cfg: ChannelSettings, lang: str) -> web.Response:
    t = TEXTS[lang]
    return view.notice(request, lang, t["down_title"], t["down_text"], status=503, headers={"Retry-After": "5"},
                       cfg=cfg)


async def submit(request: web.Request) -> web.Response:
    svc = _service(request)
    closed = _closed(request, svc)
    if closed is not None:
        return closed
    assert svc is not None
    cfg, lang = svc.cfg, _lang(request, svc.cfg)
    if not origin_allowed(request):
        log.info("donate %s: form posted from another origin; refused", cfg.id)
        t = TEXTS[lang]
        return view.notice(request, lang, t["origin_title"], t["origin_text"], status=403, cfg=cfg, back=True)
    address = client_address(request)
    wait = request.app[LIMITER].hit((cfg.id, limit_key(address)), cfg.donate_page.rate_limit_per_minute)
    if wait is not None:
        log.info("donate %s: rate limit reached for one client", cfg.id)
        t = TEXTS[lang]
        return view.notice(request, lang, t["slow_title"], t["slow_text"], status=429, cfg=cfg,
                           headers={"Retry-After": str(wait)}, back=True)
    form = await request.post()
    if _field(form, view.HONEYPOT):
        log.info("donate %s: honeypot field filled; answered as a success, nothing stored", cfg.id)
        raise _see_other(cfg, lang, None)
    nonce = check_token(cfg, form.get("form_token"), address)
    if nonce is None:
        log.info("donate %s: missing, forged, expired or another address's form token", cfg.id)
        return await _form(request, svc, lang, form, {"form": TEXTS[lang]["err_token"]}, status=403)
    inp, errors = read_form(cfg, form, lang)
    if inp is None:
        return await _form(request, svc, lang, form, {"form": TEXTS[lang]["err_form"], **errors}, status=422)
    try:
        if cfg.donate_page.mode == "stripe":  # real money: Stripe's page takes it, its webhook books it
            await svc.check_incentive(inp)  # a choice the booking would refuse: say so before paying
            return await start_checkout(request, cfg, lang, inp, nonce)
        rec, _ = await svc.donate(DonationInput(**{**inp.__dict__, "external_id": f"form-{nonce}"}), pledge=True)
    except DonationError as exc:
        log.info("donate %s: donation refused: %s", cfg.id, exc.code)
        t = TEXTS[lang]
        field, text = ("incentive", t["err_incentive"]) if exc.code in choices.CODES else ("amount", t["err_amount"])
        return await _form(request, svc, lang, form, {"form": t["err_form"], field: text},
                           status=KIND_STATUS[exc.kind])
    except StoreUnavailable:
        return _unavailable(request, svc.cfg, lang)
    raise _see_other(cfg, lang, rec["id"])


def _see_other(cfg: ChannelSettings, lang: str, donation_id: str | None) -> web.HTTPSeeOther:
    query = {"d": donation_id, "lang": lang} if donation_id else {"lang": lang}
    return web.HTTPSeeOther(f"/donate/{cfg.id}/thanks?{urlencode(query)}")


async def thanks(request: web.Request) -> web.Response:
    svc = _service(request)
    closed = _closed(request, svc)
    if closed is not None:
        return closed
    assert svc is not None
    lang, wanted = _lang(request, svc.cfg), request.query.get("d", "")
    try:
        rec = await svc.get_donation(wanted) if 0 < len(wanted) <= 64 else None
        snapshot = await svc.snapshot()
    except StoreUnavailable:
        return _unavailable(request, svc.cfg, lang)
    if rec is not None and rec["source"] != "pledge":
        rec = None
    return view.thanks_page(request, svc.cfg, lang, snapshot, rec)


def setup_donate(app: web.Application) -> None:
    app[LIMITER] = RateLimiter()
    app.router.add_get("/donate/{ch}", show_form)
    app.router.add_post("/donate/{ch}", submit)
    app.router.add_get("/donate/{ch}/thanks", thanks)

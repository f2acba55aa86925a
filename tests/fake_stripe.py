"""A local fake of the Stripe endpoints ``donate_page.mode: stripe`` uses, on loopback.

- ``POST /v1/checkout/sessions``: what the official library sends (form-encoded, nested
  keys ``line_items[0][price_data][currency]``, Bearer secret key), answered with a
  ``checkout.session`` object of Stripe's shape (the fixture Stripe itself sent, filled in).
- ``GET /c/pay/{id}``: a stand-in for Stripe's hosted page, with a "Pay" button;
  ``POST`` on it pays: the fake sends ``checkout.session.completed`` to the server's webhook,
  signed with Stripe's algorithm, then redirects the donor to the session's ``success_url``.
"""
from __future__ import annotations

import copy
import html
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.webhook_signing import stripe_headers

SESSION_FIXTURE = Path(__file__).parent / "fixtures" / "webhooks" / "stripe_checkout_session_completed.json"
_KEY = re.compile(r"[^\[\]]+|\[([^\[\]]*)\]")


def nested(form: Any) -> dict[str, Any]:
    """``a[b][0][c]=v`` form fields (Stripe's encoding) -> {"a": {"b": [{"c": "v"}]}}."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        parts = [m.group(1) if m.group(1) is not None else m.group(0) for m in _KEY.finditer(key)]
        node: Any = out
        for part, following in zip(parts, parts[1:]):
            child = [] if following.isdigit() else {}
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(copy.copy(child))
                node = node[index]
            else:
                node = node.setdefault(part, child)
        if isinstance(node, list):
            node.append(value)
        else:
            node[parts[-1]] = value
    return out


class FakeStripe:
    def __init__(self, api_key: str, webhook_secret: str):
        self.api_key, self.webhook_secret = api_key, webhook_secret
        self.url = ""  # set once started
        self.webhook_url = ""  # where "paying" delivers checkout.session.completed
        self.sessions: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []  # every create call: {"params", "idempotency_key"}
        self.down = False  # answer 500s, as Stripe does in an outage
        self.app = web.Application()
        self.app.router.add_post("/v1/checkout/sessions", self.create_session)
        self.app.router.add_get("/c/pay/{id}", self.pay_page)
        self.app.router.add_post("/c/pay/{id}", self.pay)

    async def create_session(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "invalid_request_error", "Invalid API Key provided")
        if self.down:
            return _error(500, "api_error", "An unknown error occurred")
        params = nested(await request.post())
        self.requests.append({"params": params, "idempotency_key": request.headers.get("Idempotency-Key")})
        item = params["line_items"][0]
        amount = int(item["price_data"]["unit_amount"]) * int(item["quantity"])
        session = json.loads(SESSION_FIXTURE.read_text())["data"]["object"]
        sid = "cs_test_" + secrets.token_hex(16)
        session.update({
            "id": sid, "amount_subtotal": amount, "amount_total": amount, "currency": item["price_data"]["currency"],
            "cancel_url": params["cancel_url"], "success_url": params["success_url"], "created": int(time.time()),
            "expires_at": int(time.time()) + 86400, "custom_fields": [], "customer_details": None,
            "locale": params.get("locale"), "metadata": params.get("metadata", {}), "payment_intent": None,
            "payment_link": None, "payment_status": "unpaid", "status": "open", "submit_type": None,
            "url": f"{self.url}/c/pay/{sid}"})
        self.sessions[sid] = session
        return web.json_response(session)

    async def pay_page(self, request: web.Request) -> web.Response:
        session = self.sessions[request.match_info["id"]]
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        return web.Response(content_type="text/html", text=(
            "<!doctype html><title>Fake Stripe Checkout</title><link rel=icon href=\"data:,\"><body style='font:20px sans-serif;padding:40px'>"
            f"<h1>Fake Stripe Checkout</h1><p id=amount>{html.escape(amount)}</p>"
            f"<form method=post><button id=pay>Pay</button></form>"))

    async def pay(self, request: web.Request) -> web.Response:
        session = self.sessions[request.match_info["id"]]
        session.update({"payment_status": "paid", "status": "complete",
                        "payment_intent": "pi_" + secrets.token_hex(12),
                        "customer_details": {"address": {"country": "FR"}, "email": "card.holder@example.com",
                                             "name": "Card Holder", "phone": None, "tax_exempt": "none",
                                             "tax_ids": []}})
        status = await self.deliver(self.completed_event(session))
        assert status == 200, status
        raise web.HTTPSeeOther(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]))

    def completed_event(self, session: dict[str, Any]) -> dict[str, Any]:
        event = json.loads(SESSION_FIXTURE.read_text())
        event.update({"id": "evt_" + secrets.token_hex(12), "created": int(time.time())})
        event["data"]["object"] = copy.deepcopy(session)
        return event

    async def deliver(self, event: dict[str, Any]) -> int:
        raw = json.dumps(event, ensure_ascii=False).encode()
        async with aiohttp.ClientSession() as http, http.post(
                self.webhook_url, data=raw, headers=stripe_headers(raw, self.webhook_secret, int(time.time()))) as r:
            return r.status


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response({"error": {"type": kind, "message": message}}, status=status)

"""donate_page.mode: stripe, over HTTP on both stores: the form opens a Checkout Session on a
local fake of Stripe (tests/fake_stripe.py), and the signed checkout.session.completed
webhook books the donation with the donor's words from the session's metadata."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from overlay.config import ConfigError, parse_config
from overlay.intake import stripe_metadata
from tests.fake_stripe import FakeStripe
from tests.support import channel_dict
from tests.test_donate import donations, submit
from tests.unit.test_incentives_domain import INCENTIVES

API_KEY = "sk_test_fake_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_checkout_3b9e1f"


@pytest.fixture
async def fake_stripe(aiohttp_server: Any) -> FakeStripe:
    fake = FakeStripe(API_KEY, WEBHOOK_SECRET)
    fake.url = str((await aiohttp_server(fake.app, host="127.0.0.1")).make_url("")).rstrip("/")
    return fake


def stripe_channel(fake: FakeStripe) -> dict[str, Any]:
    return {"donate_page": {"mode": "stripe"},
            "webhooks": {"stripe": {"secret": WEBHOOK_SECRET, "api_key": API_KEY, "api_base": fake.url}}}


@pytest.fixture
async def shop(make_server: Any, backend: str, fake_stripe: FakeStripe) -> Any:
    server = await make_server(backend, **stripe_channel(fake_stripe))
    fake_stripe.webhook_url = f"{server.url}/webhooks/demo/stripe"
    return server


async def checkout(server: Any, fake: FakeStripe, **fields: Any) -> dict[str, Any]:
    """Send the donate form; the Checkout Session it opened."""
    status, _, headers = await submit(server, **fields)
    assert status == 303
    sid = headers["Location"].rsplit("/", 1)[1]
    assert headers["Location"] == f"{fake.url}/c/pay/{sid}"
    return fake.sessions[sid]


async def pay(server: Any, fake: FakeStripe, session: dict[str, Any]) -> str:
    """The donor pays on the (fake) Stripe page: the webhook is delivered, the donor sent back."""
    async with server.http.post(f"{fake.url}/c/pay/{session['id']}", allow_redirects=False) as r:
        assert r.status == 303
        return r.headers["Location"]


async def test_the_form_opens_checkout_and_the_paid_session_plays_the_alert(shop: Any, fake_stripe: FakeStripe) -> None:
    overlay = await shop.listen()
    await overlay.wait_for("state")
    session = await checkout(shop, fake_stripe, amount="20.00", donor_name="Léa", message="Allez !")
    [sent] = fake_stripe.requests
    item = sent["params"]["line_items"][0]
    assert (item["price_data"]["unit_amount"], item["price_data"]["currency"], item["quantity"]) == ("2000", "eur", "1")
    assert sent["params"]["metadata"] == {"overlay_channel": "demo", "anonymous": "false", "donor_name": "Léa",
                                          "message": "Allez !"}
    assert sent["params"]["mode"] == "payment" and sent["idempotency_key"]
    assert sent["params"]["cancel_url"] == "http://127.0.0.1:8080/donate/demo?lang=fr"
    assert sent["params"]["success_url"].startswith("http://127.0.0.1:8080/donate/demo/thanks?lang=fr&paid=1")
    assert [d for d in await donations(shop) if d["source"] == "stripe"] == []  # nothing until paid

    back = await pay(shop, fake_stripe, session)
    assert parse_qs(urlsplit(back).query)["session_id"] == [session["id"]]
    play = await overlay.wait_for("alert", lambda e: e["action"] == "play")
    d = play["donation"]
    # The donor's own name and words, not the card holder's name.
    assert (d["amount"], d["donor_name"], d["message"], d["source"]) == ("20.00", "Léa", "Allez !", "stripe")
    assert d["external_id"] == fake_stripe.sessions[session["id"]]["payment_intent"]
    # Stripe delivers at least once: the same event again counts nothing.
    assert await fake_stripe.deliver(fake_stripe.completed_event(fake_stripe.sessions[session["id"]])) == 200
    assert len([x for x in await donations(shop) if x["source"] == "stripe"]) == 1


async def test_anonymous_donor_stays_anonymous_even_with_a_card_name(shop: Any, fake_stripe: FakeStripe) -> None:
    session = await checkout(shop, fake_stripe, amount="5.00", donor_name="Hidden", anonymous="on")
    assert session["metadata"]["anonymous"] == "true" and "donor_name" not in session["metadata"]
    await pay(shop, fake_stripe, session)
    [booked] = [d for d in await donations(shop) if d["source"] == "stripe"]
    assert booked["donor_name"] is None and booked["amount"] == "5.00"


async def test_the_display_choice_travels_with_the_payment(shop: Any, fake_stripe: FakeStripe) -> None:
    overlay = await shop.listen()
    await overlay.wait_for("state")
    session = await checkout(shop, fake_stripe, amount="8.00", donor_name="Léa Martin", display_name="alias",
                             alias="La Fée", show_amount="0")
    assert {k: session["metadata"].get(k) for k in ("display_name", "alias", "show_amount")} == \
        {"display_name": "alias", "alias": "La Fée", "show_amount": "false"}
    await pay(shop, fake_stripe, session)
    ev = await overlay.wait_for("donation", lambda e: e["donation"]["source"] == "stripe")
    assert (ev["donation"]["donor_name"], ev["donation"]["amount"]) == ("La Fée", None)
    [booked] = [d for d in await donations(shop) if d["source"] == "stripe"]
    assert (booked["donor_name"], booked["amount"], booked["display_name"]) == ("Léa Martin", "8.00", "alias")


async def test_a_session_from_another_channels_page_is_not_booked_here(shop: Any, fake_stripe: FakeStripe) -> None:
    session = await checkout(shop, fake_stripe, amount="5.00")
    elsewhere = copy.deepcopy(session)
    elsewhere.update(payment_status="paid", payment_intent="pi_elsewhere", metadata={"overlay_channel": "another"})
    assert await fake_stripe.deliver(fake_stripe.completed_event(elsewhere)) == 200
    assert [d for d in await donations(shop) if d["source"] == "stripe"] == []


async def test_stripe_down_tells_the_donor_and_stores_nothing(shop: Any, fake_stripe: FakeStripe) -> None:
    fake_stripe.down = True
    status, html, _ = await submit(shop, amount="10.00", donor_name="Léa")
    assert status == 502
    assert "Paiement indisponible" in html and "débité" in html
    assert await donations(shop) == []


def test_long_messages_and_incentives_survive_the_metadata_limits() -> None:
    donor = stripe_metadata.CheckoutDonor("demo", "Zoé", "é" * 1234, {"id": "game", "option": "hades"})
    meta = stripe_metadata.encode(donor)
    assert all(len(v) <= 500 for v in meta.values()) and len(meta) <= 50
    assert stripe_metadata.decode(meta) == donor
    assert stripe_metadata.decode({}) is None and stripe_metadata.decode(None) is None
    chosen = stripe_metadata.CheckoutDonor("demo", "Zoé Roy", None, None, "alias", "Zed", False)
    assert stripe_metadata.decode(stripe_metadata.encode(chosen)) == chosen
    # A choice that no longer reads well (an alias lost) shows less, never more.
    assert stripe_metadata.decode({**stripe_metadata.encode(chosen), "alias": " "}).display_name == "anonymous"


def _config(tmp_path: Path, env: dict[str, str], **channel: Any) -> Any:
    return parse_config({"storage": {"data_dir": str(tmp_path)}, "channels": [channel_dict(**channel)]}, env=env)


def test_config_needs_the_webhook_and_an_api_key_for_stripe_mode(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        _config(tmp_path, {}, donate_page={"mode": "stripe"})
    assert exc.value.problems == [
        "channels[0].donate_page.mode: stripe needs webhooks.stripe (its secret books the payments)"]
    hook = {"stripe": {"secret": WEBHOOK_SECRET}}
    with pytest.raises(ConfigError) as exc:
        _config(tmp_path, {}, donate_page={"mode": "stripe"}, webhooks=hook)
    assert exc.value.problems == ["channels[0].webhooks.stripe.api_key: is required by donate_page.mode stripe "
                                  "(or set STRIPE_API_KEY in the environment)"]
    assert _config(tmp_path, {"STRIPE_API_KEY": API_KEY}, donate_page={"mode": "stripe"}, webhooks=hook)


@pytest.fixture
async def shop_with_poll(make_server: Any, backend: str, fake_stripe: FakeStripe) -> Any:
    server = await make_server(backend, incentives=INCENTIVES, **stripe_channel(fake_stripe))
    fake_stripe.webhook_url = f"{server.url}/webhooks/demo/stripe"
    return server


async def test_the_chosen_option_travels_through_checkout_and_is_booked(shop_with_poll: Any,
                                                                       fake_stripe: FakeStripe) -> None:
    session = await checkout(shop_with_poll, fake_stripe, amount="8.00", incentive="game:hades")
    assert (session["metadata"]["incentive_id"], session["metadata"]["incentive_option"]) == ("game", "hades")
    await pay(shop_with_poll, fake_stripe, session)
    [booked] = [d for d in await donations(shop_with_poll) if d["source"] == "stripe"]
    assert (booked["incentive"]["id"], booked["incentive"]["option"]) == ("game", "hades")


async def test_a_closed_poll_is_refused_on_the_form_before_the_donor_pays(shop_with_poll: Any,
                                                                         fake_stripe: FakeStripe) -> None:
    status, body = await shop_with_poll.request("PATCH", "/api/v1/channels/demo/incentives/game", json={"open": False})
    assert status == 200, body
    status, html, _ = await submit(shop_with_poll, amount="8.00", incentive="game:hades")
    assert status == 409 and "<form" in html
    assert fake_stripe.requests == [] and await donations(shop_with_poll) == []


async def test_a_poll_closed_while_the_donor_pays_still_books_the_money(shop_with_poll: Any,
                                                                       fake_stripe: FakeStripe) -> None:
    session = await checkout(shop_with_poll, fake_stripe, amount="8.00", incentive="game:hades")
    status, body = await shop_with_poll.request("PATCH", "/api/v1/channels/demo/incentives/game", json={"open": False})
    assert status == 200, body
    await pay(shop_with_poll, fake_stripe, session)
    [booked] = [d for d in await donations(shop_with_poll) if d["source"] == "stripe"]
    assert booked["amount"] == "8.00" and booked.get("incentive") is None

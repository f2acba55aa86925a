"""donate_page.mode: stripe in a real Chromium: the donor fills the form on a phone, lands on
(a local fake of) Stripe Checkout, pays, comes back to our thank-you page, and the alert plays
on the streamer's overlay."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from overlay.app import create_app
from tests.browser.conftest import screenshot_path
from tests.browser.test_donate_page import PHONE
from tests.browser.test_widgets import ALERT_NAME, CONNECTED
from tests.support import OVERLAY_KEY, free_port, make_config
from tests.test_stripe_checkout import fake_stripe, stripe_channel  # noqa: F401 - the fixture


@pytest.mark.parametrize("backend", ["embedded", "redis"])
async def test_a_donor_pays_on_checkout_and_the_alert_plays(
        aiohttp_server: Any, fake_stripe: Any, new_page: Any, tmp_path: Path,  # noqa: F811
        request: pytest.FixtureRequest, backend: str) -> None:
    port = free_port()  # the success and cancel URLs carry server.public_url: it must be this server
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    config = make_config(tmp_path / "data", redis_url, port=port, **stripe_channel(fake_stripe),
                         alerts={"min_amount": "1.00", "duration_ms": 120_000, "gap_ms": 200})
    server = await aiohttp_server(create_app(config), host="127.0.0.1", port=port)
    url = str(server.make_url("")).rstrip("/")
    fake_stripe.webhook_url = f"{url}/webhooks/demo/stripe"

    overlay, overlay_log = await new_page(url)
    await overlay.goto(f"{url}/overlay/demo/alert?key={OVERLAY_KEY}")
    await overlay.wait_for_function(CONNECTED)

    donor, donor_log = await new_page(url, **PHONE)
    assert (await donor.goto(f"{url}/donate/demo")).status == 200
    assert "page sécurisée de Stripe" in await donor.text_content("main")
    await donor.locator("label.preset", has_text="20").click()
    await donor.fill("#donor-name", "Léa")
    await donor.fill("#message", "Pour les Restos <3")
    await donor.screenshot(path=screenshot_path("donate-stripe-form"), full_page=True)
    async with donor.expect_navigation(url=f"{fake_stripe.url}/c/pay/**"):
        await donor.locator("button.give").click()
    assert await donor.text_content("#amount") == "20.00 EUR"
    await donor.screenshot(path=screenshot_path("donate-stripe-checkout"))

    async with donor.expect_navigation(url=f"{url}/donate/demo/thanks**"):
        await donor.click("#pay")
    assert await donor.text_content(".thanks-line") == (
        "Votre paiement est accepté : votre don s'affiche en direct dans quelques instants.")
    await donor.screenshot(path=screenshot_path("donate-stripe-thanks"), full_page=True)

    await overlay.wait_for_function(ALERT_NAME, arg={"name": "Léa"})
    assert await overlay.text_content(".w-alert [data-role=message]") == "Pour les Restos <3"
    await overlay.screenshot(path=screenshot_path("donate-stripe-alert"))
    overlay_log.assert_clean()
    # The donor's browser went to Stripe (here its fake) and nowhere else.
    assert {urlparse(u).netloc for u in donor_log.outside_requests} == {urlparse(fake_stripe.url).netloc}
    donor_log.outside_requests.clear()
    donor_log.assert_clean()

"""Integration health, "Send test event" and the Twitch subscription command, end to end.

The real server on both backends; the platforms' deliveries signed as they sign them
(tests/webhook_signing.py), and fakes of the platforms' own servers only.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from overlay.web.integrations import _health
from tests.webhook_signing import generic_headers
from tests.test_webhooks_e2e import GENERIC_SECRET, WEBHOOKS

TWITCH = {"secret": "eventsub-s3cret-0f3c9a"}
ALL = {**WEBHOOKS, "twitch": TWITCH}
INTEGRATIONS = "/api/v1/channels/demo/integrations"


def by_provider(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["provider"]: i for i in answer["integrations"]}


async def health(server: Any) -> dict[str, dict[str, Any]]:
    status, answer = await server.request("GET", INTEGRATIONS)
    assert status == 200, answer
    return {p: i["health"] for p, i in by_provider(answer).items()}


async def send_generic(server: Any, payload: dict[str, Any], secret: str = GENERIC_SECRET) -> tuple[int, Any]:
    raw = json.dumps(payload).encode()
    return await server.post("/webhooks/demo/generic", data=raw, headers=generic_headers(raw, secret))


async def test_deliveries_are_counted_by_outcome_in_the_store_and_in_metrics(make_server: Any, backend: str) -> None:
    server = await make_server(backend, webhooks=ALL)
    before = await health(server)
    assert before["generic"] == {"last_delivery": None, "accepted": 0, "refused": 0, "failed": 0,
                                 "silence_warning_min": None, "silent": False}
    assert before["tiltify"]["silence_warning_min"] == 30
    assert (await send_generic(server, {"external_id": "h-1", "amount": "3.00"}))[0] == 200
    assert (await send_generic(server, {"external_id": "h-1", "amount": "3.00"}))[0] == 200  # a duplicate
    assert (await send_generic(server, {"external_id": "h-2", "amount": "3.00"}, "wrong-secret"))[0] == 401
    assert (await send_generic(server, {"external_id": "h-3", "amount": "3.00", "currency": "JPY"}))[0] == 422
    # An unknown provider or channel creates no counter.
    assert (await server.post("/webhooks/demo/paypal", data=b"{}", headers={}))[0] == 404
    after = await health(server)
    assert {k: after["generic"][k] for k in ("accepted", "refused", "failed")} == \
        {"accepted": 2, "refused": 2, "failed": 0}
    assert after["generic"]["last_delivery"] is not None and "paypal" not in after
    assert after["kofi"]["last_delivery"] is None

    async with server.http.get(server.url + "/metrics") as r:
        text = await r.text()
    assert 'overlay_integration_deliveries_total{channel="demo",outcome="refused",provider="generic"}' in text
    assert 'overlay_integration_last_delivery_timestamp_seconds{channel="demo",provider="generic"}' in text


async def test_two_servers_on_one_redis_share_the_counts(make_server: Any) -> None:
    first = await make_server("redis", webhooks=ALL)
    second = await make_server("redis", data_dir=None, webhooks=ALL)
    assert (await send_generic(first, {"external_id": "s-1", "amount": "1.00"}))[0] in (200, 201)
    assert (await send_generic(second, {"external_id": "s-2", "amount": "1.00"}, "bad"))[0] == 401
    for server in (first, second):
        seen = (await health(server))["generic"]
        assert (seen["accepted"], seen["refused"]) == (1, 1)


def test_silence_is_warned_only_after_recent_deliveries_and_past_the_interval() -> None:
    class Cfg:
        silence_warning_min = 30
    now = 10 * 3_600_000
    assert _health({"last_ms": now - 31 * 60_000}, Cfg, now)["silent"] is True
    assert _health({"last_ms": now - 29 * 60_000}, Cfg, now)["silent"] is False
    assert _health({"last_ms": now - 7 * 3_600_000}, Cfg, now)["silent"] is False  # an old integration
    assert _health(None, Cfg, now)["silent"] is False  # never delivered
    Cfg.silence_warning_min = None
    assert _health({"last_ms": now - 31 * 60_000}, Cfg, now)["silent"] is False


@pytest.mark.parametrize("provider", ["tiltify", "kofi", "stripe", "generic", "twitch"])
async def test_send_test_event_goes_through_the_route_and_plays_an_uncounted_alert(
        make_server: Any, backend: str, provider: str) -> None:
    server = await make_server(backend, webhooks=ALL)
    overlay = await server.listen()
    state = await overlay.wait_for("state")
    status, result = await server.post(f"{INTEGRATIONS}/{provider}/test")
    assert status == 200, result
    assert result["ok"] is True and result["status"] in (200, 201), result
    assert result["external_id"].startswith("overlay-test-")
    d = (await overlay.wait_for("donation"))["donation"]
    assert (d["external_id"], d["test"], d["amount"]) == (result["external_id"], True, "5.00")
    await overlay.wait_for("alert")
    # It never counts: the totals are the same, and the health does not show it.
    _, now = await server.request("GET", "/api/v1/channels/demo/state")
    assert now["campaign"]["raised"] == state["campaign"]["raised"]
    assert (await health(server))[provider]["accepted"] == 0


async def test_send_test_event_reports_what_the_route_refused(make_server: Any) -> None:
    server = await make_server("embedded", webhooks=ALL)
    # No fx rate for JPY on this channel: Tiltify's route answers 200 with the refusal.
    status, result = await server.post(f"{INTEGRATIONS}/tiltify/test?currency=JPY")
    assert status == 200 and result["ok"] is False and result["status"] == 200
    assert "refused" in result["answer"]
    status, result = await server.post(f"{INTEGRATIONS}/generic/test?currency=JPY")
    assert status == 200 and result["ok"] is False and result["status"] == 422
    unconfigured = await make_server("embedded", webhooks={"generic": {"secret": GENERIC_SECRET}})
    status, answer = await unconfigured.post(f"{INTEGRATIONS}/kofi/test")
    assert status == 404 and answer["error"]["code"] == "provider_not_configured"
    status, answer = await unconfigured.post(f"{INTEGRATIONS}/generic/test", headers={})
    assert status in (401, 403)

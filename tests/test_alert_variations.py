"""Alert variations (docs/editor.md, docs/api.md): config.yaml's and the run-time list, the
``play`` event's ``variation``, the moderators' event, and refusals, on both stores."""
from __future__ import annotations

from typing import Any

VARIATIONS = "/api/v1/channels/demo/alerts/variations"
ALERTS = {"min_amount": "1.00", "duration_ms": 1000, "gap_ms": 100}
CONFIGURED = [{"id": "big", "when": {"min_amount": "50"}, "image": "big.png"}]


def play_of(overlay: Any, donation: dict[str, Any]) -> Any:
    return overlay.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["id"] == donation["id"])


async def test_config_then_run_time_variations_reach_every_overlay(make_server: Any, backend: str) -> None:
    server = await make_server(backend, alerts={**ALERTS, "variations": CONFIGURED}, match=None)
    dashboard = await server.listen("/dashboard")
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    status, got = await server.request("GET", VARIATIONS)
    assert status == 200 and got["changed"] is False and got["variations"] == got["config"]
    assert got["variations"][0]["when"]["min_amount"] == "50.00"
    big = await server.donate(amount="60.00", donor_name="Ann")
    assert (await play_of(overlay, big))["variation"] == {"id": "big", "image": "big.png"}

    body = {"variations": [
        {"id": "first", "when": {"donor": "first", "max_amount": "20"}, "text": "Welcome {name}! {amount}",
         "sound": "hello.mp3", "layout": "slide"},
        {"id": "tests", "when": {"test": True}, "duration_ms": 2500, "tts": False}]}
    status, got = await server.request("PUT", VARIATIONS, json=body)
    assert status == 200 and got["changed"] is True, got
    ev = await dashboard.wait_for("alert_variations")
    assert ev["alert_variations"] == got
    bob = await server.donate(amount="5.00", donor_name="Bob")
    again = await server.donate(amount="5.00", donor_name="BOB")
    test = await server.donate(amount="5.00", donor_name="Bob", test=True)
    assert (await play_of(overlay, bob))["variation"] == {
        "id": "first", "text": "Welcome {name}! {amount}", "sound": "hello.mp3", "layout": "slide"}
    assert "variation" not in await play_of(overlay, again)  # Bob, case aside, gave before
    test_play = await play_of(overlay, test)
    assert test_play["variation"] == {"id": "tests", "duration_ms": 2500, "tts": False}
    assert test_play["duration_ms"] == 2500

    status, got = await server.request("DELETE", VARIATIONS)
    assert status == 200 and got["changed"] is False and got["variations"][0]["id"] == "big"


async def test_a_variation_that_can_never_match_is_a_422_naming_the_field(make_server: Any, backend: str) -> None:
    server = await make_server(backend, alerts={**ALERTS, "variations": CONFIGURED})
    cases = [({"id": "x", "when": {"min_amount": "10", "max_amount": "5"}}, "variations[0].when.min_amount"),
             ({"id": "x", "when": {"incentive": "nope"}}, "variations[0].when.incentive"),
             ({"id": "x", "when": {"weight": 0}}, "variations[0].when.weight")]
    for variation, field in cases:
        status, got = await server.request("PUT", VARIATIONS, json={"variations": [variation]})
        assert status == 422 and got["error"]["message"].startswith(field), got
    status, got = await server.request("PUT", VARIATIONS, json={"variations": [{"id": "all"}, {"id": "x", "image": "a.png"}]})
    assert status == 422 and got["error"]["code"] == "unreachable_variation"
    assert got["error"]["message"].startswith("variations[1]")
    status, got = await server.request("PUT", VARIATIONS, json={"variations": [{"id": "x", "colour": "red"}]})
    assert status == 422
    # Nothing stored was lost: config.yaml's list still applies.
    status, got = await server.request("GET", VARIATIONS)
    assert status == 200 and got["changed"] is False and got["variations"][0]["id"] == "big"
    status, _ = await server.request("GET", VARIATIONS, headers={"Authorization": "Bearer nobody-at-all"})
    assert status == 401

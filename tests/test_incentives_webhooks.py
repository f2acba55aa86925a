"""A donation's incentive through the generic webhook (its ``incentive`` field) and Tiltify v5
(``poll_option_id`` / ``target_id`` / ``reward_id`` of its real payload), on both backends."""
from __future__ import annotations

from typing import Any

from tests.test_incentives_api import incentive
from tests.test_webhooks_e2e import WEBHOOKS, deliver, fixture, generic, tiltify

TILTIFY_OPTION = "7c1e0d2a-3b4f-4a5e-8f6a-9b0c1d2e3f4a"
POLL = {"id": "game", "kind": "poll", "title": "Next game",
        "options": [{"id": "celeste", "label": "Celeste"}, {"id": "hades", "label": "Hades", "tiltify_id": TILTIFY_OPTION}]}


async def test_generic_webhook_books_its_incentive_and_refuses_a_bad_one(make_server: Any, backend: str) -> None:
    server = await make_server(backend, webhooks=WEBHOOKS, match=None, incentives=[POLL])
    payload = fixture("generic_donation.json") | {"incentive": {"id": "game", "option": "celeste"}}
    status, answer = await deliver(server, "generic", generic(payload))
    assert status == 200 and answer["duplicate"] is False
    assert (await incentive(server, "game"))["options"][0]["total"] == "10.00"
    bad = payload | {"external_id": "order-2", "incentive": {"id": "game", "option": "zelda"}}
    status, answer = await deliver(server, "generic", generic(bad))
    assert (status, answer["error"]["code"]) == (422, "invalid_incentive_option")
    assert "zelda" in answer["error"]["message"] or "option" in answer["error"]["message"]


async def test_tiltify_poll_option_id_maps_to_our_option(make_server: Any, backend: str) -> None:
    server = await make_server(backend, webhooks=WEBHOOKS, match=None, incentives=[POLL])
    payload = fixture("tiltify_donation_updated.json")
    payload["data"] |= {"poll_option_id": TILTIFY_OPTION, "poll_id": "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a"}
    status, answer = await deliver(server, "tiltify", tiltify(payload))
    assert status == 200, answer
    poll = await incentive(server, "game")
    assert poll["options"][1]["total"] == "23.00" and poll["leader"] == "hades"  # 25 USD at 0.92
    # An id we do not know still books the money (Tiltify was paid), without an incentive.
    other = fixture("tiltify_donation_updated.json")
    other["data"] |= {"id": "6a2b3c4d-0000-4b6c-9d0e-1a2b3c4d5e6f", "target_id": "ffffffff-0000-4000-8000-000000000000"}
    status, answer = await deliver(server, "tiltify", tiltify(other))
    assert status == 200 and answer["donation_id"]
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["campaign"]["raised"] == "46.00" and (await incentive(server, "game"))["total"] == "23.00"

"""POST /api/v1/channels/{ch}/overlays/reload: a moderator makes the open overlay pages load
themselves again. Checked here as clients see it (Socket.IO), on both backends; the pages
themselves reloading are checked in Chromium (tests/browser/test_overlay_reload.py)."""
from __future__ import annotations

from typing import Any

from tests.support import OVERLAY_KEY

RELOAD = "/api/v1/channels/demo/overlays/reload"


async def test_reload_reaches_overlays_in_order_with_its_seq(server: Any) -> None:
    overlay = await server.listen()
    await overlay.wait_for("state")
    status, body = await server.post(RELOAD, {"widget": "goal"})
    assert status == 200, body
    assert body == {"ok": True, "seq": body["seq"], "widget": "goal"}
    assert (await overlay.wait_for("reload")) == {"seq": body["seq"], "widget": "goal"}

    status, every = await server.post(RELOAD)  # no body: every page
    assert status == 200 and every["widget"] is None and every["seq"] > body["seq"]
    assert (await overlay.wait_for("reload", lambda d: d["seq"] == every["seq"])) == {"seq": every["seq"]}


async def test_a_client_that_catches_up_gets_the_reload_it_missed(server: Any) -> None:
    first = await server.listen()
    state = await first.wait_for("state")
    await first.close()
    status, body = await server.post(RELOAD, {"widget": "alert"})
    assert status == 200
    back = await server.listen(channel="demo", key=OVERLAY_KEY, last_seq=state["seq"])
    assert (await back.wait_for("reload"))["seq"] == body["seq"]


async def test_reload_refuses_an_unknown_widget_and_readers(server: Any) -> None:
    overlay = await server.listen()
    await overlay.wait_for("state")
    status, body = await server.post(RELOAD, {"widget": "nope"})
    assert status == 422 and body["error"]["code"] == "invalid_widget", body
    status, body = await server.post(RELOAD, {"widget": "goal", "extra": 1})
    assert status == 422 and body["error"]["code"] == "unknown_field"
    status, body = await server.post(RELOAD, headers={"Authorization": f"Bearer {OVERLAY_KEY}"})
    assert status in (401, 403) and "error" in body
    # Nothing was logged by the refusals: the next event the overlay sees is a donation.
    await server.donate(amount="5.00", donor_name="After")
    await overlay.wait_for("donation")
    assert overlay.of("reload") == []

"""Incentives through the HTTP API and Socket.IO (API.md §7), on both backends."""
from __future__ import annotations

from typing import Any

from tests.pledging import HTML, form_token
from tests.support import OVERLAY_KEY
from tests.unit.test_incentives_domain import INCENTIVES

BASE = "/api/v1/channels/demo"


async def incentive(server: Any, incentive_id: str) -> dict[str, Any]:
    status, body = await server.request("GET", f"{BASE}/incentives", headers={}, params={"key": OVERLAY_KEY})
    assert status == 200, body
    return next(i for i in body if i["id"] == incentive_id)


async def test_a_donation_books_its_option_and_the_overlay_hears_it(make_server: Any, backend: str) -> None:
    server = await make_server(backend, incentives=INCENTIVES)
    overlay = await server.listen()
    snap = await overlay.wait_for("state")
    assert [i["id"] for i in snap["incentives"]] == ["hair", "game", "shout"]

    d = await server.donate(amount="10.00", donor_name="Ana", incentive={"id": "game", "option": "hades"})
    assert d["incentive"] == {"id": "game", "kind": "poll", "title": "Next game", "option": "hades", "label": "Hades"}
    ev = await overlay.wait_for("incentive", lambda e: e["incentive"]["id"] == "game")
    assert ev["seq"] > d["seq"] and ev["incentive"]["leader"] == "hades"
    assert ev["incentive"]["options"][1]["total"] == "20.00"  # matched money follows the choice
    alert = await overlay.wait_for("alert", lambda e: e["action"] == "play")
    assert alert["donation"]["incentive"]["label"] == "Hades"

    reached = await server.donate(amount="15.00", incentive={"id": "hair"})
    ev = await overlay.wait_for("incentive", lambda e: e.get("reached"))
    assert ev["incentive"]["id"] == "hair" and ev["incentive"]["total"] == "30.00"

    status, _ = await server.post(f"{BASE}/donations/{reached['id']}/refund")
    assert status == 200
    await overlay.wait_for("incentive", lambda e: e["incentive"]["id"] == "hair" and e["incentive"]["total"] == "0.00")
    assert (await incentive(server, "hair"))["reached"] is True


async def test_bad_choices_are_clear_4xx_and_nothing_is_stored(make_server: Any, backend: str) -> None:
    server = await make_server(backend, incentives=INCENTIVES)
    cases = [({"id": "nope"}, 422, "unknown_incentive"), ({"id": "game"}, 422, "invalid_incentive_option"),
             ({"id": "game", "option": "zelda"}, 422, "invalid_incentive_option"),
             ({"id": "shout"}, 422, "below_reward_minimum"), ([1], 422, "invalid_incentive")]
    for choice, status, code in cases:
        got, body = await server.post(f"{BASE}/donations", {"amount": "5.00", "incentive": choice})
        assert (got, body["error"]["code"]) == (status, code), (choice, body)
    status, body = await server.request("PATCH", f"{BASE}/incentives/game", json={"open": False})
    assert status == 200 and body["open"] is False
    got, body = await server.post(f"{BASE}/donations", {"amount": "5.00", "incentive": {"id": "game", "option": "hades"}})
    assert (got, body["error"]["code"]) == (409, "incentive_closed") and "closed" in body["error"]["message"]
    status, body = await server.request("GET", f"{BASE}/donations")
    assert body["donations"] == []


async def test_moderators_create_edit_close_reopen_move_and_remove(make_server: Any, backend: str) -> None:
    server = await make_server(backend)
    poll = {"id": "boss", "kind": "poll", "title": "Kill or save",
            "options": [{"id": "kill", "label": "Kill"}, {"id": "save", "label": "Save"}]}
    status, body = await server.post(f"{BASE}/incentives", poll, headers={})
    assert status == 401
    status, body = await server.post(f"{BASE}/incentives", poll)
    assert status == 201 and body["open"] is True and body["total"] == "0.00"
    status, body = await server.post(f"{BASE}/incentives", poll)
    assert (status, body["error"]["code"]) == (409, "incentive_exists")
    status, body = await server.post(f"{BASE}/incentives", {**poll, "id": "b2", "options": [{"id": "x", "label": "X"}]})
    assert (status, body["error"]["code"]) == (422, "invalid_incentive")
    status, body = await server.post(f"{BASE}/incentives", {"id": "t", "kind": "target", "title": "T"})
    assert (status, body["error"]["code"]) == (422, "invalid_incentive") and "amount" in body["error"]["message"]

    d = await server.donate(amount="4.00", incentive={"id": "boss", "option": "kill"})
    status, moved = await server.post(f"{BASE}/donations/{d['id']}/incentive", {"id": "boss", "option": "save"})
    assert status == 200 and moved["incentive"]["option"] == "save"
    after = await incentive(server, "boss")
    assert [o["total"] for o in after["options"]] == ["0.00", "8.00"]

    status, body = await server.request("PATCH", f"{BASE}/incentives/boss", json={"open": False, "title": "Fate"})
    assert status == 200 and (body["winner"], body["title"], body["open"]) == ("save", "Fate", False)
    status, body = await server.request("PATCH", f"{BASE}/incentives/boss", json={"open": True})
    assert body["winner"] is None and body["options"][1]["total"] == "8.00"
    status, body = await server.request("DELETE", f"{BASE}/incentives/boss")
    assert status == 200
    status, body = await server.request("DELETE", f"{BASE}/incentives/boss")
    assert (status, body["error"]["code"]) == (404, "incentive_not_found")


async def test_rewards_to_fulfil_are_listed_and_ticked(make_server: Any, backend: str) -> None:
    server = await make_server(backend, incentives=INCENTIVES)
    d = await server.donate(amount="25.00", donor_name="Zoé", incentive={"id": "shout"})
    status, body = await server.request("GET", f"{BASE}/rewards")
    assert status == 200 and [(r["donation"]["id"], r["fulfilled"]) for r in body["rewards"]] == [(d["id"], False)]
    status, body = await server.post(f"{BASE}/donations/{d['id']}/reward", {"fulfilled": True})
    assert status == 200 and body["incentive"]["fulfilled"] is True
    status, body = await server.request("GET", f"{BASE}/rewards")
    assert body["rewards"][0]["fulfilled"] is True
    status, body = await server.post(f"{BASE}/donations/{d['id']}/reward", {"fulfilled": "yes"})
    assert status == 422


async def test_incentives_survive_a_restart_and_are_shared_across_processes(make_server: Any, backend: str,
                                                                            tmp_path: Any) -> None:
    first = await make_server(backend, data_dir=tmp_path / "d", incentives=INCENTIVES)
    await first.donate(amount="5.00", incentive={"id": "game", "option": "celeste"})
    if backend == "redis":  # a second process on the same Redis sees the commit live
        second = await make_server(backend, data_dir=tmp_path / "e", incentives=INCENTIVES)
        overlay = await second.listen()
        await overlay.wait_for("state")
        await first.donate(amount="1.00", incentive={"id": "game", "option": "celeste"})
        await overlay.wait_for("incentive", lambda e: e["incentive"]["options"][0]["total"] == "12.00")
    else:
        second = await make_server(backend, data_dir=tmp_path / "d", incentives=INCENTIVES)
    assert (await incentive(second, "game"))["options"][0]["total"] == ("12.00" if backend == "redis" else "10.00")


async def test_milestones_are_edited_live_and_kept(make_server: Any, backend: str, tmp_path: Any) -> None:
    server = await make_server(backend, data_dir=tmp_path / "m", campaign={"title": "T", "goal": "1000.00",
                                                                          "milestones": ["100.00"]})
    overlay = await server.listen()
    snap = await overlay.wait_for("state")
    assert snap["campaign"]["milestones"] == ["100.00"]
    status, body = await server.request("PATCH", f"{BASE}/campaign", json={"milestones": ["500", "250.50"]})
    assert status == 200 and body["milestones"] == ["250.50", "500.00"]
    ev = await overlay.wait_for("progress", lambda e: e["campaign"]["milestones"] == ["250.50", "500.00"])
    assert ev["campaign"]["display"]["milestones"] == ["250,50\u00a0€", "500,00\u00a0€"]
    status, body = await server.request("PATCH", f"{BASE}/campaign", json={"milestones": ["1.001"]})
    assert (status, body["error"]["code"]) == (422, "invalid_milestones")
    again = await make_server(backend, data_dir=tmp_path / "m", campaign={"title": "T", "goal": "1000.00",
                                                                         "milestones": ["100.00"]})
    status, state = await again.request("GET", f"{BASE}/state")
    assert state["campaign"]["milestones"] == ["250.50", "500.00"]


async def test_a_reconnecting_overlay_replays_incentive_events(make_server: Any, backend: str) -> None:
    server = await make_server(backend, incentives=INCENTIVES)
    first = await server.listen()
    snap = await first.wait_for("state")
    await first.close()
    await server.donate(amount="2.00", incentive={"id": "game", "option": "celeste"})
    status, _ = await server.request("PATCH", f"{BASE}/incentives/hair", json={"title": "Pink hair"})
    assert status == 200
    again = await server.listen(channel="demo", key=OVERLAY_KEY, last_seq=snap["seq"])
    ev = await again.wait_for("incentive", lambda e: e["incentive"]["id"] == "hair")
    replayed = [d for name, d in again.events if name == "incentive"]
    assert [d["incentive"]["id"] for d in replayed] == ["game", "hair"] and ev["incentive"]["title"] == "Pink hair"
    assert [d["seq"] for d in replayed] == sorted(d["seq"] for d in replayed)


async def test_a_deleted_config_incentive_stays_deleted_after_a_restart(make_server: Any, backend: str,
                                                                        tmp_path: Any) -> None:
    first = await make_server(backend, data_dir=tmp_path / "x", incentives=INCENTIVES)
    status, _ = await first.request("DELETE", f"{BASE}/incentives/shout")
    assert status == 200
    again = await make_server(backend, data_dir=tmp_path / "x", incentives=INCENTIVES)
    status, body = await again.request("GET", f"{BASE}/incentives", headers={}, params={"key": OVERLAY_KEY})
    assert [i["id"] for i in body] == ["hair", "game"]
    status, body = await again.post(f"{BASE}/donations", {"amount": "30.00", "incentive": {"id": "shout"}})
    assert (status, body["error"]["code"]) == (422, "unknown_incentive")


async def test_hostile_bodies_get_clear_4xx(server: Any) -> None:
    bodies = [{"id": "x" * 100, "kind": "target", "title": "T", "amount": "5"},
              {"id": "t", "kind": "target", "title": "T", "amount": "5.001"},
              {"id": "t", "kind": "target", "title": "T", "amount": True},
              {"id": "t", "kind": "vote", "title": "T"},
              {"id": "r", "kind": "reward", "title": "R", "min_amount": "1", "quantity": 1.5},
              {"id": "p", "kind": "poll", "title": "P", "options": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]},
              {"id": "t", "kind": "target", "title": "\ud800", "amount": "5"}]
    for body in bodies:
        status, answer = await server.post(f"{BASE}/incentives", body)
        assert 400 <= status < 500 and answer["error"]["code"], (body, status, answer)
    for choice in [{"id": None}, {"id": "a", "option": 5}, {"id": "a", "extra": 1}, "a" * 10_000, 12, []]:
        status, answer = await server.post(f"{BASE}/donations", {"amount": "5.00", "incentive": choice})
        assert status == 422 and answer["error"]["code"] in ("invalid_incentive", "unknown_incentive"), (choice, answer)
    status, answer = await server.post(f"{BASE}/donations/{'d' * 80}/incentive", {"id": "x"})
    assert (status, answer["error"]["code"]) == (404, "donation_not_found")
    status, answer = await server.request("PATCH", f"{BASE}/incentives/nope", json={"title": "x"})
    assert (status, answer["error"]["code"]) == (404, "incentive_not_found")
    status, answer = await server.request("PATCH", f"{BASE}/incentives/nope", json={"kind": "poll"})
    assert status == 422


async def test_a_pledge_counts_toward_its_incentive_once_confirmed(make_server: Any, backend: str) -> None:
    server = await make_server(backend, incentives=INCENTIVES)
    fields = {"form_token": await form_token(server), "amount": "custom", "custom_amount": "4.00",
              "incentive": "game:hades"}
    async with server.http.post(server.url + "/donate/demo", data=fields, headers=HTML, allow_redirects=False) as r:
        assert r.status == 303, await r.text()
    status, body = await server.request("GET", f"{BASE}/donations")
    [pledged] = body["donations"]
    assert (pledged["status"], pledged["incentive"]["option"]) == ("pending", "hades")
    assert (await incentive(server, "game"))["total"] == "0.00"  # a promise counts nowhere
    status, _ = await server.request("PATCH", f"{BASE}/incentives/game", json={"open": False})
    status, confirmed = await server.post(f"{BASE}/donations/{pledged['id']}/confirm")
    assert status == 200 and confirmed["status"] == "approved"
    # Chosen while the poll was open: it counts there, matched part included.
    assert (await incentive(server, "game"))["options"][1]["total"] == "8.00"

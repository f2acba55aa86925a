"""Limits that hold when money is counted and under concurrency, on both stores.

Each limit is checked in the same atomic step as the write it limits: N concurrent requests
that would exceed it store exactly the limit, and the others get a clear 4xx JSON error.
"""
from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest

from overlay.domain import donations, incentive_ops
from overlay.domain.donations import DonationError, DonationInput
from overlay.domain.incentive_ops import MAX_INCENTIVES
from overlay.settings.incentives import INCENTIVE
from overlay.domain.state import ChannelState
from overlay.domain.presets import MAX_PER_WIDGET as MAX_PRESETS
from tests.pledging import HTML, form_token
from tests.test_incentives_api import incentive
from tests.unit.test_incentives_domain import INCENTIVES
from tests.test_media import FIXTURES, MEDIA, upload
from tests.support import make_config

BASE = "/api/v1/channels/demo"
# "game" with a third option, so that one can be removed (a poll keeps at least two).
POLL3 = [{**INCENTIVES[1], "options": [*INCENTIVES[1]["options"], {"id": "tunic", "label": "Tunic"}]},
         INCENTIVES[0], INCENTIVES[2]]
WITHOUT_HADES = {"options": [{"id": "celeste", "label": "Celeste"}, {"id": "tunic", "label": "Tunic"}]}


async def pledge_for(server: Any, amount: str, choice: str) -> str:
    """A pledge from the donate page that chose ``choice`` (``id`` or ``id:option``); its id."""
    fields = {"form_token": await form_token(server), "amount": "custom", "custom_amount": amount,
              "incentive": choice}
    async with server.http.post(server.url + "/donate/demo", data=fields, headers=HTML, allow_redirects=False) as r:
        assert r.status == 303, await r.text()
    status, body = await server.request("GET", f"{BASE}/donations")
    assert status == 200
    return next(d["id"] for d in body["donations"] if d["status"] == "pending" and d["amount"] == amount)


async def donation(server: Any, donation_id: str) -> dict[str, Any]:
    status, body = await server.request("GET", f"{BASE}/donations")
    assert status == 200
    return next(d for d in body["donations"] if d["id"] == donation_id)


def refused(status: int, body: Any, code: str) -> bool:
    return status == 409 and body["error"]["code"] == code and body["error"]["message"]


async def two_servers(make_server: Any, backend: str, **channel: Any) -> list[Any]:
    """One server; on Redis, a second one sharing it (its own writer, connection and memory, as
    another worker has), so that a limit must hold across them."""
    servers = [await make_server(backend, **channel)]
    if backend == "redis":
        other = servers[0].config.storage.data_dir.parent / "other"
        servers.append(await make_server(backend, data_dir=other, **channel))
    return servers


async def test_a_reward_is_never_claimed_more_than_its_quantity(make_server: Any, backend: str) -> None:
    server = await make_server(backend, incentives=INCENTIVES)  # "shout": quantity 1, from 25.00
    first = await pledge_for(server, "25.00", "shout")
    second = await pledge_for(server, "26.00", "shout")  # both promised while a claim was left
    status, body = await server.post(f"{BASE}/donations/{first}/confirm")
    assert status == 200 and body["status"] == "approved"
    status, body = await server.post(f"{BASE}/donations/{second}/confirm")
    assert refused(status, body, "reward_sold_out"), (status, body)
    assert "move" in body["error"]["message"]
    shout = await incentive(server, "shout")
    assert (shout["claimed"], shout["quantity"], shout["remaining"], shout["total"]) == (1, 1, 0, "50.00")
    left = await donation(server, second)  # nothing changed: still a pledge, counted nowhere
    assert (left["status"], left["incentive"]["id"]) == ("pending", "shout")
    status, snap = await server.request("GET", f"{BASE}/state")
    assert snap["campaign"]["count"] == 1
    # The moderator moves it elsewhere (the move checks the same limit), then counts it.
    status, body = await server.post(f"{BASE}/donations/{second}/incentive", {"id": "shout"})
    assert refused(status, body, "reward_sold_out"), (status, body)
    status, body = await server.post(f"{BASE}/donations/{second}/incentive", {"id": "hair"})
    assert status == 200, body
    assert (await server.post(f"{BASE}/donations/{second}/confirm"))[0] == 200
    assert (await incentive(server, "hair"))["total"] == "52.00"


async def test_a_poll_option_that_pledged_money_points_to_cannot_be_removed(make_server: Any, backend: str) -> None:
    server = await make_server(backend, incentives=POLL3)
    pledged = await pledge_for(server, "10.00", "game:hades")
    status, body = await server.request("PATCH", f"{BASE}/incentives/game", json=WITHOUT_HADES)
    assert refused(status, body, "option_has_donations"), (status, body)
    assert [o["id"] for o in (await incentive(server, "game"))["options"]] == ["celeste", "hades", "tunic"]

    status, _ = await server.post(f"{BASE}/donations/{pledged}/confirm")
    assert status == 200
    game = await incentive(server, "game")
    assert game["total"] == "20.00"  # the match doubled it
    assert sum(int(o["total"].replace(".", "")) for o in game["options"]) == 2000  # the bars add up


async def test_a_poll_option_is_removable_once_its_pledges_moved_or_were_rejected(make_server: Any,
                                                                                   backend: str) -> None:
    server = await make_server(backend, incentives=POLL3)
    moved = await pledge_for(server, "10.00", "game:hades")
    rejected = await pledge_for(server, "11.00", "game:hades")
    status, body = await server.post(f"{BASE}/donations/{moved}/incentive", {"id": "game", "option": "celeste"})
    assert status == 200 and body["incentive"]["option"] == "celeste"
    assert (await server.post(f"{BASE}/donations/{rejected}/reject"))[0] == 200
    status, body = await server.request("PATCH", f"{BASE}/incentives/game", json=WITHOUT_HADES)
    assert status == 200, body
    without_celeste = {"options": [{"id": "tunic", "label": "Tunic"}, {"id": "zelda", "label": "Zelda"}]}
    status, body = await server.request("PATCH", f"{BASE}/incentives/game", json=without_celeste)
    assert refused(status, body, "option_has_donations"), body  # the pledge moved there holds celeste
    assert (await server.post(f"{BASE}/donations/{moved}/confirm"))[0] == 200
    game = await incentive(server, "game")
    assert (game["total"], [o["total"] for o in game["options"]]) == ("20.00", ["20.00", "0.00"])


async def test_racing_preset_saves_store_exactly_the_limit(make_server: Any, backend: str) -> None:
    servers = await two_servers(make_server, backend)
    presets = f"{BASE}/widgets/alert/presets"
    answers = await asyncio.gather(*(servers[i % len(servers)].request("PUT", f"{presets}/p{i}", json={})
                                     for i in range(80)))
    assert sorted(status for status, _ in answers) == [201] * MAX_PRESETS + [409] * (80 - MAX_PRESETS)
    assert all(body["error"]["code"] == "too_many_presets" and "50" in body["error"]["message"]
               for status, body in answers if status == 409)
    for server in servers:
        status, listed = await server.request("GET", presets)
        assert status == 200 and len(listed["presets"]) == MAX_PRESETS
    # Saving one that exists still works at the limit; a new one after a delete fits again.
    saved = next(f"p{i}" for i, (status, _) in enumerate(answers) if status == 201)
    assert (await servers[0].request("PUT", f"{presets}/{saved}", json={"theme": "light"}))[0] == 200
    assert (await servers[0].request("DELETE", f"{presets}/{saved}"))[0] == 204
    assert (await servers[-1].request("PUT", f"{presets}/last", json={}))[0] == 201
    assert (await servers[0].request("PUT", f"{presets}/one-more", json={}))[0] == 409


def png_of(size: int, i: int) -> bytes:
    """A PNG the library takes (its type is read from its head), ``size`` bytes, its own content."""
    head = (FIXTURES / "green.png").read_bytes() + f"#{i}#".encode()
    return head + b"\0" * (size - len(head))


async def test_racing_uploads_stay_within_the_media_quota_in_bytes(server: Any) -> None:
    size = int(1.9 * 1024 * 1024)  # each under the 2 MiB per image; 40 of them make 76 MiB
    quota = server.config.server.media_quota_mb * 1024 * 1024
    answers = await asyncio.gather(*(upload(server, f"big{i}.png", io.BytesIO(png_of(size, i))) for i in range(40)))
    fits = quota // size
    assert sorted(status for status, _ in answers) == [201] * fits + [413] * (40 - fits)
    assert all(body["error"]["code"] == "media_quota_exceeded" and "KiB" in body["error"]["message"]
               for status, body in answers if status == 413)
    status, listed = await server.request("GET", MEDIA)
    assert status == 200 and len(listed["media"]) == fits and sum(m["size"] for m in listed["media"]) <= quota
    # The same file again changes nothing, so it is still answered 200 at the limit.
    again = next(i for i, (status, _) in enumerate(answers) if status == 201)
    assert (await upload(server, f"big{again}.png", io.BytesIO(png_of(size, again))))[0] == 200


async def test_racing_uploads_stay_within_the_media_quota_in_files(server: Any) -> None:
    limit = server.config.server.media_quota_files
    answers = await asyncio.gather(*(upload(server, f"small{i}.png", png_of(200, i)) for i in range(limit + 30)))
    assert sorted(status for status, _ in answers) == [201] * limit + [413] * 30
    assert all(body["error"]["code"] == "media_quota_exceeded" and f"{limit} files" in body["error"]["message"]
               for status, body in answers if status == 413)
    status, listed = await server.request("GET", MEDIA)
    assert len(listed["media"]) == limit
    status, _ = await server.request("DELETE", f"{MEDIA}/{listed['media'][0]['name']}")
    assert status == 204 and (await upload(server, "after-delete.png", png_of(200, -1)))[0] == 201


RAPID = {"donate_page": {"rate_limit_per_minute": 1000}}  # many pledges from one test client


async def test_racing_confirms_and_donations_claim_a_reward_exactly_its_quantity(make_server: Any,
                                                                               backend: str) -> None:
    reward = {"id": "meet", "kind": "reward", "title": "Meet the team", "min_amount": "5.00", "quantity": 3}
    servers = await two_servers(make_server, backend, incentives=[reward], **RAPID)
    server = servers[0]
    pledges = [await pledge_for(server, f"{5 + i}.00", "meet") for i in range(8)]
    answers = await asyncio.gather(*(servers[i % len(servers)].post(f"{BASE}/donations/{d}/confirm")
                                     for i, d in enumerate(pledges)))
    assert sorted(status for status, _ in answers) == [200] * 3 + [409] * 5
    assert all(body["error"]["code"] == "reward_sold_out" for status, body in answers if status == 409)
    meet = await incentive(server, "meet")
    assert (meet["claimed"], meet["remaining"]) == (3, 0)
    # A donation booked at once (the API, as a webhook books) finds it sold out too.
    status, body = await server.post(f"{BASE}/donations", {"amount": "9.00", "incentive": {"id": "meet"}})
    assert refused(status, body, "reward_sold_out")
    status, listed = await server.request("GET", f"{BASE}/donations")
    assert sorted(d["status"] for d in listed["donations"]) == ["approved"] * 3 + ["pending"] * 5


async def test_racing_incentive_creations_store_exactly_the_limit(make_server: Any, backend: str) -> None:
    servers = await two_servers(make_server, backend, incentives=INCENTIVES)
    poll = {"kind": "poll", "title": "Boss", "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]}
    answers = await asyncio.gather(*(servers[i % len(servers)].post(f"{BASE}/incentives", {**poll, "id": f"p{i}"})
                                     for i in range(60)))
    room = MAX_INCENTIVES - len(INCENTIVES)
    assert sorted(status for status, _ in answers) == [201] * room + [409] * (60 - room)
    assert all(body["error"]["code"] == "too_many_incentives" for status, body in answers if status == 409)
    for server in servers:
        status, listed = await server.request("GET", f"{BASE}/incentives")
        assert status == 200 and len(listed) == MAX_INCENTIVES


async def test_an_option_removed_while_pledges_race_for_it_leaves_the_bars_summing(make_server: Any,
                                                                                   backend: str) -> None:
    servers = await two_servers(make_server, backend, incentives=POLL3, **RAPID)
    server = servers[0]
    tokens = [await form_token(server) for _ in range(10)]

    async def pledge(i: int) -> int:
        fields = {"form_token": tokens[i], "amount": "custom", "custom_amount": f"{i + 1}.00",
                  "incentive": "game:hades"}
        async with servers[i % len(servers)].http.post(server.url + "/donate/demo", data=fields, headers=HTML,
                                                       allow_redirects=False) as r:
            return r.status

    remove = servers[-1].request("PATCH", f"{BASE}/incentives/game", json=WITHOUT_HADES)
    *pledged, (status, body) = await asyncio.gather(*(pledge(i) for i in range(10)), remove)
    assert set(pledged) <= {303, 422} and (status == 200 or refused(status, body, "option_has_donations"))
    # Removed only if it came before every pledge (those after it were refused): one or the other.
    assert (status == 200) == (303 not in pledged)
    _, listed = await server.request("GET", f"{BASE}/donations")
    for d in listed["donations"]:
        assert (await servers[-1].post(f"{BASE}/donations/{d['id']}/confirm"))[0] == 200
    game = await incentive(server, "game")
    assert game["count"] == pledged.count(303)
    assert sum(int(o["total"].replace(".", "")) for o in game["options"]) == int(game["total"].replace(".", ""))


def test_a_pledge_whose_option_is_gone_is_not_counted_on_confirm(tmp_path: Any) -> None:
    """A pledge stored before options kept count of their pledges (its option could be removed
    under it): confirming it is refused, and nothing changes, rather than count money to no bar."""
    cfg = make_config(tmp_path, incentives=POLL3).channels[0]
    state = ChannelState.initial(cfg)
    rec = donations.new_record(cfg, DonationInput(amount="10.00"), 1000)
    rec = incentive_ops.attach(cfg, state, rec, {"id": "game", "option": "hades"}, 1000)
    pledged = donations.record_pledge(cfg, state, rec, 1000)  # the old way: no count on the option
    removed = incentive_ops.update(cfg, pledged.state, INCENTIVE.validate_python({**POLL3[0], **WITHOUT_HADES}), 2000)
    confirmed = donations.confirm(cfg, removed.state, pledged.donations[0], 3000)
    with pytest.raises(DonationError) as err:
        incentive_ops.book(cfg, confirmed, confirmed.donations[0])
    assert (err.value.code, err.value.kind) == ("incentive_option_removed", "conflict")
    assert "move it" in err.value.message

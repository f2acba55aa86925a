"""Hostile and malformed requests on every endpoint: always a 4xx JSON error, never a 500."""
from __future__ import annotations

from typing import Any

from tests.support import AUTH

BODIES: list[Any] = [b"", b"{", b"[]", b"null", b"0", b'"x"', b"\xff\xfe\x00", b'{"a":' * 5000 + b"1" + b"}" * 5000,
                     b'{"amount": 1e999999}', b'{"sponsor": ["x"], "cap": {}}',
                     b'{"title": 5, "goal": "ten"}', b'{"multiplier": "Infinity", "cap": "-1", "sponsor": "x"}',
                     b'{"starts_at": "yesterday", "ends_at": 5, "sponsor": "s", "cap": "1"}']
ENDPOINTS = [
    ("POST", "/api/v1/channels/demo/donations"), ("PUT", "/api/v1/channels/demo/match"),
    ("PATCH", "/api/v1/channels/demo/campaign"), ("POST", "/api/v1/channels/demo/alerts/skip"),
    ("POST", "/api/v1/channels/demo/donations/d_x/approve"), ("DELETE", "/api/v1/channels/demo/match"),
]


async def test_every_endpoint_answers_garbage_with_4xx_json(server: Any) -> None:
    for method, path in ENDPOINTS:
        for body in BODIES:
            for ctype in ("application/json", "text/plain"):
                status, data = await server.request(method, path, data=body,
                                                    headers={**AUTH, "Content-Type": ctype})
                assert status < 500, (method, path, body[:40], status, data)
                if status >= 400:
                    assert isinstance(data, dict) and set(data["error"]) == {"code", "message"}, data
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["campaign"]["count"] == 0


async def test_odd_paths_methods_and_queries(server: Any) -> None:
    cases = [("GET", "/api/v1/channels/demo/donations?after_seq=abc"), ("GET", "/api/v1/channels/demo/donations?limit=0"),
             ("GET", "/api/v1/channels/demo/donations?limit=99999999999999999999"),
             ("DELETE", "/api/v1/channels/demo/donations"), ("POST", "/api/v1/channels/demo/state"),
             ("POST", "/api/v1/channels/%00/donations"), ("POST", "/api/v1/channels/demo/donations/" + "x" * 300 + "/replay"),
             ("POST", "/webhooks/demo/unknown"), ("POST", "/webhooks/nope/tiltify"), ("POST", "/webhooks/demo/tiltify"),
             ("GET", "/api/v1/nothing")]
    for method, path in cases:
        status, data = await server.request(method, path, data=b"{}", headers={**AUTH, "Content-Type": "application/json"})
        assert 400 <= status < 500, (method, path, status, data)
        assert isinstance(data, dict) and "error" in data, (method, path, data)


async def test_metrics_are_prometheus_text(server: Any) -> None:
    await server.donate(amount="3")
    async with server.http.get(server.url + "/metrics") as r:
        text = await r.text()
    assert r.status == 200 and r.content_type == "text/plain"
    for name in ("overlay_donations_total", "overlay_events_emitted_total", "overlay_connected_clients",
                 "overlay_alert_queue_length", "overlay_http_request_duration_seconds_bucket"):
        assert name in text, name


AMOUNT_STRINGS = ["1e-99999999", "5e2", "1_000", "\u0665", "+5", " 5 ", "5.", ".5", "12.500", "\uff15", "0x10"]
AMOUNT_NUMBERS = [b"1e2", b"1E-2", b"1e-99999999", b"1e999999999", b"12.500", b"-5", b"0", b"1" + b"0" * 400]


async def test_amounts_follow_one_grammar_on_the_api(server: Any) -> None:
    """Each of these is 422 and stores nothing (1e-99999999 must not count as 0.00)."""
    bodies = [f'{{"amount": "{s}"}}'.encode("utf-8") for s in AMOUNT_STRINGS]
    bodies += [b'{"amount": ' + n + b"}" for n in AMOUNT_NUMBERS]
    for body in bodies:
        status, data = await server.request("POST", "/api/v1/channels/demo/donations", data=body,
                                            headers={**AUTH, "Content-Type": "application/json"})
        assert (status, data["error"]["code"]) == (422, "invalid_amount"), (body[:40], status, data)
    for body in (b'{"goal": "1e3"}', b'{"goal": 1e3}'):
        status, data = await server.request("PATCH", "/api/v1/channels/demo/campaign", data=body,
                                            headers={**AUTH, "Content-Type": "application/json"})
        assert (status, data["error"]["code"]) == (422, "invalid_goal"), (body, status, data)
    ok = await server.donate(amount="0012.50")
    assert ok["amount"] == "12.50"
    _, listed = await server.request("GET", "/api/v1/channels/demo/donations", headers=AUTH)
    assert [d["amount"] for d in listed["donations"]] == ["12.50"]


async def test_lone_surrogates_in_a_body_are_refused(server: Any) -> None:
    """Found by tests/test_fuzz.py: external_id "\\ud800" reached SQLite and answered 500."""
    for body in (b'{"amount": "5", "external_id": "\\ud800"}', b'{"amount": "5", "donor_name": "a\\udfffb"}',
                 b'{"amount": "5", "\\ud800": 1}'):
        status, data = await server.request("POST", "/api/v1/channels/demo/donations", data=body,
                                            headers={**AUTH, "Content-Type": "application/json"})
        assert (status, data["error"]["code"]) == (400, "invalid_json"), (body, status, data)
    ok = await server.donate(amount="5", donor_name="\U0001f600", external_id="\U0001f600")  # a valid pair
    assert ok["donor_name"] == "\U0001f600"
    _, listed = await server.request("GET", "/api/v1/channels/demo/donations", headers=AUTH)
    assert [d["id"] for d in listed["donations"]] == [ok["id"]]

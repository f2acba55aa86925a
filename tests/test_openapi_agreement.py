"""The OpenAPI document and the server agree where schemathesis found they did not: each case
below is checked on both sides, the document's schema (JSON Schema 2020-12) and the server's
answer, on both stores."""
from __future__ import annotations

from typing import Any

import jsonschema_rs

from overlay.web.openapi import REF
from tests.support import AUTH, OVERLAY_KEY

DOC = "/api/v1/openapi.json"
BASE = "/api/v1/channels/demo"
PRESET = "/api/v1/channels/{ch}/widgets/{widget}/presets/{name}"


async def document(server: Any) -> dict[str, Any]:
    status, doc = await server.request("GET", DOC, headers={})
    assert status == 200
    return doc


def fits(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    return jsonschema_rs.Draft202012Validator({**doc, **schema}).is_valid(value)


def body_fits(doc: dict[str, Any], model: str, body: Any) -> bool:
    return fits(doc, {"$ref": REF.format(model=model)}, body)


async def test_zero_and_absurd_amounts_are_outside_the_document_and_refused(server: Any) -> None:
    """The document allowed "0" (and any length of digits) where the API refuses zero and amounts
    above 1,000,000,000 (422): the document now says what the server takes."""
    doc = await document(server)
    refused = ["0", "0.00", "000", "0.001", "5.555", "1000000000.01", "1000000001", "1" + "0" * 300, 0,
               10**10, "1e3", "-5", " 5"]
    taken = ["5", "0.01", "007.50", "1000000000", "1000000000.00", 12, 1000000000]
    for amount in refused + taken:
        expected = amount in taken
        assert body_fits(doc, "DonationBody", {"amount": amount}) is expected, amount
        status, answer = await server.post(f"{BASE}/donations", {"amount": amount})
        assert (status in (200, 201)) is expected, (amount, status, answer)
        if not expected:
            assert (status, answer["error"]["code"]) == (422, "invalid_amount"), (amount, answer)
    # The channel's currency and the ones its fx converts from (EUR, GBP, USD: 2 decimals), any case.
    for currency, expected in (("usd", True), ("GBP", True), ("", True), ("JPY", False), ("XYZ", False)):
        assert body_fits(doc, "DonationBody", {"amount": "5", "currency": currency}) is expected, currency
        status, _ = await server.post(f"{BASE}/donations", {"amount": "5", "currency": currency})
        assert (status == 201) is expected, (currency, status)


async def test_a_repeated_query_parameter_is_400(server: Any) -> None:
    """``?after_seq=1&after_seq=2`` was read as the first value (200) where the document allows one:
    any parameter given twice, declared or not, on any API route, is 400 in the error shape."""
    for path, query, code in (
            (f"{BASE}/donations", [("after_seq", "1"), ("after_seq", "2")], "invalid_after_seq"),
            (f"{BASE}/donations", [("limit", "5"), ("limit", "5")], "invalid_limit"),
            (f"{BASE}/state", [("key", OVERLAY_KEY), ("key", OVERLAY_KEY)], "invalid_key"),
            (f"{BASE}/state", [("x-y", "1"), ("x-y", "2")], "invalid_query")):
        status, answer = await server.request("GET", path, params=query)
        assert (status, answer["error"]["code"]) == (400, code), (path, query, answer)
    status, answer = await server.request("GET", f"{BASE}/donations", params=[("after_seq", "1"), ("limit", "5")])
    assert status == 200, answer
    doc = await document(server)
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            assert "400" in operation["responses"], (method, path)


async def test_post_on_alert_timing_is_405_with_the_methods_of_that_resource(server: Any) -> None:
    """POST …/alerts/timing was taken by …/alerts/{action} (404 unknown_action): it is a method
    that resource does not have, 405, and Allow lists its methods only (not the action's POST)."""
    async with server.http.post(server.url + f"{BASE}/alerts/timing", headers=AUTH) as r:
        assert r.status == 405
        assert set(r.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "PUT", "DELETE"}
        assert (await r.json())["error"]["code"] == "method_not_allowed"
    status, answer = await server.request("POST", f"{BASE}/alerts/pause")
    assert (status, answer) == (200, {"ok": True, "action": "pause"})
    status, answer = await server.request("POST", f"{BASE}/alerts/bogus")
    assert (status, answer["error"]["code"]) == (404, "not_found")


async def test_preset_names_and_colours_are_constrained_and_every_status_documented(server: Any) -> None:
    """A preset's name and colours were plain strings in the document, and its 422 (a name the
    API refuses) was documented on no preset operation."""
    doc = await document(server)
    named = [(PRESET, "get"), (PRESET, "delete"), (PRESET, "put"),
             ("/api/v1/channels/{ch}/widgets/alert/presets/{name}", "put")]
    for path, method in named:
        operation = doc["paths"][path][method]
        assert {"400", "401", "403", "404", "422", "429"} <= set(operation["responses"]), (method, path)
        name = next(p["schema"] for p in operation["parameters"] if p["name"] == "name")
        assert fits(doc, name, "stream-1") and not fits(doc, name, "Bad Name") and not fits(doc, name, "x" * 33)
    put = doc["paths"][named[-1][0]]["put"]
    assert {"413", "415", "422"} <= set(put["responses"])
    for method in ("GET", "DELETE", "PUT"):
        status, answer = await server.request(method, f"{BASE}/widgets/alert/presets/Bad%20Name", json={})
        assert (status, answer["error"]["code"]) == (422, "invalid_preset_name"), (method, answer)

    # A widget's own path answers GET and DELETE too (the {widget} resource behind it did): the
    # document lists them there, and a 405 there lists exactly those methods.
    assert set(doc["paths"][named[-1][0]]) == {"get", "put", "delete"}
    async with server.http.patch(server.url + f"{BASE}/widgets/alert/presets/c", headers=AUTH) as r:
        assert r.status == 405
        assert set(r.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "PUT", "DELETE"}

    for colour, expected in (("#fe2c55", True), ("FE2C55", True), (" #abc ", True), ("red", False), ("#12345", False)):
        assert body_fits(doc, "AlertWidgetSettings", {"accent_color": colour}) is expected, colour
        status, answer = await server.request("PUT", f"{BASE}/widgets/alert/presets/c", json={"accent_color": colour})
        assert (status in (200, 201)) is expected, (colour, status, answer)


async def test_a_whole_number_is_an_integer(server: Any) -> None:
    """JSON Schema's integer is any whole number: 3934.0 fits ``gap_ms``, and the server took it
    for a float (422)."""
    doc = await document(server)
    assert body_fits(doc, "AlertTimingBody", {"gap_ms": 3934.0}) and not body_fits(doc, "AlertTimingBody",
                                                                                      {"gap_ms": 3934.5})
    status, timing = await server.request("PUT", f"{BASE}/alerts/timing", data='{"gap_ms": 3934.0}',
                                          headers={**AUTH, "Content-Type": "application/json"})
    assert (status, timing["gap_ms"]) == (200, 3934), timing
    status, answer = await server.request("PUT", f"{BASE}/alerts/timing", data='{"gap_ms": 3934.5}',
                                          headers={**AUTH, "Content-Type": "application/json"})
    assert (status, answer["error"]["code"]) == (422, "invalid_gap_ms")


async def test_an_option_goes_with_an_incentive_id_only(server: Any) -> None:
    """``{"id": null, "option": "a"}`` fitted the document's MoveBody, and ``{}`` too (id was not
    required): the server refuses both (422 invalid_incentive)."""
    doc = await document(server)
    made = await server.donate(amount="5")
    path = f"{BASE}/donations/{made['id']}/incentive"
    for body in ({"id": None, "option": "a"}, {}):
        assert not body_fits(doc, "MoveBody", body), body
        status, answer = await server.request("POST", path, json=body)
        assert (status, answer["error"]["code"]) == (422, "invalid_incentive"), (body, answer)
    assert body_fits(doc, "MoveBody", {"id": None}) and body_fits(doc, "MoveBody", {"id": "x", "option": "a"})
    status, moved = await server.request("POST", path, json={"id": None})
    assert status == 200, moved

"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document covering every /api/v1 route, and a
schemathesis run against a real ``python server.py`` of its own (it writes: it must not touch
a server other tests use): no 5xx, every answer documented and shaped as documented."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, negative_data_rejection, \
    response_headers_conformance, response_schema_conformance, status_code_conformance

from overlay.app import create_app
from overlay.web.openapi import build_document
from overlay.web.routes import API_ROUTES
from tests.support import AUTH, OVERLAY_KEY, RedisServer, ServerProcess, free_port, make_config
from tests.test_processes import write_config

DOC = "/api/v1/openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# Requests outside the schema: a 4xx, documented, in the error shape (never a 5xx, never a 2xx).
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
# (mode, checks, examples per operation, as an overlay-key reader instead of a moderator)
PLAN = ((GenerationMode.POSITIVE, CHECKS, 20, False), (GenerationMode.POSITIVE, CHECKS, 8, True),
        (GenerationMode.NEGATIVE, NEGATIVE_CHECKS, 12, False))
# Deterministic and bounded: the same cases every run, no deadline (CI may be slow), a few
# dozen requests per operation and mode.
RUN = settings(derandomize=True, deadline=None, database=None, print_blob=True,
               suppress_health_check=list(HealthCheck))


async def test_the_document_is_served_and_valid_openapi_3_1(server: Any) -> None:
    status, doc = await server.request("GET", DOC, headers={})
    assert status == 200 and doc["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(doc).validate()  # against the OpenAPI 3.1 meta-schema
    broken = {**doc, "paths": {"/x": {"get": {"responses": {"200": {"content": 5}}}}}}
    with pytest.raises(Exception, match="content"):  # the check above does check
        schemathesis.openapi.from_dict(broken).validate()
    donation = doc["components"]["schemas"]["Donation"]["properties"]
    # null when the donor hid the amount (API.md §8)
    assert donation["amount"]["anyOf"][0]["pattern"] == r"^-?[0-9]+(\.[0-9]+)?$"
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "overlayKey"}
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]


def test_every_api_route_is_in_the_document(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    registered = {(r.method, r.resource.canonical) for r in app.router.routes()
                  if r.resource is not None and r.resource.canonical.startswith("/api/v1") and r.method != "HEAD"}
    doc = build_document(app[API_ROUTES], "test")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert ("POST", "/api/v1/channels/{ch}/donations") in registered
    assert registered == documented
    # Bodies and queries are described by the very models the handlers validate with.
    for route in app[API_ROUTES]:
        op = doc["paths"][route.path][route.method.lower()]
        if route.body is not None:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            schema = route.body.model_json_schema(ref_template="#/components/schemas/{model}")
            nested = schema.pop("$defs", {})  # in the document, each is a schema of components
            assert doc["components"]["schemas"][ref.rsplit("/", 1)[1]] == schema
            assert all(doc["components"]["schemas"][name] == sub for name, sub in nested.items())
        query = {p["name"] for p in op["parameters"] if p["in"] == "query"}
        assert query == {f.alias or n for n, f in (route.query.model_fields if route.query else {}).items()}


def _strategy(operation: Any, mode: GenerationMode, donation_ids: list[str]) -> Any:
    """Cases for one operation on the demo channel; a path {id} is often a real donation."""
    names = {p.name for p in operation.path_parameters}
    fixed = {"ch": "demo"} if "ch" in names else {}
    strategy = operation.as_strategy(mode, path_parameters=fixed or None)
    if "id" in names:
        strategy = st.one_of(strategy, *(operation.as_strategy(mode, path_parameters={**fixed, "id": i})
                                         for i in donation_ids))
    return strategy


def _donations(url: str) -> list[str]:
    """An approved donation and a held one (the server holds those with a message)."""
    bodies = ({"amount": "5"}, {"amount": "7.50", "donor_name": "Ana", "message": "hello"})
    made = [requests.post(url + "/api/v1/channels/demo/donations", json=b, headers=AUTH, timeout=30).json()
            for b in bodies]
    assert [d["status"] for d in made] == ["approved", "held"], made
    return [d["id"] for d in made]


@pytest.fixture(scope="module", params=["embedded", "redis"])
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own for schemathesis, on either store."""
    redis_url = None
    if request.param == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        redis.flush()
        redis_url = redis.url
    config = write_config(tmp_path_factory.mktemp("openapi"), redis_url, moderation={"hold": "messages"})
    srv = asyncio.run(ServerProcess(config, free_port()).start())
    try:
        yield srv.url
    finally:
        srv.stop()


@pytest.mark.timeout(600)
def test_schemathesis_finds_nothing(fuzzed: str) -> None:
    schema = schemathesis.openapi.from_url(fuzzed + DOC)
    donation_ids = _donations(fuzzed)
    failures = []
    # Valid requests first: the negative ones include missing credentials, which count as failures
    # per client address (overlay.web.throttle) once they carry a wrong one.
    for mode, checks, examples, as_reader in PLAN:
        for result in schema.get_all_operations():
            operation = result.ok()
            if as_reader and not _reads_with_the_overlay_key(schema.raw_schema, operation):
                continue
            # A moderator, or an overlay (its key in the URL, as browser sources send it).
            auth: dict[str, Any] = {"params": {"key": OVERLAY_KEY}} if as_reader else {"headers": AUTH}

            @settings(RUN, max_examples=examples)
            @given(case=_strategy(operation, mode, donation_ids))
            def run(case: Any) -> None:
                case.call_and_validate(base_url=fuzzed, checks=checks, timeout=30, **auth)

            try:
                run()
            except Exception as exc:  # noqa: BLE001 - every operation runs; all failures are reported together
                failures.append(f"{mode.value}{' reader' * as_reader} {operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def _reads_with_the_overlay_key(doc: dict[str, Any], operation: Any) -> bool:
    security = doc["paths"][operation.path][operation.method.lower()]["security"]
    return any("overlayKey" in requirement for requirement in security)


# Regressions found while writing the schema and running schemathesis against it.

async def test_a_date_time_before_year_1_once_in_utc_is_422_not_500(server: Any) -> None:
    """"0001-01-01T00:00:00+01:00" is a valid date-time, but 1 hour before year 1 in UTC: stored,
    it made every later /state and match answer fail (500) when written back as ISO 8601."""
    for field in ("starts_at", "ends_at"):
        body = {"sponsor": "S", "multiplier": "2", "cap": "10", field: "0001-01-01T00:00:00+01:00"}
        status, data = await server.request("PUT", "/api/v1/channels/demo/match", json=body)
        assert (status, data["error"]["code"]) == (422, f"invalid_{field}"), (status, data)
    status, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert status == 200 and state["match"]["sponsor"] == "TikTok"


async def test_the_multiplier_is_written_without_an_exponent(server: Any) -> None:
    """A multiplier of 100 came back as "1E+2" (str of a normalized Decimal), which is not a
    decimal string of the API's grammar and not what the dashboard form can send back."""
    for given_value, shown in (("100", "100"), (100, "100"), ("1e1", "10"), ("2.50", "2.5")):
        status, match = await server.request("PUT", "/api/v1/channels/demo/match",
                                             json={"sponsor": "S", "multiplier": given_value, "cap": "10"})
        assert (status, match["multiplier"]) == (200, shown), (given_value, status, match)


async def test_campaign_display_with_milestones_matches_the_document(server: Any) -> None:
    """``campaign.display.milestones`` is a list of formatted amounts: the document said every
    display value was a string, so any channel with milestones answered outside its schema."""
    status, _ = await server.request("PATCH", "/api/v1/channels/demo/campaign", json={"milestones": ["50.00"]})
    assert status == 200
    _, doc = await server.request("GET", DOC, headers={})
    status, state = await server.request("GET", "/api/v1/channels/demo/state")
    shown = state["campaign"]["display"]["milestones"]
    assert status == 200 and isinstance(shown, list) and all(isinstance(m, str) for m in shown)
    value = doc["components"]["schemas"]["Campaign"]["properties"]["display"]["additionalProperties"]
    assert {"type": "array", "items": {"type": "string"}} in value["anyOf"]


async def test_moving_a_donation_keeps_the_incentive_codes(server: Any) -> None:
    """On the route table, the move body's shape is still checked by the domain, with the codes
    a donation's ``incentive`` gets (docs/api.md §7), not pydantic's ``invalid_id``; an unknown
    field beside ``"id": null`` is refused, not ignored (schemathesis found it answered 200)."""
    status, made = await server.request("POST", "/api/v1/channels/demo/donations", json={"amount": "5"})
    assert status == 201
    path = f"/api/v1/channels/demo/donations/{made['id']}/incentive"
    for body, code in (({"id": 5}, "invalid_incentive"), ({"id": "x", "extra": 1}, "invalid_incentive"),
                       ({"id": "x" * 65}, "unknown_incentive"),
                       ({"id": None, "other": []}, "invalid_incentive")):  # schemathesis: was 200
        status, answer = await server.request("POST", path, json=body)
        assert (status, answer["error"]["code"]) == (422, code), (body, status, answer)

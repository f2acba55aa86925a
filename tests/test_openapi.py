"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document covering every /api/v1 route, and a
schemathesis run against a real ``python server.py`` of its own (it writes: it must not touch
a server other tests use) with every check schemathesis runs by default."""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
# The coverage phase's case generator, as schemathesis's own runner drives it (no public entry
# point gives its cases to a test that sends them itself).
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from overlay.app import create_app
from overlay.web.openapi import build_document
from overlay.web.routes import API_ROUTES
from tests.support import AUTH, OVERLAY_KEY, RedisServer, ServerProcess, free_port, make_config
from tests.test_processes import write_config

DOC = "/api/v1/openapi.json"
# Every check schemathesis runs by default (``call_and_validate`` without ``checks=``): status
# codes, content types, headers and bodies as documented; valid data accepted
# (positive_data_acceptance), invalid data refused (negative_data_rejection); a required header
# left out refused (missing_required_header); an undocumented method answered 405 with an Allow
# header of the resource's own methods (unsupported_method, allow_header_conformance); a declared
# credential enforced (ignored_auth). use_after_free, ensure_resource_availability and
# object_level_authorization run too but judge only what schemathesis's stateful phase records
# (a DELETE then a GET, a POST then its resource, a second identity's requests): these cases are
# sent one by one, with one kind of credential per channel, so those checks find nothing to judge;
# the API's own tests cover a deleted preset, incentive or file answering 404.
#
# positive_data_acceptance is kept for every operation but for the refusals below: rules JSON
# Schema cannot say, each refused with a code of its own (API.md). Any other refusal of a
# request the document allows fails the run.
NOT_IN_THE_DOCUMENT = (
    ("unknown_incentive", "no incentive"),              # an incentive that exists on the channel
    ("invalid_incentive", "option ids must be unique"),  # uniqueItems compares whole options
    ("invalid_incentive", "cannot change"),             # a PATCH: the path's id, the stored kind
    ("invalid_incentive", ": unknown field"),           # a PATCH: a field of the stored kind only
    ("unknown_tier", "no tier from"),                   # a tier of config.yaml
    ("invalid_settings", "of the media library"),       # a file of the channel's media library
    ("invalid_ends_at", "after starts_at"),             # one field against another
    ("invalid_to", "to must be after from"),            # one parameter against another
    ("invalid_settings", "Input should be greater than"),  # a number given as text, within its bounds
    ("invalid_settings", "Input should be less than"),
    ("empty_file", "the body is empty"),                # a file's bytes are a file of its type
    ("unsupported_file", "only PNG"),
    ("unreachable_variation", "can never match"),       # an alert variation after a catch-all
    ("invalid_variations", "is given twice"),           # ids unique across the list's objects
    ("invalid_variations", "is greater than max_amount"),  # one field against another
    ("invalid_variations", ": no incentive"),           # an incentive that exists on the channel
    ("invalid_variations", "unknown placeholder"),      # {name} {amount} {message} {source} inside text
    ("alias_required", "needs a non-empty alias"),      # display_name "alias" with its alias
    ("invalid_variations", "amounts have at most"),     # a variation's amounts in the channel's currency
    ("invalid_simulate_match", "for test donations only"),  # one field against another
)


def negative_data_rejection_but_json_number_amounts(ctx: Any, response: Any, case: Any) -> bool | None:
    """API.md §3 accepts an amount written as a JSON number; the document asks for a decimal
    string (or a whole number), so a fraction written as a number is outside it yet accepted."""
    try:
        return negative_data_rejection(ctx, response, case)
    except Failure:
        amount = case.body.get("amount") if isinstance(case.body, dict) else None
        if isinstance(amount, float) and not amount.is_integer() and 0 < amount <= 1e9 and response.status_code < 300:
            return None
        raise


def positive_data_acceptance_but_what_json_schema_cannot_say(ctx: Any, response: Any, case: Any) -> bool | None:
    try:
        return positive_data_acceptance(ctx, response, case)
    except Failure:
        error = (response.json() if response.status_code in (400, 415, 422) else {}).get("error", {})
        # invalid_settings names each setting's problem ("a: …; b: …"): each must be one of those.
        message = str(error.get("message", ""))
        problems = message.split("; ") if error.get("code") == "invalid_settings" else [message]
        if not all(any(error.get("code") == code and why in problem for code, why in NOT_IN_THE_DOCUMENT)
                   for problem in problems):
            raise
        return None


# (mode, examples per operation, as an overlay-key reader instead of a moderator)
PLAN = ((GenerationMode.POSITIVE, 20, False), (GenerationMode.POSITIVE, 8, True),
        (GenerationMode.NEGATIVE, 12, False))
COVERAGE_CASES = 25
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
    # The test client is a trusted proxy: see _addresses.
    config.write_text(yaml.safe_dump({**yaml.safe_load(config.read_text()),
                                      "server": {"trusted_proxies": ["127.0.0.1/32"]}}))
    srv = asyncio.run(ServerProcess(config, free_port()).start())
    try:
        yield srv.url
    finally:
        srv.stop()


@pytest.mark.timeout(600)
def test_schemathesis_finds_nothing(fuzzed: str) -> None:
    schema = _schema(fuzzed)
    donation_ids = _donations(fuzzed)
    failures = []
    for mode, examples, as_reader in PLAN:
        for result in schema.get_all_operations():
            operation = result.ok()
            if as_reader and not _reads_with_the_overlay_key(schema.raw_schema, operation):
                continue

            @settings(RUN, max_examples=examples)
            @given(case=_strategy(operation, mode, donation_ids))
            def run(case: Any) -> None:
                _call_and_validate(case, fuzzed, as_reader)  # noqa: B023 - run() is called right below

            try:
                run()
            except (Exception, FailureGroup) as exc:  # noqa: BLE001 - every operation runs; all are reported
                failures.append(f"{mode.value}{' reader' * as_reader} {operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.timeout(600)
def test_schemathesis_coverage_cases_find_nothing(fuzzed: str) -> None:
    """The cases of schemathesis's coverage phase, which the default checks missing_required_header,
    unsupported_method and allow_header_conformance judge (a fuzzed case never has them): each
    boundary of each schema, positive and negative, and each method an operation's path does not
    document. At most COVERAGE_CASES per operation (in the order schemathesis gives them), the
    method probes always."""
    schema = _schema(fuzzed)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = {"ch": "demo"} if "{ch}" in operation.path else {}
        cases = list(CoverageGenerator(
            operation=operation, generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
            auth_storage=None, override=Override(path_parameters=fixed), feedback=FeedbackSources()))
        probes = [c for c in cases if c.method != operation.method.upper()]
        for case in probes + [c for c in cases if c not in probes][:COVERAGE_CASES]:
            try:
                _call_and_validate(case, fuzzed, as_reader=False)
            except (Exception, FailureGroup) as exc:  # noqa: BLE001 - every case runs; all are reported
                failures.append(f"coverage {operation.label}: {exc}")
    assert not failures, "\n\n".join(failures[:20])


def _schema(url: str) -> Any:
    schema = schemathesis.openapi.from_url(url + DOC)
    # A body past the size limit is refused before it is read: 413 refuses it as well as a 422.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return schema


def _call_and_validate(case: Any, url: str, as_reader: bool) -> None:
    """Send ``case`` as a moderator, or as an overlay (its key in the URL, as browser sources send
    it), from an address of its own, and run every default check on the answer. The reader's
    bearer is its key too: one left out, schemathesis would make one up, and a made-up bearer
    beside a valid key is answered (one valid credential is enough)."""
    auth = {"Authorization": f"Bearer {OVERLAY_KEY}" if as_reader else AUTH["Authorization"]}
    case.call_and_validate(base_url=url, timeout=30, params={"key": OVERLAY_KEY} if as_reader else None,
                           headers={**auth, **next(ADDRESSES)},
                           excluded_checks=[positive_data_acceptance, negative_data_rejection],
                           additional_checks=[positive_data_acceptance_but_what_json_schema_cannot_say,
                                              negative_data_rejection_but_json_number_amounts])


def _addresses() -> Iterator[dict[str, str]]:
    """Each case from an address of its own (X-Forwarded-For, from a trusted proxy): ignored_auth
    sends wrong credentials on purpose, and from one address they would soon be refused with 429
    (overlay.http.throttle), valid requests included. A case's probes keep its headers."""
    for n in itertools.count(1):
        yield {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}


ADDRESSES = _addresses()


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

"""The OpenAPI document's incentive and preset bodies are the models their routes validate
with: each incentive kind (a union discriminated by ``kind``), each widget's settings (a path
per widget). A body the document's schema refuses, the server refuses (422); one it accepts,
the server accepts — on both stores."""
from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from overlay.app import create_app
from overlay.settings.incentives import PollIncentive, RewardIncentive, TargetIncentive
from overlay.web.incentive_models import IncentiveBody, IncentiveEdit
from overlay.web.openapi import REF, build_document
from overlay.web.routes import API_ROUTES, Route
from overlay.widgets import REGISTRY
from tests.support import make_config

DOC = "/api/v1/openapi.json"
BASE = "/api/v1/channels/demo"
KINDS = {"target": TargetIncentive, "poll": PollIncentive, "reward": RewardIncentive}
TWO = [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory: pytest.TempPathFactory) -> list[Route]:
    return create_app(make_config(tmp_path_factory.mktemp("doc")))[API_ROUTES]


@pytest.fixture(scope="module")
def document(app_routes: list[Route]) -> dict[str, Any]:
    return build_document(app_routes, "test")


def body_schema(doc: dict[str, Any], method: str, path: str) -> str:
    """The name of the components schema an operation's JSON body refers to."""
    ref = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


def own_schema(model: Any) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF)
    schema.pop("$defs", None)
    return schema


def fits(doc: dict[str, Any], name: str, body: Any) -> bool:
    """Whether ``body`` is valid against the document's schema ``name`` (JSON Schema 2020-12)."""
    return jsonschema_rs.Draft202012Validator({**doc, "$ref": REF.format(model=name)}).is_valid(body)


def test_incentive_bodies_are_a_union_of_the_kind_models(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert body_schema(document, "post", "/api/v1/channels/{ch}/incentives") == "IncentiveBody"
    union = schemas["IncentiveBody"]
    refs = {kind: REF.format(model=model.__name__) for kind, model in KINDS.items()}
    assert union["discriminator"] == {"propertyName": "kind", "mapping": refs}
    assert union["oneOf"] == [{"$ref": refs[k]} for k in ("target", "poll", "reward")]
    assert union == own_schema(IncentiveBody)
    for kind, model in KINDS.items():
        schema = schemas[model.__name__]
        assert schema == own_schema(model)  # the very model config.yaml's incentives go through
        assert schema["properties"]["kind"]["const"] == kind and schema["additionalProperties"] is False
    assert set(schemas["TargetIncentive"]["required"]) == {"id", "kind", "title", "amount"}
    assert set(schemas["RewardIncentive"]["required"]) == {"id", "kind", "title", "min_amount"}
    options = schemas["PollIncentive"]["properties"]["options"]
    assert (options["minItems"], options["maxItems"]) == (2, 20)
    quantity = schemas["RewardIncentive"]["properties"]["quantity"]["anyOf"][0]
    assert (quantity["type"], quantity["minimum"], quantity["maximum"]) == ("integer", 1, 1_000_000)
    assert "options" not in schemas["TargetIncentive"]["properties"]  # each kind has its own fields

    # An edit: one kind's fields, none required, kind not among them.
    assert body_schema(document, "patch", "/api/v1/channels/{ch}/incentives/{iid}") == "IncentiveEdit"
    assert schemas["IncentiveEdit"] == own_schema(IncentiveEdit)
    edits = [r["$ref"].rsplit("/", 1)[1] for r in schemas["IncentiveEdit"]["anyOf"]]
    assert edits == ["TargetEdit", "PollEdit", "RewardEdit"]
    for edit, model in zip(edits, KINDS.values()):
        full = {name: {k: v for k, v in prop.items() if k != "default"}
                for name, prop in schemas[model.__name__]["properties"].items() if name != "kind"}
        assert schemas[edit]["properties"] == full and "required" not in schemas[edit]
        assert schemas[edit]["additionalProperties"] is False


def _bare(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("title", "description", "default")}


def test_each_widget_saves_presets_at_its_own_path_with_its_settings_model(document: dict[str, Any],
                                                                          app_routes: list[Route]) -> None:
    schemas = document["components"]["schemas"]
    routes = {(route.method, route.path): route for route in app_routes}
    for name, widget in REGISTRY.items():
        path = f"/api/v1/channels/{{ch}}/widgets/{name}/presets/{{name}}"
        body = body_schema(document, "put", path)
        route = routes["PUT", path]
        # The route validates with the widget's own Settings model (a subclass that only names it).
        assert route.body is not None and route.body.__bases__ == (widget.settings,)
        assert set(route.body.model_fields) == set(widget.settings.model_fields)
        schema = schemas[body]
        assert schema == own_schema(route.body) and schema["additionalProperties"] is False
        assert set(schema["properties"]) == set(widget.settings.model_fields)
        plain = widget.settings.model_json_schema()["properties"]
        for setting, prop in schema["properties"].items():
            # The setting's JSON form, bounds included, is the schema or one of its forms (a URL's text is another).
            bare = _bare(plain[setting])
            assert bare in prop.get("anyOf", []) or {**_bare(prop), "enum": None} == {**bare, "enum": None}, \
                (name, setting, prop)
        answer = document["paths"][path]["put"]["responses"]["201"]["content"]["application/json"]["schema"]
        assert schemas[answer["$ref"].rsplit("/", 1)[1]]["properties"]["settings"] == {"$ref": REF.format(model=body)}
    generic = document["paths"]["/api/v1/channels/{ch}/widgets/{widget}/presets/{name}"]["put"]
    assert "requestBody" not in generic and not any(s.startswith("2") for s in generic["responses"])


INCENTIVE_CASES: list[tuple[dict[str, Any], bool]] = [
    ({"id": "t1", "kind": "target", "title": "Dye", "amount": "50.00", "ends_at": "2030-01-01T00:00:00Z"}, True),
    ({"id": "t2", "kind": "target", "title": "Dye", "amount": 50, "open": False, "tiltify_id": None}, True),
    ({"id": "p1", "kind": "poll", "title": "Game", "options": [*TWO[:1], {**TWO[1], "tiltify_id": "x"}]}, True),
    ({"id": "r1", "kind": "reward", "title": "Shout", "min_amount": "5", "quantity": None}, True),
    ({"id": "r2", "kind": "reward", "title": "Shout", "min_amount": 5, "quantity": 3, "ends_at": None}, True),
    ({"id": "x", "kind": "target", "title": "T"}, False),                                  # no amount
    ({"id": "x", "kind": "target", "title": "T", "amount": "5", "options": TWO}, False),   # a poll's field
    ({"id": "x", "kind": "poll", "title": "T", "options": TWO, "amount": "5"}, False),     # a target's field
    ({"id": "x", "kind": "reward", "title": "T", "min_amount": "5", "options": TWO}, False),
    ({"id": "x", "kind": "poll", "title": "T", "options": TWO[:1]}, False),                # one option
    ({"id": "x", "kind": "poll", "title": "T", "options": [{"id": "A", "label": "A"}, TWO[1]]}, False),
    ({"id": "x", "kind": "reward", "title": "T", "min_amount": "5", "quantity": "3"}, False),
    ({"id": "x", "kind": "reward", "title": "T", "min_amount": "5", "quantity": 0}, False),
    ({"id": "x", "kind": "target", "title": "T", "amount": True}, False),
    ({"id": "x", "kind": "target", "title": "T", "amount": "-5"}, False),
    ({"id": "x", "kind": "target", "title": "T", "amount": "1e3"}, False),
    ({"id": "x", "kind": "target", "title": "T", "amount": "5", "open": "yes"}, False),
    ({"id": "x", "kind": "target", "title": "T", "amount": "5", "ends_at": 1700000000}, False),
    ({"id": "X!", "kind": "target", "title": "T", "amount": "5"}, False),
    ({"id": "x", "kind": "target", "title": "", "amount": "5"}, False),
    ({"id": "x", "kind": "goal", "title": "T", "amount": "5"}, False),
    ({"id": "x", "title": "T", "amount": "5"}, False),
]
EDIT_CASES: list[tuple[dict[str, Any], bool]] = [
    ({"title": "Dye it blue"}, True),
    ({"open": False, "ends_at": None, "amount": "60"}, True),
    ({"id": "t1"}, True),
    ({"kind": "poll"}, False),
    ({"open": 1}, False),
    ({"amount": "5", "options": TWO}, False),   # two kinds' fields
    ({"title": ""}, False),
    ({"colour": "red"}, False),
]


async def test_incentive_bodies_the_schema_refuses_are_refused(server: Any) -> None:
    status, doc = await server.request("GET", DOC, headers={})
    assert status == 200
    for body, valid in INCENTIVE_CASES:
        assert fits(doc, "IncentiveBody", body) is valid, body
        status, answer = await server.post(f"{BASE}/incentives", body)
        expected = (201, body["kind"]) if valid else (422, "invalid_incentive")
        assert (status, answer["kind"] if valid else answer["error"]["code"]) == expected, (body, answer)
    for body, valid in EDIT_CASES:
        assert fits(doc, "IncentiveEdit", body) is valid, body
        status, answer = await server.request("PATCH", f"{BASE}/incentives/t1", json=body)
        assert (status, None if valid else answer["error"]["code"]) == ((200, None) if valid else
                                                                       (422, "invalid_incentive")), (body, answer)
    # Which kind's fields fit depends on the incentive: the domain checks that, with the same code.
    assert fits(doc, "IncentiveEdit", {"options": TWO})
    status, answer = await server.request("PATCH", f"{BASE}/incentives/t1", json={"options": TWO})
    assert (status, answer["error"]["code"]) == (422, "invalid_incentive") and "options" in answer["error"]["message"]
    status, answer = await server.request("PATCH", f"{BASE}/incentives/t1", json={"kind": "poll"})
    assert answer["error"]["message"] == "an incentive's id and kind cannot change"
    status, listed = await server.request("GET", f"{BASE}/incentives")
    assert [i["id"] for i in listed] == ["t1", "t2", "p1", "r1", "r2"]
    assert next(i for i in listed if i["id"] == "t1")["title"] == "Dye it blue"


def preset_cases(widget: Any) -> list[tuple[dict[str, Any], bool]]:
    """Bodies for a widget's preset: each setting as JSON and as a URL's text; then wrong ones."""
    defaults = widget.settings().model_dump(mode="json")
    schema = widget.settings.model_json_schema()["properties"]
    cases: list[tuple[dict[str, Any], bool]] = [({}, True), (defaults, True), ({"theme": "light"}, True),
                                                ({"nope": 1}, False), ({"position": "middle"}, False),
                                                ({"lang": "de"}, False), ({"custom_css": 5}, False)]
    for name, prop in schema.items():
        if prop.get("type") == "boolean":
            cases += [({name: "yes"}, True), ({name: 0}, True), ({name: 2}, False), ({name: "maybe"}, False)]
        elif prop.get("type") in ("integer", "number"):
            cases += [({name: str(defaults[name])}, True), ({name: True}, False),
                      ({name: prop["maximum"] + 1}, False), ({name: None}, False)]
        elif prop.get("type") == "array":
            cases += [({name: ""}, True), ({name: [5]}, False)]
        elif any(s.get("type") == "null" for s in prop.get("anyOf", [])):  # optional text
            cases += [({name: "   "}, True), ({name: "x" * 121}, False), ({name: 5}, False)]
    return cases


async def test_preset_bodies_the_schema_refuses_are_refused(server: Any) -> None:
    status, doc = await server.request("GET", DOC, headers={})
    assert status == 200
    for name, widget in REGISTRY.items():
        path = f"/api/v1/channels/{{ch}}/widgets/{name}/presets/{{name}}"
        schema = body_schema(doc, "put", path)
        for body, valid in preset_cases(widget):
            assert fits(doc, schema, body) is valid, (name, body)
            status, answer = await server.request("PUT", f"{BASE}/widgets/{name}/presets/t", json=body)
            if valid:
                assert status in (200, 201) and answer["widget"] == name, (name, body, answer)
                assert set(answer["settings"]) == set(body)
            else:
                assert (status, answer["error"]["code"]) == (422, "invalid_settings"), (name, body, answer)
    status, answer = await server.request("PUT", f"{BASE}/widgets/nope/presets/t", json={})
    assert (status, answer["error"]["code"]) == (404, "widget_not_found")

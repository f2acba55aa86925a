"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of the HTTP API, written from the
route table (overlay.web.routes) and the pydantic models the handlers validate with.

OpenAPI 3.1 takes JSON Schema 2020-12 as it is, so each model's ``model_json_schema`` goes
into ``components.schemas`` unchanged. The document is built once, on first request,
after every ``setup_*`` has registered its routes.
"""
from __future__ import annotations

import re
import typing
from importlib import metadata
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from overlay import keys
from overlay.domain import money
from overlay.web.api_models import CURRENCY_PATTERN, Error
from overlay.web.routes import API_ROUTES, PUBLIC, Content, Route, Routes

# Filled on first request (the app is frozen by then; the dict itself is set up before).
DOCUMENT: web.AppKey[dict[str, Any]] = web.AppKey("openapi_document", dict)
REF = "#/components/schemas/{model}"
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "A moderator token (channels[].moderator_tokens); for reads, the overlay key "
                              "also works. The dashboard's session cookie plus its X-CSRF-Token header is "
                              "accepted in place of a moderator token."},
    "overlayKey": {"type": "apiKey", "in": "query", "name": "key",
                   "description": "The channel's overlay key (read-only). A moderator token is never "
                                  "accepted in a URL."},
}
# What any endpoint may answer besides its own: the error shape for each.
COMMON_ERRORS = {
    400: "invalid_json, a query parameter out of range, or one given more than once", 401: "a credential is required",
    403: "csrf_failed: a session cookie without its X-CSRF-Token", 404: "channel_not_found, or no such resource",
    409: "the state forbids it (e.g. not_held, not_pending)", 413: "body_too_large",
    415: "unsupported_media_type: send application/json", 422: "a field to correct: unknown_field, invalid_<field>",
    429: "too_many_failures (Retry-After)", 503: "storage_unavailable or shutting_down (Retry-After)",
}


def _errors(route: Route) -> list[int]:
    # 400: any query parameter given twice (overlay.web.routes.single_values).
    statuses = {400, 404, 429, 503, *route.errors}
    if route.access.security:
        statuses |= {401}
    if route.access.name == "moderator":
        statuses |= {403}
    if route.body is not None:
        statuses |= {400, 413, 415, 422}
    if route.upload:
        statuses |= {413, 415, 422}
    return sorted(statuses)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    params = []
    for name, prop in schema["properties"].items():
        # A query value is never JSON null: "not given" is how a parameter is left out.
        variants = [s for s in prop.pop("anyOf", []) if s.get("type") != "null"]
        prop = {**variants[0], **prop} if variants else prop
        if prop.get("default", 0) is None:
            del prop["default"]
        params.append({"name": name, "in": "query", "required": name in schema.get("required", ()),
                       "description": prop.pop("description", ""), "schema": prop})
    return params


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": route.path_params.get(name, {"type": "string"})}
            for name in re.findall(r"\{(\w+)\}", route.path)]


def _error_response(status: int) -> dict[str, Any]:
    if status in COMMON_ERRORS:
        return {"$ref": f"#/components/responses/{status}"}
    return {"description": "error", "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.handler.__name__, "summary": route.summary,
        "security": [dict(s) for s in route.access.security],
        "parameters": _path_parameters(route) + (_query_parameters(route.query) if route.query else []),
        "responses": {},
    }
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "$ref": REF.format(model=route.body.__name__)}}}}
    if route.upload:
        op["requestBody"] = {"required": True, "content": {c.media_type: {"schema": dict(c.schema)}
                                                           for c in route.upload}}
    for status, answer in route.ok.items():
        op["responses"][str(status)] = {"description": route.summary, **_answer(answer)}
    for status in _errors(route):
        op["responses"][str(status)] = _error_response(status)
    return op


def _answer(answer: Any) -> dict[str, Any]:
    """The ``content`` of a success answer: JSON of a model (or union), another media type, or none."""
    if answer is None:
        return {}
    if isinstance(answer, Content):
        return {"content": {answer.media_type: {"schema": dict(answer.schema)}}}
    refs = [{"$ref": REF.format(model=m.__name__)} for m in _models(answer)]
    return {"content": {"application/json": {"schema": refs[0] if len(refs) == 1 else {"anyOf": refs}}}}


def _models(answer: Any) -> tuple[type[BaseModel], ...]:
    """A model, or the models of a union (``Donation | Done``); none for Content or no body."""
    if answer is None or isinstance(answer, Content):
        return ()
    return typing.get_args(answer) or (answer,)


def _components(routes: list[Route]) -> dict[str, Any]:
    answers = {m for r in routes for a in r.ok.values() for m in _models(a)}
    models = {Error} | {r.body for r in routes if r.body} | answers
    _, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                 ref_template=REF)
    errors = {str(status): {"description": what, "content": {"application/json": {"schema": {
        "$ref": REF.format(model="Error")}}}} for status, what in COMMON_ERRORS.items()}
    for status in (429, 503):
        errors[str(status)]["headers"] = {"Retry-After": {"description": "seconds", "schema": {"type": "string"}}}
    errors["401"]["headers"] = {"WWW-Authenticate": {"description": "on a missing moderator token",
                                                     "schema": {"type": "string"}}}
    return {"schemas": defs.get("$defs", {}), "responses": errors, "securitySchemes": SECURITY_SCHEMES}


def build_document(routes: list[Route], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Live donation overlay HTTP API", "version": version,
                 "description": "Generated from the route table and the pydantic models that validate "
                                "each request (overlay/web/routes.py, overlay/web/api_models.py). "
                                "Amounts are decimal strings; errors are {error: {code, message}}."},
        "paths": paths,
        "components": _components(routes),
    }


routes = Routes()


class Document(BaseModel):
    """This document (OpenAPI 3.1)."""
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


@routes.get("/openapi.json", access=PUBLIC, ok={200: Document})
async def get_openapi(request: web.Request, _ctx: None) -> web.Response:
    """The OpenAPI 3.1 document of this HTTP API."""
    document = request.app[DOCUMENT]
    if not document:
        currencies = {c for ch in request.app[keys.CONFIG].channels for c in (ch.currency, *ch.fx)}
        document.update(for_currencies(build_document(request.app[API_ROUTES], _version()), currencies))
    return web.json_response(document)


def for_currencies(document: dict[str, Any], currencies: set[str]) -> dict[str, Any]:
    """``document`` for a server whose channels take ``currencies``: a currency is one of them
    (any case), an amount has at most as many decimals as the most precise of them."""
    codes = "|".join("".join(f"[{c.upper()}{c.lower()}]" for c in code) for code in sorted(currencies))
    decimals = max((money.exponent(code) for code in currencies), default=money.MAX_DECIMALS)
    narrowed = {money.POSITIVE_AMOUNT_PATTERN: money.amount_pattern(decimals),
                money.SETTING_AMOUNT_PATTERN: money.amount_pattern(decimals, zero=True),
                CURRENCY_PATTERN: f"^({codes})?$"}

    def narrow(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: narrowed.get(v, v) if k == "pattern" else narrow(v) for k, v in node.items()}
        return [narrow(item) for item in node] if isinstance(node, list) else node
    return typing.cast(dict[str, Any], narrow(document))


def _version() -> str:
    try:
        return metadata.version("overlay")
    except metadata.PackageNotFoundError:  # run from a checkout that was not installed
        return "0"


def setup_openapi(app: web.Application) -> None:
    """Serve the document; call it after the setups that register API routes or before: it is
    written on first request, from every route table added with ``Routes.add_to``."""
    app[DOCUMENT] = {}
    routes.add_to(app)

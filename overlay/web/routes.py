"""A route table whose entries both serve and describe an endpoint of the HTTP API.

Each entry names who may call it (``Access``), the pydantic models of its body and query,
and its answers. The wrapper registered with aiohttp enforces exactly that, in this order:
a query parameter given twice (400), access (404 unknown channel, 401/403), query (400),
body (422; 400/415 for unreadable JSON), then calls the handler with what was validated.
``overlay.web.openapi`` writes the OpenAPI document from the same entries, so the document
cannot drift from the checks.

Registering an endpoint is one decorator line::

    @routes.post("/channels/{ch}/things", access=MODERATOR, body=ThingBody, ok={201: Thing})
    async def post_thing(request, svc, body): ...
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from overlay.http.errors import ApiError, read_json

Check = Callable[[web.Request], Any]
Handler = Callable[..., Awaitable[web.StreamResponse]]
API_ROUTES: web.AppKey[list["Route"]] = web.AppKey("api_routes", list)


@dataclass(frozen=True)
class Access:
    """Who may call an endpoint: ``check`` enforces it (its result is the handler's second
    argument), ``security`` says it in the document (OpenAPI security requirements)."""
    name: str
    check: Check
    security: tuple[Mapping[str, list[str]], ...] = ()


PUBLIC = Access("public", lambda request: None)


@dataclass(frozen=True)
class Content:
    """A body that is not a JSON model: an answer such as a CSV file (``ok={200: Content(...)}``),
    or a request body the handler reads itself (``upload=Content(...)``, e.g. a file's bytes)."""
    media_type: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Route:
    method: str
    path: str                                   # full path, aiohttp syntax: /api/v1/channels/{ch}
    handler: Handler
    access: Access
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    ok: Mapping[int, Any] = field(default_factory=dict)     # status -> model, union of models, Content, or None (no body)
    upload: tuple[Content, ...] = ()            # a non-JSON request body the handler reads itself
    errors: tuple[int, ...] = ()                # statuses this endpoint answers beyond the common ones
    path_params: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # JSON Schemas by name
    max_body: int | None = None                 # bytes, for a body larger than the app's limit allows


def _field_error(exc: ValidationError, status: int, hints: Mapping[str, str] | None = None) -> ApiError:
    """The first problem, in the project's error shape: ``unknown_field`` or ``invalid_<field>``.
    ``hints``: a model's FIELD_HINTS, {likely wrong field name: the real one}."""
    errors = sorted(exc.errors(include_input=False, include_url=False),
                    key=lambda e: e["type"] != "extra_forbidden")  # unknown fields first, as before
    first = errors[0]
    name = str(first["loc"][0]) if first["loc"] else "body"
    if first["type"] == "extra_forbidden" and len(first["loc"]) > 1:  # inside an object field
        where = ".".join(str(part)[:40] for part in first["loc"])
        return ApiError(status, f"invalid_{name}", f"{where}: unknown field")
    if first["type"] == "extra_forbidden":
        hint = f" (did you mean {hints[name]}?)" if hints and name in hints else ""
        return ApiError(status, "unknown_field", f"unknown field: {name[:40]}{hint}")
    # pydantic's msg never quotes the input; a custom check's message is ours ("Value error, ...").
    message = first["msg"].removeprefix("Value error, ")
    return ApiError(status, f"invalid_{name}", f"{name}: {message}")


def single_values(request: web.Request) -> dict[str, str]:
    """The query, each parameter given once: a repeated one (``?after_seq=1&after_seq=2``, or
    ``?key=`` twice) is 400, never read as whichever value a piece of code happens to take."""
    values: dict[str, str] = {}
    for name, value in request.query.items():
        if name in values:
            code = f"invalid_{name}" if re.fullmatch(r"[a-z0-9_]{1,40}", name) else "invalid_query"
            raise ApiError(400, code, f"{name[:40]}: given more than once")
        values[name] = value
    return values


def parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    values = single_values(request)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise _field_error(exc, 400) from None


async def parse_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    """The body validated by ``model``. A model whose refusals have a documented code of their own
    (an incentive's ``invalid_incentive``, a preset's ``invalid_settings``) says it with a
    ``refusal(errors) -> (code, message)`` classmethod; otherwise ``unknown_field`` / ``invalid_<field>``."""
    try:
        return model.model_validate(await read_json(request))
    except ValidationError as exc:
        refusal = getattr(model, "refusal", None)
        if refusal is not None:
            raise ApiError(422, *refusal(exc.errors(include_url=False))) from None
        raise _field_error(exc, 422, getattr(model, "FIELD_HINTS", None)) from None


def _serve(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        single_values(request)
        ctx = route.access.check(request)
        if route.max_body is not None:  # after the access check: only a caller allowed in may send more
            request = request.clone(client_max_size=route.max_body)
        kwargs: dict[str, Any] = {}
        if route.query is not None:
            kwargs["query"] = parse_query(request, route.query)
        if route.body is not None:
            kwargs["body"] = await parse_body(request, route.body)
        return await route.handler(request, ctx, **kwargs)
    serve.__name__ = route.handler.__name__
    return serve


class Routes:
    """A group of endpoints under one prefix; ``add_to(app)`` serves and documents them."""

    def __init__(self, prefix: str = "/api/v1"):
        self.prefix = prefix
        self.routes: list[Route] = []

    def route(self, method: str, path: str, *, access: Access, summary: str | None = None,
              **spec: Any) -> Callable[[Handler], Handler]:
        """Declare an endpoint: ``spec`` takes Route's body, query, ok, upload, errors, path_params."""
        def register(handler: Handler) -> Handler:
            said = summary or (handler.__doc__ or handler.__name__).strip().splitlines()[0]
            self.routes.append(Route(method, self.prefix + path, handler, access, said, **spec))
            return handler
        return register

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)

    def add_to(self, app: web.Application) -> None:
        if API_ROUTES not in app:
            app[API_ROUTES] = []
        for route in self.routes:
            path = _matched_path(route)
            if route.method == "GET":  # HEAD too, as add_get does
                app.router.add_get(path, _serve(route))
            else:
                app.router.add_route(route.method, path, _serve(route))
            app[API_ROUTES].append(route)


def _matched_path(route: Route) -> str:
    """The aiohttp path of ``route``: a path parameter with an ``enum`` matches only those values,
    so ``POST …/alerts/timing`` is not ``…/alerts/{action}``: it is a method the resource
    ``…/alerts/timing`` does not have (405, its own methods in ``Allow``), not an unknown action."""
    def matched(found: re.Match[str]) -> str:
        values = route.path_params.get(found[1], {}).get("enum")
        return f"{{{found[1]}:{'|'.join(map(re.escape, values))}}}" if values else found[0]
    return re.sub(r"\{(\w+)\}", matched, route.path)

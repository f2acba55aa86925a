"""The one error renderer (the shape of API.md §4) and the middleware that guarantees it."""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from overlay import metrics
from overlay.http import strictjson
from overlay.errors import ApiError, Refusal, error_body
from overlay.errors import StoreUnavailable

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


__all__ = ["ApiError", "KIND_STATUS", "error_middleware", "error_response", "read_json", "refusal_response"]

# The domain's reasons (overlay.errors.Kind) as HTTP statuses: only here does the domain meet HTTP.
KIND_STATUS: dict[str, int] = {"invalid": 422, "conflict": 409, "not_found": 404, "unavailable": 503}


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(error_body(code, message), status=status, headers=headers)


def refusal_response(exc: Refusal, headers: Mapping[str, str] | None = None) -> web.Response:
    """``exc`` answered: an ApiError with its own status, a domain refusal by its kind."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, {**exc.headers, **(headers or {})})
    return error_response(KIND_STATUS[exc.kind], exc.code, exc.message, headers)


def _http_code(exc: web.HTTPException) -> str:
    return {404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
            400: "bad_request", 401: "unauthorized", 403: "forbidden"}.get(exc.status, "http_error")


def wants_html(request: web.Request) -> bool:
    return not request.path.startswith(("/api/", "/webhooks/", "/whip/", "/whep/")) and \
        "text/html" in request.headers.get("Accept", "")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except Refusal as exc:
        response = refusal_response(exc)
        status = response.status
        return response
    except StoreUnavailable as exc:
        status = 503
        log.error("storage unavailable: %s", exc)
        return error_response(503, "storage_unavailable", "storage is unavailable; retry later", {"Retry-After": "5"})
    except web.HTTPException as exc:
        status = exc.status
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        if wants_html(request) and exc.status == 404:
            raise
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(exc.status, _http_code(exc), exc.reason, allow)
    finally:
        route = request.match_info.route.resource
        metrics.REQUESTS.labels(request.method, route.canonical if route else "unmatched", status).observe(
            time.perf_counter() - started)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, read by overlay.http.strictjson (Decimal, never float; no lone surrogate).
    No body at all is ``{}`` whatever its type says: ``curl -X POST`` on an action with optional fields."""
    if not request.body_exists:
        return {}
    if request.content_type not in ("application/json", ""):
        raise ApiError(415, "unsupported_media_type", "send application/json")
    raw = await request.read()
    try:
        return strictjson.load_object(raw or b"{}")
    except strictjson.NotAnObject:
        raise ApiError(400, "invalid_json", "the body must be a JSON object") from None
    except ValueError:  # UnicodeDecodeError included
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from None


class ParserErrorFilter(logging.Filter):
    """aiohttp's parser refuses a request it cannot read (a header over 8 KiB, 128+ headers,
    a broken request line) before any handler runs, and logs it at ERROR with a traceback
    whose message quotes the offending bytes: a Stripe-Signature, a cookie, a token. Such a
    request is the client's fault, not ours: one WARNING line with no content instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            peer = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg, record.args = "refused an unreadable HTTP request from %s: %s (%s)", (
                peer, type(exc).__name__, exc.code)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
            if record.levelno > logging.WARNING:
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_parser_errors() -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, ParserErrorFilter) for f in server_log.filters):
        server_log.addFilter(ParserErrorFilter())

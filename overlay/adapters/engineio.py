"""python-engineio internals (written against python-engineio 4.15).

- The aiohttp driver's websocket wrapper, ``_async['websocket']``: ``use_websocket_class``
  gives one server a subclass of it (the guard against unreadable packets, the fast
  broadcast path's direct writes). Check: the table still holds the driver's class, at each
  server's construction; fallback: the stock class (the caller warns).
- The wrapper's aiohttp ``WebSocketResponse``, kept in ``_sock``: ``response_of`` /
  ``set_response``. Checked by the fast path's start-up self-test
  (overlay/realtime/fastcheck.py); fallback: stock python-socketio emission.
- The text of engine.io's log record for a polling payload it cannot decode:
  ``PollingErrorFilter`` shortens that record. Check: ``polling_error_text_holds`` (engine.io's
  source still logs that text); fallback: engine.io's own log line, in full.
"""
from __future__ import annotations

import inspect
import logging
from typing import Any

import engineio
from engineio.async_drivers import aiohttp as eio_aiohttp

log = logging.getLogger(__name__)
# engine.io's aiohttp websocket wrapper, for subclasses (GuardedWebSocket, the direct writer)
WebSocket = eio_aiohttp.WebSocket
ENGINEIO_POST_ERROR = "post request handler error"


def use_websocket_class(server: engineio.AsyncServer, websocket_class: type[WebSocket]) -> bool:
    """Make ``server`` wrap its websockets in ``websocket_class``. False, and the stock class
    kept, if the aiohttp driver no longer keeps its class where it was."""
    if server.async_mode != "aiohttp" or server._async.get("websocket") is not eio_aiohttp.WebSocket:
        return False
    # copy: the driver's dict is module-global, shared by all servers
    server._async = dict(server._async, websocket=websocket_class)
    return True


def response_of(ws: WebSocket) -> Any:
    """The aiohttp WebSocketResponse an engine.io websocket wrapper writes to (None before it opened)."""
    return ws._sock


def set_response(ws: WebSocket, response: Any) -> None:
    ws._sock = response


def polling_error_text_holds() -> bool:
    """Whether engine.io still logs an undecodable polling payload with the text matched here."""
    try:
        return ENGINEIO_POST_ERROR in inspect.getsource(engineio.AsyncServer.handle_request)
    except (OSError, TypeError):  # no source installed: cannot tell
        return False


class PollingErrorFilter(logging.Filter):
    """engine.io's ERROR with a traceback for an undecodable polling payload, made one WARNING line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == ENGINEIO_POST_ERROR and record.exc_info:
            exc = record.exc_info[1]
            record.msg, record.args = "refused an unreadable Socket.IO polling payload (%s)", (type(exc).__name__,)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install_polling_error_filter() -> bool:
    """Shorten engine.io's log line for an undecodable polling payload (once per process).
    False, and engine.io's own line kept (with a warning), if its text is no longer the one matched."""
    engineio_log = logging.getLogger("engineio.server")
    if any(isinstance(f, PollingErrorFilter) for f in engineio_log.filters):
        return True
    if not polling_error_text_holds():
        log.warning("engine.io no longer logs %r: unreadable polling payloads are logged in full",
                    ENGINEIO_POST_ERROR)
        return False
    engineio_log.addFilter(PollingErrorFilter())
    return True

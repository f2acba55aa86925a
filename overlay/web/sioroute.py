"""The Socket.IO endpoint: python-socketio's request handler, with two of engine.io's answers
to bad polling requests made what a client error should be.

- A polling request for a session engine.io has just closed (the client raced the close, or
  sent something that got it closed) raises ``KeyError`` out of engine.io's handler: a 500
  and an ERROR traceback. Here it is a 400 with a JSON error.
- A polling payload engine.io cannot decode (not UTF-8, an unknown packet type) is logged at
  ERROR with a full traceback for every request, then answered 200: a client could fill the
  log. overlay/adapters/engineio.py turns that record into one WARNING line without the
  payload. It matches engine.io's message text; if that text changes, engine.io's own log
  stays (checked at start-up, with a warning).
"""
from __future__ import annotations

import socketio
from aiohttp import web

from overlay.adapters.engineio import install_polling_error_filter
from overlay.http.errors import error_response

SOCKETIO_PATH = "/socket.io/"


def attach(app: web.Application, sio: socketio.AsyncServer) -> None:
    """What ``sio.attach(app)`` does (GET, POST and OPTIONS on /socket.io/), with POST
    through ``handle``.

    Only POST can raise the KeyError (engine.io's GET path catches it itself). GET, which
    carries every WebSocket for its whole life, goes to engine.io's handler directly, as
    ``sio.attach`` routes it: a wrapper there would stay suspended with each connection
    (+0.5 KiB per connection, and slower connecting: bench/connprofile.py -n 10000)."""
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await sio.eio.handle_request(request)
        except KeyError:  # engine.io's _get_socket: "Session is disconnected"
            return error_response(400, "session_closed", "this Socket.IO session is closed; connect again")

    app.router.add_route("GET", SOCKETIO_PATH, sio.eio.handle_request)
    app.router.add_route("POST", SOCKETIO_PATH, handle)
    app.router.add_route("OPTIONS", SOCKETIO_PATH, sio.eio.handle_request)
    install_polling_error_filter()

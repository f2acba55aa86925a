"""WHIP ingest and WHEP playback over HTTP (RFC 9725 and the WHEP draft), in the live process.

Publisher replacement: a second WHIP POST with the right key replaces the
current publisher (OBS reconnecting). Viewers keep their connections and
carry on with the new stream from its first keyframe, with continuous RTP
timestamps. If the new publisher's codecs differ from the old one's, viewers
cannot switch codec mid-connection, so their sessions are ended (their
connection closes and the page must POST again).
"""

from collections.abc import Mapping

from aiohttp import web

from overlay.errors import ApiError
from overlay.secret import secret_equal
from overlay.live.hub import LiveHub, Session
from overlay.http.errors import error_response
from overlay.settings.live import LiveSettings

MAX_SDP_BYTES = 64 * 1024  # OBS offers are ~5 KB; anything near this is not an offer
SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"
LIVE_HUB = web.AppKey("live_hub", LiveHub)
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Location, ETag, Link, Accept-Post, Accept-Patch, Retry-After",
}
_PREFLIGHT = {
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Max-Age": "86400",
}


def setup_live(
    app: web.Application,
    channels: Mapping[str, LiveSettings],
    *,
    public_url: str,
    ice_servers: list[str] = [],  # noqa: B006 - never mutated, copied by LiveHub
) -> LiveHub:
    """Add the WHIP/WHEP routes; the hub's peer connections close on app shutdown.

    Runs in the live process (process.py), after selftest.py has passed.
    """
    hub = LiveHub({ch: s.max_viewers for ch, s in channels.items()}, ice_servers)
    keys = {ch: s.stream_key for ch, s in channels.items()}
    app[LIVE_HUB] = hub
    views = _Views(hub, keys, public_url.rstrip("/"))
    for role in ("whip", "whep"):
        app.router.add_route("*", f"/{role}/{{ch}}", views.endpoint)
        app.router.add_route("*", f"/{role}/{{ch}}/{{sid}}", views.session)

    async def close_hub(_app: web.Application) -> None:
        await hub.close()

    app.on_shutdown.append(close_hub)
    return hub


def _error(status: int, code: str, message: str, headers: Mapping[str, str] = {}) -> web.Response:
    return error_response(status, code, message, {**_CORS, **headers})


class _Views:
    def __init__(self, hub: LiveHub, keys: Mapping[str, str], public_url: str) -> None:
        self.hub, self.keys, self.public_url = hub, keys, public_url

    async def endpoint(self, request: web.Request) -> web.StreamResponse:
        role, ch = request.path.split("/")[1], request.match_info["ch"]
        if ch not in self.hub.channels:
            return _error(404, "unknown_channel", f"no channel {ch!r}")
        if request.method == "OPTIONS":
            return self._options(role, "OPTIONS, POST")
        if request.method != "POST":
            return _error(405, "method_not_allowed", f"{request.method} is not allowed here",
                          {"Allow": "OPTIONS, POST"})
        try:
            if role == "whip":
                self._authorize(request, ch)
            offer = await _read_body(request, SDP)
            if role == "whip":
                session = await self.hub.publish(ch, offer)
            else:
                session = await self.hub.watch(ch, offer)
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message, exc.headers)
        return self._created(request, role, session)

    async def session(self, request: web.Request) -> web.StreamResponse:
        role, ch, sid = request.path.split("/")[1], request.match_info["ch"], request.match_info["sid"]
        if request.method == "OPTIONS":
            return self._options(role, "OPTIONS, PATCH, DELETE")
        session = self.hub.find(ch, role, sid) if ch in self.hub.channels else None
        if session is None:
            return _error(404, "unknown_session", "no such session (it ended or never existed)")
        try:
            if request.method == "DELETE":
                await self.hub.end(session)
                return web.Response(status=200, headers=_CORS)
            if request.method == "PATCH":
                return await self._patch(request, session)
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message, exc.headers)
        return _error(405, "method_not_allowed", f"{request.method} is not allowed here",
                      {"Allow": "OPTIONS, PATCH, DELETE"})

    async def _patch(self, request: web.Request, session: Session) -> web.Response:
        if_match = request.headers.get("If-Match")
        if if_match not in (None, "*", session.etag):
            raise ApiError(412, "etag_mismatch", "If-Match does not match this session's ETag")
        ufrag, pwd, candidates = parse_sdpfrag(await _read_body(request, SDPFRAG))
        if (ufrag and ufrag != session.ice_ufrag) or (pwd and pwd != session.ice_pwd):
            raise ApiError(422, "ice_restart_unsupported",
                           "ICE restarts are not supported; POST a new offer instead")
        try:
            await self.hub.add_candidates(session, candidates)
        except (AssertionError, ValueError, IndexError) as exc:
            raise ApiError(400, "invalid_candidate", f"cannot use a candidate: {exc}") from exc
        return web.Response(status=204, headers=_CORS)

    def _authorize(self, request: web.Request, ch: str) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        good = scheme.lower() == "bearer" and secret_equal(token.strip(), self.keys[ch])
        if not good:
            raise ApiError(401, "unauthorized", "a valid 'Authorization: Bearer <stream key>' is required",
                           {"WWW-Authenticate": 'Bearer realm="whip"'})

    def _options(self, role: str, methods: str) -> web.Response:
        headers = {**_CORS, **_PREFLIGHT, "Access-Control-Allow-Methods": methods,
                   "Allow": methods, "Accept-Post": SDP, "Accept-Patch": SDPFRAG}
        response = web.Response(status=204, headers=headers)
        for url in self.hub.ice_servers:
            response.headers.add("Link", f'<{url}>; rel="ice-server"')
        return response

    def _created(self, request: web.Request, role: str, session: Session) -> web.Response:
        location = f"/{role}/{session.channel}/{session.id}"
        response = web.Response(
            status=201, body=session.pc.localDescription.sdp.encode(), content_type=SDP,
            headers={**_CORS, "Location": location, "ETag": session.etag, "Accept-Patch": SDPFRAG},
        )
        for url in self.hub.ice_servers:
            response.headers.add("Link", f'<{url}>; rel="ice-server"')
        return response


async def _read_body(request: web.Request, content_type: str) -> str:
    if request.content_type != content_type:
        raise ApiError(415, "unsupported_media_type", f"Content-Type must be {content_type}")
    if (request.content_length or 0) > MAX_SDP_BYTES:
        raise ApiError(413, "body_too_large", f"at most {MAX_SDP_BYTES} bytes")
    body = bytearray()
    async for chunk in request.content.iter_chunked(16384):
        body += chunk
        if len(body) > MAX_SDP_BYTES:  # a chunked body has no Content-Length to check
            raise ApiError(413, "body_too_large", f"at most {MAX_SDP_BYTES} bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_sdp", "the body is not UTF-8 text") from exc


def parse_sdpfrag(text: str) -> tuple[str | None, str | None, list[tuple[str | None, str]]]:
    """RFC 8840 fragment -> (ice-ufrag, ice-pwd, [(mid, candidate)])."""
    ufrag = pwd = mid = None
    candidates: list[tuple[str | None, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("a=ice-ufrag:"):
            ufrag = line.partition(":")[2]
        elif line.startswith("a=ice-pwd:"):
            pwd = line.partition(":")[2]
        elif line.startswith("m="):
            mid = None
        elif line.startswith("a=mid:"):
            mid = line.partition(":")[2]
        elif line.startswith("a=candidate:"):
            candidates.append((mid, line.partition(":")[2]))
    return ufrag, pwd, candidates

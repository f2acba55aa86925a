"""Local fakes of the platforms our sources poll or connect to, on loopback.

- ``FakeDonorDrive``: ``/api/participants/{id}/donations`` and ``/api/teams/{id}/donations``
  answering the JSON array of DonorDrive's documentation (newest first, ``amount`` a JSON
  number, ``createdDateUTC`` as DonorDrive writes it), an ``ETag`` and 304 on a matching
  ``If-None-Match``, and, when asked, one 429 with ``Retry-After``.
- ``FakeStreamlabs``: a Socket.IO 2 (Engine.IO 3) server on ``/socket.io/`` over websocket,
  as Streamlabs' socket is: ``0{...}`` open packet, ``40``, answers the client's ``2`` pings
  with ``3``, sends ``42["event", {...}]``.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from aiohttp import web


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


def donordrive_donation(n: int, amount: str = "20", **over: Any) -> dict[str, Any]:
    item = {"displayName": f"Friendly Donor {n}", "participantID": 4024, "amount": amount,
            "donorID": f"EB8610A3FC435D{n:02d}", "avatarImageURL": "",
            "createdDateUTC": f"2026-10-30T18:{n:02d}:18.513+0000", "eventID": 581, "teamID": 5074,
            "donationID": f"DF4E676D0828A8{n:02d}", "message": f"Go go go {n}"}
    item.update(over)
    return item


class FakeDonorDrive:
    def __init__(self) -> None:
        self.donations: list[dict[str, Any]] = []  # newest first, as DonorDrive answers
        self.requests: list[dict[str, Any]] = []  # {pid, status, path}
        self.throttle_next = False
        self.url = ""
        self._runner: web.AppRunner | None = None

    def add(self, item: dict[str, Any]) -> None:
        self.donations.insert(0, item)

    def body(self) -> str:
        # amounts as JSON numbers, as DonorDrive sends them
        text = json.dumps(self.donations)
        return re.sub(r'"amount": "([0-9.]+)"', r'"amount": \1', text)

    async def handle(self, request: web.Request) -> web.Response:
        agent = request.headers.get("User-Agent", "")
        pid = int(m.group(1)) if (m := re.search(r"pid (\d+)", agent)) else None
        body = self.body()
        etag = '"' + hashlib.sha1(body.encode()).hexdigest() + '"'
        if self.throttle_next:
            self.throttle_next = False
            status = 429
        elif request.headers.get("If-None-Match") == etag:
            status = 304
        else:
            status = 200
        self.requests.append({"pid": pid, "status": status, "path": request.path})
        if status == 429:
            return web.json_response({"message": "Too Many Requests"}, status=429, headers={"Retry-After": "1"})
        if status == 304:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(text=body, content_type="application/json",
                            headers={"ETag": etag, "Num-Records": str(len(self.donations))})

    async def start(self) -> "FakeDonorDrive":
        app = web.Application()
        app.router.add_get("/api/participants/{id}/donations", self.handle)
        app.router.add_get("/api/teams/{id}/donations", self.handle)
        self._runner, self.url = await _serve(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def streamlabs_donation(donation_id: int, amount: str = "13.37", currency: str = "USD", **over: Any) -> dict[str, Any]:
    """A Streamlabs socket ``event`` of type donation (its documented shape)."""
    item = {"id": donation_id, "name": "Fishstickslol", "amount": amount, "formatted_amount": f"${amount}",
            "message": "I love you!", "currency": currency, "from": "Fishstickslol", "from_user_id": 1,
            "_id": f"5a4b3c2d1e0f{donation_id:012d}"}
    item.update(over)
    return {"type": "donation", "message": [item], "for": "streamlabs", "event_id": f"evt-{donation_id}"}


class FakeStreamlabs:
    def __init__(self, token: str, ping_interval_ms: int = 25000, ping_timeout_ms: int = 60000) -> None:
        self.token = token
        self.ping_interval_ms, self.ping_timeout_ms = ping_interval_ms, ping_timeout_ms
        self.answer_pings = True
        self.sockets: list[web.WebSocketResponse] = []  # open connections
        self.connections = 0  # ever accepted
        self.most_at_once = 0
        self.pings = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("EIO") != "3" or request.query.get("transport") != "websocket":
            return web.Response(status=400, text='{"code":5,"message":"Unsupported protocol version"}')
        if request.query.get("token") != self.token:
            return web.Response(status=401)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_str("0" + json.dumps({"sid": f"sid-{self.connections}", "upgrades": [],
                                            "pingInterval": self.ping_interval_ms, "pingTimeout": self.ping_timeout_ms}))
        await ws.send_str("40")
        self.sockets.append(ws)
        self.connections += 1
        self.most_at_once = max(self.most_at_once, len(self.sockets))
        try:
            async for msg in ws:
                if msg.data == "2":
                    self.pings += 1
                    if self.answer_pings:
                        await ws.send_str("3")
        finally:
            self.sockets.remove(ws)
        return ws

    async def send(self, event: dict[str, Any]) -> None:
        for ws in list(self.sockets):
            await ws.send_str("42" + json.dumps(["event", event]))

    async def drop(self) -> None:
        for ws in list(self.sockets):
            await ws.close()

    async def start(self) -> "FakeStreamlabs":
        app = web.Application()
        app.router.add_get("/socket.io/", self.handle)
        self._runner, self.url = await _serve(app)
        return self

    async def stop(self) -> None:
        await self.drop()
        if self._runner is not None:
            await self._runner.cleanup()

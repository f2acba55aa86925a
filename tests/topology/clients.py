"""Clients as they behave in production: overlays that reconnect with ``last_seq`` through
the balancer, and senders that retry 5xx and connection errors with the same external_id."""
from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio

from tests.support import AUTH, OVERLAY_KEY

DONATE = "/api/v1/channels/demo/donations"
RETRY = {502, 503, 504}  # the balancer's and the server's "not now"


class Seen:
    """What an overlay received: (event, data) with a seq, and when each arrived."""

    name = "overlay"

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.arrivals: list[float] = []  # when each of events arrived (time.monotonic)
        self.connects = 0
        self.disconnected_at: float | None = None

    async def refresh(self) -> None:
        """Bring the record up to date (a browser page is read from outside)."""

    def donations(self) -> list[tuple[int, str]]:
        return [(d["seq"], d["donation"]["id"]) for e, d in self.events if e == "donation"]

    def played(self) -> list[str]:
        return [d["donation"]["id"] for e, d in self.events if e == "alert" and d.get("action") == "play"]

    def first_arrival(self, ids: set[str], moment: float) -> float | None:
        """Seconds from ``moment`` to the first donation event for one of ``ids``."""
        times = [t for (e, d), t in zip(self.events, self.arrivals) if e == "donation" and d["donation"]["id"] in ids]
        return times[0] - moment if times else None

    def via_snapshot(self) -> set[str]:
        """Donations this page learnt from a ``state`` (a reconnect the log could not replay)."""
        return {r["id"] for e, d in self.events if e == "state" for r in d.get("recent", [])}


class Overlay(Seen):
    """An overlay page: every event with its seq; after a lost connection it comes back by
    itself with the last seq it saw, as static/overlay-client.js does."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.last_seq: int | None = None
        self.client = socketio.AsyncClient(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0)
        self.client.on("connect", self._on_connect, namespace="/overlay")
        self.client.on("disconnect", self._on_disconnect, namespace="/overlay")
        self.client.on("*", self._on_event, namespace="/overlay")

    def _auth(self) -> dict[str, Any]:
        auth: dict[str, Any] = {"channel": "demo", "key": OVERLAY_KEY}
        if self.last_seq is not None:
            auth["last_seq"] = self.last_seq
        return auth

    async def _on_connect(self) -> None:
        self.connects += 1
        self.disconnected_at = None

    async def _on_disconnect(self, *_: Any) -> None:
        self.disconnected_at = time.monotonic()

    async def _on_event(self, event: str, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("seq"), int):
            self.events.append((event, data))
            self.arrivals.append(time.monotonic())
            self.last_seq = data["seq"]

    async def connect(self, url: str) -> "Overlay":
        await self.client.connect(url, namespaces=["/overlay"], auth=self._auth, transports=["websocket"],
                                  wait_timeout=30)
        return self

    async def close(self) -> None:
        await self.client.disconnect()


@dataclass
class Outcome:
    external_id: str
    amount: str
    status: int
    donation: dict[str, Any]
    attempts: int
    started: float
    finished: float


@dataclass
class Senders:
    """``count`` integrations posting donations one after the other until stopped."""
    url: str
    count: int = 3
    alert_every: int = 20  # one donation in this many is big enough for an alert
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)  # answers retried: "status code" (0: no answer)
    errors: Counter[str] = field(default_factory=Counter)  # no answer, by exception
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _acked: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            await asyncio.gather(*(self._sender(http, i) for i in range(self.count)))

    def stop(self) -> None:
        self._stop.set()

    async def _sender(self, http: aiohttp.ClientSession, index: int) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            amount = "5.00" if (n * self.count + index) % self.alert_every == 0 else "2.00"
            self.outcomes.append(await self._send(http, f"topo-{index}-{n}", amount))
            self._acked.set()

    async def _send(self, http: aiohttp.ClientSession, external_id: str, amount: str) -> Outcome:
        body = {"amount": amount, "external_id": external_id, "source": "topology", "donor_name": external_id}
        started, attempts, delay = time.monotonic(), 0, 0.05
        while True:
            attempts += 1
            try:
                async with http.post(self.url + DONATE, json=body, headers=AUTH) as r:
                    status, text = r.status, await r.text()
                data = json.loads(text)
            except ValueError:  # an answer, but not the API's JSON: the test fails on it
                status, data = -1, f"{status} {text[:80]!r}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                status, data = 0, repr(exc)
                self.errors[type(exc).__name__] += 1
            if status in (200, 201):
                return Outcome(external_id, amount, status, data, attempts, started, time.monotonic())
            code = data.get("error", {}).get("code", "") if isinstance(data, dict) else ""
            self.refusals[f"{status} {code}".strip()] += 1
            if status not in RETRY and status != 0:  # the test fails on it; stop this sender
                self.failures.append(f"{external_id}: {status} {data}")
                self._stop.set()
                return Outcome(external_id, amount, status, {}, attempts, started, time.monotonic())
            # A retry policy, as integrations have (Retry-After is 5 s; tests back off faster).
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def acked(self, at_least: int) -> None:
        while len(self.outcomes) < at_least:
            self._acked.clear()
            await asyncio.wait_for(self._acked.wait(), 120)

    def sent_after(self, moment: float) -> set[str]:
        return {o.donation["id"] for o in self.outcomes if o.started >= moment and o.donation}

    def first_success_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first acknowledged donation sent after it."""
        done = [o.finished for o in self.outcomes if o.started >= moment]
        return min(done) - moment if done else None

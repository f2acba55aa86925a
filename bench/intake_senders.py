"""Sender side of bench/intake.py: C concurrent POSTers for S seconds (aiohttp).

Each sender owns one keep-alive connection and posts the next donation as soon
as the previous one is answered, each with its own external_id. Times are wall
clock (time.time_ns) so they compare with the overlays' kernel timestamps.
"""
import asyncio
import itertools
import time
from dataclasses import dataclass, field

import aiohttp

REQUEST_TIMEOUT_S = 30


@dataclass
class Result:
    sent_ns: int
    answered_ns: int
    status: int
    seq: int = 0
    donation_id: str = ''


@dataclass
class Outcome:
    results: list[Result] = field(default_factory=list)   # answered in the window
    errors: dict[str, int] = field(default_factory=dict)  # what went wrong -> count
    late: list[Result] = field(default_factory=list)      # sent in the window, answered after it
    elapsed_s: float = 0.0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


class Senders:
    def __init__(self, base_url: str, channel: str, token: str, run_id: str):
        self.url = f'{base_url}/api/v1/channels/{channel}/donations'
        self.health = f'{base_url}/healthz'
        self.headers = {'Authorization': f'Bearer {token}'}
        self.ids = (f'{run_id}-{n}' for n in itertools.count())

    async def post(self, session, amount: str, outcome: Outcome) -> Result | None:
        body = {'amount': amount, 'donor_name': 'Bench donor',
                'message': 'Allez, on pousse jusqu\'à l\'objectif !',
                'external_id': next(self.ids)}
        sent = time.time_ns()
        try:
            async with session.post(self.url, json=body, headers=self.headers) as resp:
                data = await resp.json(content_type=None)
                answered = time.time_ns()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            outcome.error(type(exc).__name__)
            return None
        res = Result(sent, answered, resp.status)
        if resp.status == 201:
            res.seq, res.donation_id = data['seq'], data['id']
        else:
            code = data.get('error', {}).get('code') if isinstance(data, dict) else None
            outcome.error(f'HTTP {resp.status} {code or ""}'.strip())
        return res

    async def prefill(self, count: int, amount: str, concurrency: int = 8) -> Outcome:
        """Post `count` donations (for a backlog), `concurrency` at a time."""
        outcome = Outcome()
        todo = iter(range(count))
        async with self._session(concurrency) as session:
            async def one():
                for _ in todo:
                    await self.post(session, amount, outcome)
            await asyncio.gather(*(one() for _ in range(concurrency)))
        return outcome

    async def run(self, senders: int, seconds: float, amount: str) -> Outcome:
        outcome = Outcome()
        async with self._session(senders) as session:
            # open every keep-alive connection before the clock starts
            await asyncio.gather(*(self._touch(session) for _ in range(senders)))
            started = time.monotonic()
            stop_at = started + seconds

            async def sender():
                while time.monotonic() < stop_at:
                    res = await self.post(session, amount, outcome)
                    if res is not None:
                        window = res.answered_ns <= stop_ns
                        (outcome.results if window else outcome.late).append(res)
            stop_ns = time.time_ns() + int(seconds * 1e9)
            await asyncio.gather(*(sender() for _ in range(senders)))
            outcome.elapsed_s = seconds
        return outcome

    async def _touch(self, session):
        async with session.get(self.health) as resp:
            await resp.read()

    def _session(self, connections: int) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=connections, force_close=False)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        return aiohttp.ClientSession(connector=connector, timeout=timeout)

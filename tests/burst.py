"""A burst of HTTP requests, one fresh TCP connection each, told apart by how each one ended.

Raw sockets, so that the ending is seen exactly as the kernel reports it:
- ``answered``: an HTTP status line came back (any status);
- ``refused``: the connection was refused (nothing listening any more);
- ``reset``: RST before any byte of answer: the connection sat in the kernel's accept
  queue and was reset when the listening socket closed, before the server accepted it;
- ``empty``: a clean close (FIN) without a byte of answer: the server accepted the
  connection and then dropped it. This is the outcome that must never happen;
- ``hung``: nothing at all within the timeout.
"""
from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable

OUTCOMES = ("answered", "refused", "reset", "empty", "hung")


def donation_request(port: int, token: str, i: int) -> bytes:
    body = json.dumps({"amount": "1.00", "external_id": f"burst-{i}"}).encode()
    return (f"POST /api/v1/channels/demo/donations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


async def one_request(port: int, request: bytes, timeout: float) -> tuple[str, int | None]:
    """-> (outcome, HTTP status or None)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    except ConnectionRefusedError:
        return "refused", None
    except TimeoutError:
        return "hung", None
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readline(), timeout)
    except (ConnectionResetError, BrokenPipeError):
        return "reset", None
    except TimeoutError:
        return "hung", None
    finally:
        writer.close()
    if not head:
        return "empty", None
    return "answered", int(head.split()[1])


async def burst(port: int, requests: list[bytes], *, on_answer: Callable[[int], None] | None = None,
                timeout: float = 60) -> tuple[Counter[str], Counter[int]]:
    """Fire every request at once. ``on_answer(n)`` is called with the count of answers so far."""
    outcomes: Counter[str] = Counter()
    statuses: Counter[int] = Counter()

    async def run(request: bytes) -> None:
        outcome, status = await one_request(port, request, timeout)
        outcomes[outcome] += 1
        if status is not None:
            statuses[status] += 1
            if on_answer is not None:
                on_answer(outcomes["answered"])

    await asyncio.gather(*(run(r) for r in requests))
    return outcomes, statuses

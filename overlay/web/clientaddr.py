"""The address of the client behind a request, the one thing every per-client limit keys on.

Behind a reverse proxy every request comes from the proxy: the client is then read
from ``X-Forwarded-For``, but only when the peer is a proxy the config trusts
(``server.trusted_proxies``). Anyone else could write any address there and get a
fresh limit with every request.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 20  # a longer chain is not a real one; do not spend time walking it


@lru_cache(maxsize=16)
def networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket is the same client.
    return addr.ipv4_mapped or addr if isinstance(addr, ipaddress.IPv6Address) else addr


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[Network]) -> bool:
    return any(addr.version == net.version and addr in net for net in trusted)


def client_address(request: web.Request, trusted_proxies: Sequence[str]) -> str:
    """The peer's address; behind trusted proxies, the right-most untrusted hop of X-Forwarded-For."""
    peer = _address(request.remote or "")
    if peer is None:
        return request.remote or "unknown"
    trusted = networks(tuple(trusted_proxies))
    if not trusted or not _trusted(peer, trusted):
        return str(peer)
    hops = ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")[-MAX_HOPS:]
    client = peer
    # Right to left: each trusted proxy vouches for the hop before it; the first
    # untrusted one is the client (anything further left is whatever it wrote).
    for hop in reversed(hops):
        addr = _address(hop)
        if addr is None:
            break
        client = addr
        if not _trusted(addr, trusted):
            break
    return str(client)

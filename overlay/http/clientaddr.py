"""The address of the client behind a request, the one thing every per-client limit keys on.

Behind a reverse proxy every request comes from the proxy: the client is then read
from ``X-Forwarded-For`` (or, when a request carries none, from the standard
``Forwarded: for=...``), but only when the peer is a proxy the config trusts
(``server.trusted_proxies``). Anyone else could write any address there and get a
fresh limit with every request. A hop may carry its port, as some proxies write it
(``203.0.113.5:4711``, ``[2001:db8::1]:4711``); a ``Forwarded`` element without an
address (``for=unknown``, an obfuscated ``for=_hidden``) names nobody, and ends the walk
like any hop that cannot be read.

IPv6 clients are limited per /64: one subscriber usually holds a whole /64 and can pick
a fresh address in it for every request.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from aiohttp import web

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 20  # a longer chain is not a real one; do not spend time walking it
IPV6_PREFIX = 64


@lru_cache(maxsize=16)
def networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _address(text: str) -> Address | None:
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket is the same client.
    return addr.ipv4_mapped or addr if isinstance(addr, ipaddress.IPv6Address) else addr


def _hop(text: str) -> Address | None:
    """One hop as proxies write it: an address, ``ipv4:port``, or ``[ipv6]`` with or without ``:port``."""
    text = text.strip().strip('"')
    if text.startswith("["):
        host, closed, port = text[1:].partition("]")
        if not closed or (port and not (port[0] == ":" and port[1:].isdigit())):
            return None
        return _address(host)
    if text.count(":") == 1:  # a bare IPv6 address has at least two colons
        host, _, port = text.partition(":")
        return _address(host) if port.isdigit() else None
    return _address(text)


def _forwarded_for(header: str) -> list[str]:
    """The ``for=`` of each element of RFC 7239 ``Forwarded``, in order ("" when an element has none)."""
    hops = []
    for element in header.split(","):
        pairs = (pair.partition("=") for pair in element.split(";"))
        hops.append(next((value for name, _, value in pairs if name.strip().lower() == "for"), ""))
    return hops


def _hops(request: web.Request) -> list[str]:
    forwarded_for = request.headers.getall("X-Forwarded-For", [])
    if forwarded_for:
        return ",".join(forwarded_for).split(",")[-MAX_HOPS:]
    return _forwarded_for(",".join(request.headers.getall("Forwarded", [])))[-MAX_HOPS:]


def _trusted(addr: Address, trusted: Sequence[Network]) -> bool:
    return any(addr.version == net.version and addr in net for net in trusted)


def client_address(request: web.Request, trusted_proxies: Sequence[str]) -> str:
    """The peer's address; behind trusted proxies, the right-most untrusted hop they forward."""
    peer = _address(request.remote or "")
    if peer is None:
        return request.remote or "unknown"
    trusted = networks(tuple(trusted_proxies))
    if not trusted or not _trusted(peer, trusted):
        return str(peer)
    client = peer
    # Right to left: each trusted proxy vouches for the hop before it; the first
    # untrusted one is the client (anything further left is whatever it wrote).
    for hop in reversed(_hops(request)):
        addr = _hop(hop)
        if addr is None:
            break
        client = addr
        if not _trusted(addr, trusted):
            break
    return str(client)


def limit_key(address: str) -> str:
    """What a per-client limit counts by: the address, or for IPv6 its /64."""
    addr = _address(address)
    if isinstance(addr, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(addr) >> (128 - IPV6_PREFIX) << (128 - IPV6_PREFIX), IPV6_PREFIX)))
    return address

"""PayPal's signing certificates, fetched from the address a delivery names and kept by URL.

The address is the sender's (``PAYPAL-CERT-URL``), so the parser has already refused any
origin not in ``webhooks.paypal.cert_hosts`` before this module is asked: a forged delivery
cannot make the server request an address of the attacker's choosing. Redirects are not
followed (they could lead anywhere), the answer is read up to a small limit, and the
server's TLS certificate is checked as for any https request: that, and PayPal's own host,
is what makes the signing certificate PayPal's.
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict

import aiohttp
from aiohttp import web
from cryptography import x509

from .base import WebhookError, unauthorized

MAX_ENTRIES = 32
MAX_BYTES = 64 * 1024  # a PEM chain of a few certificates is under 10 kB
TIMEOUT_SECONDS = 10


class CertificateCache:
    """At most ``max_entries`` certificates, the least recently used dropped first."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._certs: OrderedDict[str, x509.Certificate] = OrderedDict()
        self._lock = asyncio.Lock()

    async def get(self, url: str) -> x509.Certificate:
        if url in self._certs:
            self._certs.move_to_end(url)
            return self._certs[url]
        async with self._lock:  # one fetch at a time: a burst of deliveries fetches a new URL once
            if url not in self._certs:
                self._certs[url] = await fetch(url)
                while len(self._certs) > self.max_entries:
                    self._certs.popitem(last=False)
            return self._certs[url]


def unavailable() -> WebhookError:
    # PayPal retries a non-2xx: a certificate host that is down now may answer later.
    return WebhookError(503, "certificate_unavailable", "the signing certificate could not be fetched; "
                        "try again later", {"Retry-After": "60"})


async def fetch(url: str) -> x509.Certificate:
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url, allow_redirects=False) as r:
            if r.status >= 500:
                raise unavailable()
            if r.status != 200:
                raise unauthorized("invalid_certificate", "PAYPAL-CERT-URL does not lead to a certificate")
            data = bytearray()
            async for chunk in r.content.iter_chunked(8192):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise unauthorized("invalid_certificate", "the signing certificate is too large")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        raise unavailable() from None
    try:
        return x509.load_pem_x509_certificates(bytes(data))[0]
    except ValueError:
        raise unauthorized("invalid_certificate", "PAYPAL-CERT-URL does not hold a PEM certificate") from None


CERTS = web.AppKey("paypal_certificates", CertificateCache)

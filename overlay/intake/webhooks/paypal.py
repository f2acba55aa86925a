"""PayPal webhooks (REST apps), verified the way PayPal documents as "self-verification".

PayPal signs ``<PAYPAL-TRANSMISSION-ID>|<PAYPAL-TRANSMISSION-TIME>|<webhook id>|<crc32>``,
where the webhook id is the one PayPal gave the listener URL (``webhooks.paypal.webhook_id``)
and crc32 is the CRC-32 of the raw body as an unsigned decimal, with SHA256withRSA
(``PAYPAL-AUTH-ALGO``). The signature is base64 in ``PAYPAL-TRANSMISSION-SIG``; the signing
certificate is at ``PAYPAL-CERT-URL``, which the sender chooses: it is fetched only from an
allowed origin (``cert_hosts``, PayPal's API hosts over https by default) and only under
PayPal's ``/v1/notifications/certs/`` path, see paypal_certs.

``parse`` is pure and checks what costs nothing (headers, freshness, the certificate's
address) before anything is fetched; ``verify`` checks the signature with the fetched
certificate; only then ``read_event`` reads the body.

- ``PAYMENT.CAPTURE.COMPLETED`` (PayPal Checkout, Orders v2): a donation keyed by the capture id.
- ``PAYMENT.CAPTURE.REFUNDED`` / ``PAYMENT.CAPTURE.REVERSED``: the resource is a refund whose
  ``up`` link names the capture. A refund's ``total_refunded_amount`` (else its ``amount``) says
  whether the whole capture was refunded (paypal_delivery compares it with the donation).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .base import (
    Ignored,
    IncomingDonation,
    bad_body,
    currency_code,
    get_datetime,
    get_header,
    get_id,
    get_object,
    get_str,
    load_json_object,
    parse_rfc3339,
    provider_amount,
    unauthorized,
    within,
)
from overlay.settings.webhooks import PayPalSettings

# As for Twitch: a captured delivery cannot be replayed after 10 minutes.
TOLERANCE_SECONDS = 600
AUTH_ALGO = "SHA256withRSA"
MAX_CERT_URL_LENGTH = 500  # PayPal's own limit on cert_url (verify-webhook-signature)
MAX_SIGNATURE_BYTES = 1024  # an RSA-8192 signature; PayPal's are 256 bytes
CAPTURE_COMPLETED = "PAYMENT.CAPTURE.COMPLETED"
CAPTURE_REFUNDED = "PAYMENT.CAPTURE.REFUNDED"
# A reversal (a chargeback, a payment the payer's bank took back) always takes the whole capture.
CAPTURE_REVERSED = "PAYMENT.CAPTURE.REVERSED"
_CAPTURE_PATH = "/v2/payments/captures/"
CERT_PATH = "/v1/notifications/certs/"  # where PayPal keeps its certificates


@dataclass(frozen=True)
class PayPalDelivery:
    """A delivery whose headers are in order, waiting for its certificate to be checked."""
    transmission_id: str
    cert_url: str
    signed: bytes  # the message PayPal signed
    signature: bytes
    body: bytes


@dataclass(frozen=True)
class PayPalRefund:
    """A refund of the capture ``external_id``: ``refunded`` in all so far; None = the whole capture."""
    external_id: str
    refunded: str | None
    currency: str | None


def crc32(body: bytes) -> int:
    return zlib.crc32(body) & 0xFFFFFFFF


def signed_message(transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> bytes:
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc32(body)}".encode("utf-8", "surrogatepass")


def allowed_cert_url(cert_url: str, cert_hosts: list[str]) -> bool:
    """Only PayPal's certificate path on an origin configured (a bare host means https on 443):
    never where the sender says."""
    try:
        parts = urlsplit(cert_url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password or \
            not parts.path.startswith(CERT_PATH) or "/.." in parts.path or parts.query or parts.fragment:
        return False
    origin = (parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80))
    return origin in {_origin(entry) for entry in cert_hosts}


def _origin(entry: str) -> tuple[str, str, int]:
    parts = urlsplit(entry if "://" in entry else f"https://{entry}")
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def parse(headers: Mapping[str, str], body: bytes, settings: PayPalSettings, now: datetime) -> PayPalDelivery:
    transmission_id = get_header(headers, "PAYPAL-TRANSMISSION-ID")
    transmission_time = get_header(headers, "PAYPAL-TRANSMISSION-TIME")
    received = get_header(headers, "PAYPAL-TRANSMISSION-SIG")
    cert_url = get_header(headers, "PAYPAL-CERT-URL")
    if not transmission_id or not transmission_time or not received or not cert_url:
        raise unauthorized("missing_signature", "the PAYPAL-TRANSMISSION-ID, -TIME, -SIG and PAYPAL-CERT-URL "
                                                "headers are required")
    if get_header(headers, "PAYPAL-AUTH-ALGO") != AUTH_ALGO:
        raise unauthorized("invalid_signature", f"PAYPAL-AUTH-ALGO must be {AUTH_ALGO}")
    sent_at = parse_rfc3339(transmission_time.strip())
    if sent_at is None:
        raise unauthorized("invalid_timestamp", "PAYPAL-TRANSMISSION-TIME is not an RFC 3339 timestamp")
    if not within(sent_at, now, TOLERANCE_SECONDS):
        raise unauthorized("stale_timestamp", "PAYPAL-TRANSMISSION-TIME is more than 10 minutes off")
    if len(cert_url) > MAX_CERT_URL_LENGTH or not allowed_cert_url(cert_url, settings.cert_hosts):
        raise unauthorized("certificate_not_allowed", "PAYPAL-CERT-URL is not a certificate on an allowed host")
    try:
        signature = base64.b64decode(received.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise unauthorized("invalid_signature", "PAYPAL-TRANSMISSION-SIG is not base64") from None
    if not signature or len(signature) > MAX_SIGNATURE_BYTES or len(transmission_id) > 255:
        raise unauthorized("invalid_signature", "PAYPAL-TRANSMISSION-SIG or -ID has an impossible length")
    return PayPalDelivery(transmission_id, cert_url,
                          signed_message(transmission_id, transmission_time, settings.webhook_id, body),
                          signature, body)


def verify(delivery: PayPalDelivery, certificate: x509.Certificate, now: datetime) -> None:
    """The signature, by a certificate valid now. Every failure is the one 401."""
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise unauthorized("certificate_expired", "the signing certificate is not valid now")
    try:
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise unauthorized("invalid_certificate", "the signing certificate's key cannot be read") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise unauthorized("invalid_signature", "the signing certificate does not hold an RSA key")
    try:
        key.verify(delivery.signature, delivery.signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise unauthorized("invalid_signature", "signature does not match") from None


def read_event(body: bytes) -> IncomingDonation | PayPalRefund | Ignored:
    event = load_json_object(body)
    event_type = get_str(event, "event_type") or ""
    if event_type not in (CAPTURE_COMPLETED, CAPTURE_REFUNDED, CAPTURE_REVERSED):
        return Ignored(f"paypal event type {event_type[:64]!r} is not handled")
    resource = get_object(event, "resource")
    assert resource is not None
    if event_type == CAPTURE_REFUNDED:
        return _refund(resource)
    if event_type == CAPTURE_REVERSED:
        return PayPalRefund(_capture_id(resource.get("links")), None, None)
    status = get_str(resource, "status")
    if status != "COMPLETED":
        return Ignored(f"paypal capture status is {str(status)[:32]!r}, not 'COMPLETED'")
    amount = get_object(resource, "amount")
    assert amount is not None
    currency = currency_code(amount.get("currency_code"))
    return IncomingDonation(
        external_id=get_id(resource, "id"),
        amount=provider_amount(amount.get("value"), currency),
        currency=currency,
        # A capture names no payer (PayPal keeps that on the order): the donation is anonymous.
        donor_name=None,
        message=None,
        created_at=get_datetime(resource, "create_time", strict=False),
    )


def _refund(resource: Mapping[str, Any]) -> PayPalRefund:
    capture_id = _capture_id(resource.get("links"))
    breakdown = get_object(resource, "seller_payable_breakdown", required=False) or {}
    total = get_object(breakdown, "total_refunded_amount", required=False) or \
        get_object(resource, "amount", required=False)
    if total is None:
        return PayPalRefund(capture_id, None, None)
    currency = currency_code(total.get("currency_code"))
    return PayPalRefund(capture_id, provider_amount(total.get("value"), currency), currency)


def _capture_id(links: Any) -> str:
    if not isinstance(links, list):
        raise bad_body("field 'links' must be a list")
    for link in links:
        if isinstance(link, dict) and link.get("rel") == "up" and isinstance(link.get("href"), str):
            path = urlsplit(link["href"]).path
            if path.startswith(_CAPTURE_PATH):
                return get_id({"capture": path[len(_CAPTURE_PATH):].strip("/")}, "capture")
    raise bad_body("the refund has no 'up' link to its capture")



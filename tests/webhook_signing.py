"""Sign test deliveries exactly as each platform does, for unit and app tests.

Every function takes the raw body bytes that will be sent: sign what you send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from typing import Any
from urllib.parse import urlencode


def _hmac(secret: str, message: bytes) -> hmac.HMAC:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256)


def sign_tiltify(body: bytes, secret: str, ts: str) -> str:
    """X-Tiltify-Signature for a body sent with X-Tiltify-Timestamp `ts` (RFC 3339)."""
    return base64.b64encode(_hmac(secret, ts.encode() + b"." + body).digest()).decode()


def sign_stripe(body: bytes, secret: str, t: int) -> str:
    """A full Stripe-Signature header value: `t=<t>,v1=<hex>`."""
    return f"t={t},v1={_hmac(secret, str(t).encode() + b'.' + body).hexdigest()}"


def sign_generic(body: bytes, secret: str) -> str:
    """X-Signature header value: `sha256=<hex>`."""
    return "sha256=" + _hmac(secret, body).hexdigest()


def kofi_form(payload: dict[str, Any]) -> bytes:
    """The form body Ko-fi posts: one field `data` holding the JSON payload."""
    return urlencode({"data": json.dumps(payload)}).encode("ascii")


def tiltify_headers(body: bytes, secret: str, ts: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Tiltify-Timestamp": ts,
        "X-Tiltify-Signature": sign_tiltify(body, secret, ts),
    }


def stripe_headers(body: bytes, secret: str, t: int) -> dict[str, str]:
    return {"Content-Type": "application/json", "Stripe-Signature": sign_stripe(body, secret, t)}


def generic_headers(body: bytes, secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Signature": sign_generic(body, secret)}


KOFI_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def sign_twitch(body: bytes, secret: str, message_id: str, ts: str) -> str:
    """Twitch-Eventsub-Message-Signature: `sha256=<hex HMAC of message id + timestamp + body>`."""
    return "sha256=" + _hmac(secret, message_id.encode() + ts.encode() + body).hexdigest()


def twitch_headers(body: bytes, secret: str, message_id: str, ts: str, message_type: str,
                   subscription_type: str, retry: int = 0) -> dict[str, str]:
    """Every header an EventSub webhook delivery carries."""
    return {
        "Content-Type": "application/json",
        "Twitch-Eventsub-Message-Id": message_id,
        "Twitch-Eventsub-Message-Retry": str(retry),
        "Twitch-Eventsub-Message-Type": message_type,
        "Twitch-Eventsub-Message-Signature": sign_twitch(body, secret, message_id, ts),
        "Twitch-Eventsub-Message-Timestamp": ts,
        "Twitch-Eventsub-Subscription-Type": subscription_type,
        "Twitch-Eventsub-Subscription-Version": "1",
    }


def paypal_headers(body: bytes, key: Any, webhook_id: str, cert_url: str, transmission_id: str,
                   ts: str) -> dict[str, str]:
    """Every header a PayPal webhook delivery carries: SHA256withRSA (PKCS #1 v1.5), by ``key`` (an
    RSA private key of ``cryptography``), over ``transmission id|time|webhook id|crc32(body)``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    message = f"{transmission_id}|{ts}|{webhook_id}|{zlib.crc32(body) & 0xFFFFFFFF}".encode()
    return {
        "Content-Type": "application/json",
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": ts,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode(),
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }

"""The one secret comparison: keys, tokens, signatures, CSRF and form tokens."""
from __future__ import annotations

import hmac


def _bytes(value: str | bytes) -> bytes:
    # surrogatepass: a header's undecodable byte (surrogateescape) or a lone surrogate
    # from JSON must compare as "not equal", not raise.
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value


def secret_equal(given: object, expected: str | bytes) -> bool:
    """Constant-time equality of what a client presented and the secret. Never raises:
    a missing value, a number from JSON or a non-ASCII string is simply not equal."""
    return isinstance(given, (str, bytes)) and hmac.compare_digest(_bytes(given), _bytes(expected))

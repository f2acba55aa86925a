"""The one error type: a refusal with a stable code and a message for a person (docs/api.md §4).

Every layer raises a ``Refusal``. The domain says *why* it refuses, in its own words
(``kind``), and knows nothing of HTTP; an HTTP edge (the API, a webhook, WHIP/WHEP
signalling) raises an ``ApiError``, which names its status. overlay.http.errors is the only
place that turns either into a response. No imports: the domain and the live process
use this module without pulling in the web stack.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

# Why the domain refuses; overlay.http.errors.KIND_STATUS maps each kind to an HTTP status.
Kind = Literal["invalid", "conflict", "not_found", "unavailable"]


class Refusal(Exception):
    """``code``: snake_case, stable, for programs; ``message``: for a person, never echoing a secret."""

    def __init__(self, code: str, message: str, kind: Kind = "invalid") -> None:
        super().__init__(message)
        self.code, self.message, self.kind = code, message, kind

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class ApiError(Refusal):
    """A refusal at an HTTP edge, which names its status (4xx, 503) and any headers."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(code, message)
        self.status, self.headers = status, dict(headers or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code!r}, {self.message!r})"


def error_body(code: str, message: str) -> dict[str, Any]:
    """The one error shape of every JSON answer."""
    return {"error": {"code": code, "message": message}}


class StoreUnavailable(Exception):
    """The store's backend cannot be reached; callers answer 503 so that senders retry.
    Here, not in the store, so that a handler can catch it without importing the store."""

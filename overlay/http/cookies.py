"""The name of a moderator's session cookie (per channel): set by the web API, noticed by the throttle."""
from __future__ import annotations

COOKIE_PREFIX = "overlay_session_"

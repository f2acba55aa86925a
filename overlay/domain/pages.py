"""Open overlay pages as the dashboard lists them: which announcements are accepted, and a
short name for the program showing each page, read from its user agent (untrusted text)."""
from __future__ import annotations

import re
from typing import Any

MAX_PAGES = 50          # pages listed per channel; a page beyond it still works, unlisted
MAX_USER_AGENT = 300    # characters of the user agent kept
PAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Checked in order: OBS's browser source (CEF) adds "OBS/30.2.3" to a Chrome user agent.
_CLIENTS = [(re.compile(r"\bOBS/(\d+(?:\.\d+)?)"), "OBS {}"),
            (re.compile(r"\bStreamlabs(?: Desktop| OBS)?/(\d+(?:\.\d+)?)", re.I), "Streamlabs {}"),
            (re.compile(r"\bXSplit\w*/(\d+(?:\.\d+)?)", re.I), "XSplit {}"),
            (re.compile(r"\b(?:Edg|EdgA)/(\d+)"), "Edge {}"),
            (re.compile(r"\bFirefox/(\d+)"), "Firefox {}"),
            (re.compile(r"\bHeadlessChrome/(\d+)"), "Headless Chrome {}"),
            (re.compile(r"\bChrom(?:e|ium)/(\d+)"), "Chrome {}"),
            (re.compile(r"\bVersion/(\d+(?:\.\d+)?).*\bSafari/"), "Safari {}")]


def client_name(user_agent: str) -> str:
    """"OBS 30.2", "Chrome 124"…, or "" when nothing is recognised."""
    for pattern, label in _CLIENTS:
        found = pattern.search(user_agent)
        if found:
            return label.format(found.group(1))
    return ""


def announcement(data: Any, widgets: tuple[str, ...]) -> tuple[str, str] | None:
    """(widget, page id) of a page's ``hello``, or None when it is not one we accept."""
    if not isinstance(data, dict):
        return None
    widget, page_id = data.get("widget"), data.get("page_id")
    if not isinstance(widget, str) or widget not in widgets:
        return None
    if not isinstance(page_id, str) or not PAGE_ID.fullmatch(page_id):
        return None
    return widget, page_id


def listed(page: dict[str, Any]) -> dict[str, Any]:
    """A stored entry as the API shows it."""
    return {**page, "client": client_name(page.get("user_agent", ""))}

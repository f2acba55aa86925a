"""Open overlay pages asked to load themselves again (a browser source stuck on an old page).

The request is an event in the channel's log like any other: it reaches every process and
host through the same fan-out, in order with the donations around it, and a page that was
briefly disconnected still gets it when it catches up."""
from __future__ import annotations

from overlay.domain.state import OVERLAY, Change, ChannelState


def request_reload(state: ChannelState, widget: str | None, now: int) -> Change:
    """``widget``: only that widget's pages (and scenes showing it); None: every page."""
    ch = Change.begin(state, now)
    ch.emit("reload", OVERLAY, {} if widget is None else {"widget": widget})
    return ch

"""The channel's one alert queue, as plain data and pure functions.

``paused`` and ``current`` live with the channel's scalars; the waiting queue lives
apart in the store (a table, a Redis list) and is changed by the queue operations
below, so an operation costs the same with 0 or 500 alerts waiting. Every process
computes the same ``due_at`` and tries to ``advance`` when that time comes; the
store's compare-and-set commit lets exactly one of them win, so with several
workers no alert plays twice, and none is lost when a worker dies (the others are
still ticking). Times are epoch milliseconds.
"""
from __future__ import annotations

from typing import Any

# The play event is sent this long before the alert starts, so that every overlay,
# near or far, starts it at the same moment.
LEAD_MS = 150
QUEUE_LIMIT = 500  # beyond this the newest waiting alerts are dropped, never the money
NEXT_SHOWN = 10    # waiting alerts a moderator's summary lists in full

# Queue operations, as a Change carries them to the store: (PUSH_BACK | PUSH_FRONT, item),
# (POP_FRONT | POP_BACK | CLEAR, None).
PUSH_BACK, PUSH_FRONT, POP_FRONT, POP_BACK, CLEAR = "push_back", "push_front", "pop_front", "pop_back", "clear"
QueueOp = tuple[str, Any]


def empty() -> dict[str, Any]:
    return {"paused": False, "current": None, "queue": []}


def entry(donation: dict[str, Any], duration_ms: int, tier: dict[str, Any] | None) -> dict[str, Any]:
    return {"donation": donation, "duration_ms": duration_ms, "tier": tier}


def copy_of(alerts: dict[str, Any]) -> dict[str, Any]:
    """Queue items are never changed once made, so copying the containers is enough
    (a deep copy of a long queue on every donation was the hot spot)."""
    cur = alerts["current"]
    return {**alerts, "queue": list(alerts["queue"]), "current": dict(cur) if cur else None}


def accepts(alerts: dict[str, Any], *, front: bool = False) -> bool:
    """Whether ``enqueue`` would change anything: a full queue drops the newest alert, so
    only a replay (to the front) still gets in."""
    return front or len(alerts["queue"]) < QUEUE_LIMIT


def enqueue(alerts: dict[str, Any], item: dict[str, Any], *,
            front: bool = False) -> tuple[dict[str, Any], list[QueueOp]]:
    """Queue an alert: (new alerts state, the queue operations that did it)."""
    if not accepts(alerts, front=front):
        return alerts, []
    out = copy_of(alerts)
    ops: list[QueueOp] = []
    if front:
        out["queue"].insert(0, item)
        ops.append((PUSH_FRONT, item))
    else:
        out["queue"].append(item)
        ops.append((PUSH_BACK, item))
    while len(out["queue"]) > QUEUE_LIMIT:
        out["queue"].pop()
        ops.append((POP_BACK, None))
    return out, ops


def apply_ops(queue: list[dict[str, Any]], ops: list[QueueOp]) -> list[dict[str, Any]]:
    """The queue after ``ops`` (a new list; the items are shared, never changed)."""
    out = list(queue)
    for kind, item in ops:
        if kind == PUSH_BACK:
            out.append(item)
        elif kind == PUSH_FRONT:
            out.insert(0, item)
        elif kind == POP_FRONT:
            del out[:1]
        elif kind == POP_BACK:
            del out[-1:]
        else:
            out.clear()
    return out


def playing(alerts: dict[str, Any], now_ms: int) -> dict[str, Any] | None:
    cur = alerts["current"]
    return cur if cur and now_ms < cur["ends_at"] else None


def due_at(alerts: dict[str, Any], gap_ms: int) -> int | None:
    """When the next alert may start, or None while nothing can play."""
    if alerts["paused"] or not alerts["queue"]:
        return None
    cur = alerts["current"]
    return 0 if cur is None else cur["ends_at"] + gap_ms


def advance(alerts: dict[str, Any], now_ms: int, gap_ms: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Start the next alert if it is due: (new alerts state, the started item)."""
    due = due_at(alerts, gap_ms)
    if due is None or now_ms < due:
        return None
    out = copy_of(alerts)
    item = out["queue"].pop(0)
    starts = now_ms + LEAD_MS
    out["current"] = {**item, "starts_at": starts, "ends_at": starts + item["duration_ms"]}
    return out, out["current"]


def control(alerts: dict[str, Any], action: str, now_ms: int) -> dict[str, Any]:
    """skip: cut the playing alert; pause/resume: hold or release the queue
    (a playing alert finishes); clear: drop every waiting alert and cut the playing one."""
    out = copy_of(alerts)
    cur = out["current"]
    if action in ("skip", "clear") and cur and now_ms < cur["ends_at"]:
        cur["ends_at"] = max(now_ms, cur["starts_at"])
    if action == "clear":
        out["queue"] = []
    elif action in ("pause", "resume"):
        out["paused"] = action == "pause"
    return out


def summary(alerts: dict[str, Any], now_ms: int, *, detail: bool = False) -> dict[str, Any]:
    cur = playing(alerts, now_ms)
    out: dict[str, Any] = {
        "paused": alerts["paused"],
        "playing": None if cur is None else {
            "donation": cur["donation"], "starts_at": cur["starts_at"], "ends_at": cur["ends_at"],
            "duration_ms": cur["duration_ms"], "tier": cur["tier"],
            **({"variation": cur["variation"]} if "variation" in cur else {})},
        "queue_length": len(alerts["queue"]),
    }
    if detail:
        out["next"] = [{"donation": i["donation"], "duration_ms": i["duration_ms"]} for i in alerts["queue"][:NEXT_SHOWN]]
    return out

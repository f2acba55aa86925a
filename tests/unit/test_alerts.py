"""overlay.domain.alerts: the one queue, its store operations, when the next alert plays."""
from __future__ import annotations

from typing import Any

from overlay.domain import alerts


def item(n: int, duration: int = 1000) -> dict[str, Any]:
    return alerts.entry({"id": f"d{n}"}, duration, None)


def queued(*ns: int) -> dict[str, Any]:
    state = alerts.empty()
    for n in ns:
        state, _ = alerts.enqueue(state, item(n))
    return state


def test_enqueue_says_which_operations_the_store_replays() -> None:
    state, ops = alerts.enqueue(queued(1), item(2))
    assert [i["donation"]["id"] for i in state["queue"]] == ["d1", "d2"] and ops == [(alerts.PUSH_BACK, item(2))]
    state, ops = alerts.enqueue(state, item(0), front=True)
    assert [i["donation"]["id"] for i in state["queue"]] == ["d0", "d1", "d2"]
    assert alerts.apply_ops(queued(1)["queue"], [(alerts.PUSH_BACK, item(2)), *ops]) == state["queue"]


def test_enqueue_leaves_the_state_it_was_given_untouched() -> None:
    before = queued(1)
    alerts.enqueue(before, item(2))
    assert len(before["queue"]) == 1


def test_a_full_queue_drops_the_newest_and_only_a_replay_gets_in() -> None:
    full = queued(*range(alerts.QUEUE_LIMIT))
    assert not alerts.accepts(full)
    assert alerts.enqueue(full, item(9999)) == (full, [])
    state, ops = alerts.enqueue(full, item(-1), front=True)
    assert ops == [(alerts.PUSH_FRONT, item(-1)), (alerts.POP_BACK, None)]
    assert len(state["queue"]) == alerts.QUEUE_LIMIT
    assert state["queue"][0]["donation"]["id"] == "d-1"
    assert state["queue"][-1]["donation"]["id"] == f"d{alerts.QUEUE_LIMIT - 2}"
    assert alerts.apply_ops(full["queue"], ops) == state["queue"]


def test_apply_ops_pops_and_clears_and_ignores_an_empty_queue() -> None:
    q = queued(1, 2, 3)["queue"]
    assert [i["donation"]["id"] for i in alerts.apply_ops(q, [(alerts.POP_FRONT, None), (alerts.POP_BACK, None)])] == ["d2"]
    assert alerts.apply_ops(q, [(alerts.CLEAR, None)]) == []
    assert alerts.apply_ops([], [(alerts.POP_FRONT, None), (alerts.POP_BACK, None)]) == []
    assert len(q) == 3


def test_the_first_alert_plays_at_once_with_its_lead_and_the_next_after_the_gap() -> None:
    state = queued(1, 2)
    assert alerts.due_at(state, 500) == 0
    state, started = alerts.advance(state, 10_000, 500)
    assert started["starts_at"] == 10_000 + alerts.LEAD_MS and started["ends_at"] == started["starts_at"] + 1000
    assert alerts.due_at(state, 500) == started["ends_at"] + 500
    assert alerts.advance(state, started["ends_at"] + 499, 500) is None
    state, second = alerts.advance(state, started["ends_at"] + 500, 500)
    assert second["donation"]["id"] == "d2" and state["queue"] == []
    assert alerts.due_at(state, 500) is None


def test_pause_holds_the_queue_resume_releases_it() -> None:
    paused = alerts.control(queued(1), "pause", 0)
    assert alerts.due_at(paused, 0) is None and alerts.advance(paused, 10**12, 0) is None
    assert alerts.advance(alerts.control(paused, "resume", 0), 0, 0) is not None


def test_skip_cuts_the_playing_alert_and_clear_empties_the_queue() -> None:
    state, cur = alerts.advance(queued(1, 2, 3), 1000, 0)
    now = cur["starts_at"] + 200
    assert alerts.playing(state, now) == cur
    skipped = alerts.control(state, "skip", now)
    assert skipped["current"]["ends_at"] == now and alerts.playing(skipped, now) is None
    assert len(skipped["queue"]) == 2 and state["current"]["ends_at"] == cur["ends_at"]
    early = alerts.control(state, "skip", 1000)  # before it started: it never shows
    assert early["current"]["ends_at"] == cur["starts_at"]
    cleared = alerts.control(state, "clear", now)
    assert cleared["queue"] == [] and alerts.playing(cleared, now) is None


def test_summary_lists_the_next_alerts_only_when_asked() -> None:
    state, cur = alerts.advance(queued(*range(alerts.NEXT_SHOWN + 5)), 0, 0)
    s = alerts.summary(state, cur["starts_at"], detail=True)
    assert s["playing"]["donation"] == {"id": "d0"} and s["queue_length"] == alerts.NEXT_SHOWN + 4
    assert [n["donation"]["id"] for n in s["next"]] == [f"d{i}" for i in range(1, alerts.NEXT_SHOWN + 1)]
    assert "next" not in alerts.summary(state, cur["ends_at"])
    assert alerts.summary(state, cur["ends_at"])["playing"] is None

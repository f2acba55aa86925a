"""The fast broadcast path's start-up self-test: it passes on the installed libraries, it
catches simulated drift of the internals it relies on, and a failure makes the server run
on stock python-socketio, said once in the log and on /metrics."""
from __future__ import annotations

import contextlib
import logging
from typing import Any

import pytest
import socketio

from overlay.realtime import fastcheck, fastemit, roomindex, sioguard
from overlay.realtime.handshake import Handshakes
from overlay.realtime.sioserver import make_sio_server


def test_self_test_passes_on_the_installed_libraries() -> None:
    assert fastcheck.run_self_test() == (True, "self-test passed")


def test_a_fast_path_that_is_never_taken_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # e.g. engine.io stops handing its socket to the websocket wrapper
    monkeypatch.setattr(fastemit.FastEngineIOServer, "write_direct", lambda self, sid, frame: False)
    passed, reason = fastcheck.run_self_test()
    assert not passed
    assert "never written to directly" in reason, reason


def test_a_direct_write_that_overtakes_the_queue_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # e.g. engine.io keeps its pending packets somewhere the fast path no longer sees
    def ignoring_the_queue(self: Any, eio_sid: str, frame: bytes) -> bool:
        ws = self.direct_ws.get(eio_sid)
        return ws is not None and ws.write_direct(frame)
    monkeypatch.setattr(fastemit.FastEngineIOServer, "write_direct", ignoring_the_queue)
    passed, reason = fastcheck.run_self_test()
    assert not passed
    assert "queued frame: got" in reason and "'behind'" in reason, reason


def test_a_missing_internal_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(socketio.AsyncServer, "_send_eio_packet")
    passed, reason = fastcheck.run_self_test()
    assert not passed
    assert "AttributeError" in reason and "_send_eio_packet" in reason, reason


def test_room_bookkeeping_that_drifts_from_stock_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # e.g. a release whose disconnect also clears a table the room index does not know of
    monkeypatch.setattr(roomindex.RoomIndex, "basic_disconnect", lambda self, sid, namespace, **kw: None)
    passed, reason = fastcheck.run_self_test()
    assert not passed
    assert "room bookkeeping (rooms) after disconnects" in reason, reason


def test_a_join_the_room_index_misses_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # e.g. a release that adds clients to rooms without basic_enter_room
    monkeypatch.setattr(roomindex.RoomIndex, "basic_enter_room", socketio.AsyncManager.basic_enter_room)
    passed, reason = fastcheck.run_self_test()
    assert not passed
    assert "room bookkeeping" in reason, reason


def test_a_direct_write_past_a_pending_stock_send_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # e.g. a release whose emit suspends before creating its send tasks: holding its
    # recipients would no longer keep a later fast broadcast behind them
    monkeypatch.setattr(fastemit.FastEngineIOServer, "holding", lambda self, sids: contextlib.nullcontext())
    passed, reason = fastcheck.run_self_test()
    assert not passed
    assert "emits started together" in reason, reason


def test_the_switch_forces_the_stock_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERLAY_FAST_BROADCAST", "off")
    sio = make_sio_server()
    # stock emission and manager; the server classes only add the unreadable-packet guards and
    # a packet of its own for each recipient of a binary broadcast (sioguard.py), the manager
    # only the end of each handshake (handshake.py)
    assert type(sio.manager).__mro__[1:] == (Handshakes, socketio.AsyncManager, *socketio.AsyncManager.__mro__[1:])
    assert not isinstance(sio, fastemit.FastAsyncServer)
    assert type(sio.eio) is sioguard.GuardedEngineIOServer and type(sio).emit is socketio.AsyncServer.emit
    monkeypatch.setenv("OVERLAY_FAST_BROADCAST", "on")
    assert isinstance(make_sio_server().manager, fastemit.FastEmitMixin)


async def test_failed_self_test_runs_stock_and_says_so_once(
        make_server: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("OVERLAY_FAST_BROADCAST", raising=False)
    monkeypatch.setattr(fastcheck, "_outcome", None)  # forget this process's earlier verdict
    monkeypatch.setattr(fastcheck, "_announced", None)
    monkeypatch.setattr(fastemit.FastEngineIOServer, "write_direct", lambda self, sid, frame: False)
    caplog.set_level(logging.INFO, logger="overlay.realtime.fastcheck")
    first, second = await make_server("embedded"), await make_server("embedded")
    warnings = [r for r in caplog.records if r.name == "overlay.realtime.fastcheck"]
    assert [r.levelno for r in warnings] == [logging.WARNING], warnings
    assert "stock python-socketio" in warnings[0].getMessage()
    status, text = await first.request("GET", "/metrics")
    assert status == 200
    line = next(x for x in text.splitlines() if x.startswith("overlay_fast_broadcast{"))
    assert line.endswith(" 0.0") and "never written to directly" in line, line
    # the stock server still delivers: a donation reaches an overlay
    listener = await second.listen()
    await listener.wait_for("state")
    await second.donate(amount="5.00", donor_name="Zoë")
    donation = await listener.wait_for("donation")
    assert donation["donation"]["donor_name"] == "Zoë"


async def test_metrics_show_the_fast_path_when_it_passed(make_server: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERLAY_FAST_BROADCAST", raising=False)
    running = await make_server("embedded")
    status, text = await running.request("GET", "/metrics")
    assert status == 200
    assert 'overlay_fast_broadcast{reason="self-test passed"} 1.0' in text

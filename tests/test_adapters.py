"""Library internals stay in overlay/adapters, and each adapter's fallback is taken when its
start-up check fails.

The rule, read from the source with ast: outside overlay/adapters, no attribute whose name
starts with a single underscore is read or written on anything but ``self``, ``cls`` or
``super()`` (also through getattr/setattr/hasattr/delattr with a constant name); and, by
importing every module, no class outside overlay/adapters defines a single-underscore
method that one of its library base classes already has (an override of a library's private
method). The adapters' own private names are reached only inside the adapter modules.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import logging
from pathlib import Path

import pytest

OVERLAY = Path(__file__).resolve().parent.parent / "overlay"
ADAPTERS = OVERLAY / "adapters"
# A library's public API with an underscore: namedtuple's _replace (the underscore only keeps
# it apart from field names).
PUBLIC_UNDERSCORED = {"_replace", "_asdict", "_fields", "_make"}
OWN = {"self", "cls"}


def _private(name: object) -> bool:
    return isinstance(name, str) and name.startswith("_") and not name.startswith("__") \
        and name not in PUBLIC_UNDERSCORED


def _own(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id in OWN) or \
        (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super")


def private_accesses(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _private(node.attr) and not _own(node.value):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) >= 2 \
                and isinstance(node.args[1], ast.Constant) and _private(node.args[1].value) \
                and not _own(node.args[0]):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def _outside_adapters() -> list[Path]:
    return [p for p in sorted(OVERLAY.rglob("*.py")) if ADAPTERS not in p.parents]


def test_no_private_attribute_of_another_object_outside_the_adapters() -> None:
    found = [f"{path.relative_to(OVERLAY.parent)}:{hit}"
             for path in _outside_adapters() for hit in private_accesses(path.read_text(encoding="utf-8"))]
    assert found == []


@pytest.mark.parametrize("source, hits", [
    ("server._send_eio_packet(sid, pkt)", 1),
    ("receiver._RTCRtpReceiver__kind", 1),
    ("setattr(sock, '_overlay', ws)", 1),
    ("getattr(sender, '_send_keyframe', None)", 1),
    ("self._closing.add(sid); cls._x; super()._catch_up()", 0),
    ("parts._replace(path='/')", 0),
    ("obj.__dict__; obj.public", 0),
])
def test_the_rule_sees_what_it_should(source: str, hits: int) -> None:
    assert len(private_accesses(source)) == hits


def _module_name(path: Path) -> str:
    parts = path.relative_to(OVERLAY.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_library_private_method_is_overridden_outside_the_adapters() -> None:
    found = []
    for path in _outside_adapters():
        module = importlib.import_module(_module_name(path))
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            library_bases = [b for b in cls.__mro__[1:] if not b.__module__.startswith("overlay")
                             and b.__module__ != "builtins"]
            found += [f"{cls.__module__}.{cls.__qualname__}.{name}" for name, value in vars(cls).items()
                      if _private(name) and inspect.isfunction(value)  # a method written here
                      and any(name in vars(b) for b in library_bases)]
    assert found == []


# --- the fallbacks ---

def test_the_polling_error_filter_stays_off_when_engineio_logs_another_text(monkeypatch: pytest.MonkeyPatch,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    from overlay.adapters import engineio as eio_adapter
    engineio_log = logging.getLogger("engineio.server")
    installed = [f for f in engineio_log.filters if isinstance(f, eio_adapter.PollingErrorFilter)]
    for f in installed:
        monkeypatch.setattr(engineio_log, "filters", [x for x in engineio_log.filters if x is not f])
    assert eio_adapter.polling_error_text_holds()
    monkeypatch.setattr(eio_adapter, "ENGINEIO_POST_ERROR", "a text engine.io never logs")
    with caplog.at_level(logging.WARNING, logger=eio_adapter.__name__):
        assert eio_adapter.install_polling_error_filter() is False
    assert not any(isinstance(f, eio_adapter.PollingErrorFilter) for f in engineio_log.filters)
    assert "logged in full" in caplog.text


def test_the_stock_websocket_class_stays_when_the_driver_table_moved(monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    from engineio.async_drivers import aiohttp as eio_aiohttp

    from overlay.adapters import engineio as eio_adapter
    from overlay.realtime import sioguard

    class Moved(eio_aiohttp.WebSocket):
        pass

    monkeypatch.setitem(eio_aiohttp._async, "websocket", Moved)
    with caplog.at_level(logging.WARNING, logger=sioguard.__name__):
        server = sioguard.GuardedEngineIOServer(async_mode="aiohttp")
    assert not eio_adapter.use_websocket_class(server, sioguard.GuardedWebSocket)
    assert "not where it was" in caplog.text


def test_the_packet_guard_says_so_when_python_socketio_no_longer_calls_its_hooks(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from overlay.adapters.socketio import AdaptedServer
    from overlay.realtime import sioguard

    # a release that no longer asks the hook for its engine.io server class: the stock one is built
    monkeypatch.delattr(AdaptedServer, "_engineio_server_class")
    with caplog.at_level(logging.WARNING, logger=sioguard.__name__):
        sio = sioguard.PacketGuard(async_mode="aiohttp")
    assert not sio.engine_class_took()
    assert "_engineio_server_class" in caplog.text


def test_the_packet_guard_stays_off_when_messages_no_longer_reach_its_hook(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from overlay.realtime import sioguard

    stock_on = sioguard.GuardedEngineIOServer.on

    def on(self, event, handler=None):  # a release that decodes messages somewhere else
        if event == "message":
            async def elsewhere(eio_sid, data):
                pass
            handler = elsewhere
        return stock_on(self, event, handler)

    monkeypatch.setattr(sioguard.GuardedEngineIOServer, "on", on)
    with caplog.at_level(logging.WARNING, logger=sioguard.__name__):
        sio = sioguard.PacketGuard(async_mode="aiohttp")
    assert sio.packet_guard is False
    assert "no longer decodes in _handle_eio_message" in caplog.text

"""The package layout keeps its dependency direction (docs/architecture.md).

web/intake/realtime -> service -> domain <- store; aiortc/av only in the live process.
Read from the source with ast (every import, also those inside functions), so a
violation fails here before anyone has to notice it in review.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

OVERLAY = Path(__file__).resolve().parent.parent / "overlay"
EDGES = ("overlay.web", "overlay.store", "overlay.realtime", "overlay.intake", "overlay.live")
IO_LIBRARIES = ("aiohttp", "redis", "aiortc", "av", "socketio", "engineio")


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = OVERLAY) -> set[str]:
    """Every module ``path`` imports, absolute (relative imports resolved)."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # "from overlay import web" imports overlay.web
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    root = OVERLAY / package
    return sorted(f"{path.relative_to(OVERLAY.parent)} imports {name}"
                  for path in root.rglob("*.py") for name in imports(path) if _within(name, forbidden))


def test_the_domain_does_no_io_and_knows_no_edge() -> None:
    assert violations("domain", IO_LIBRARIES + EDGES) == []


def test_the_store_imports_nothing_above_it() -> None:
    forbidden = ("overlay.web", "overlay.realtime", "overlay.intake", "overlay.live", "overlay.service",
                 "aiohttp", "socketio", "engineio", "aiortc", "av")
    assert violations("store", forbidden) == []


def test_aiortc_and_av_are_imported_only_in_the_live_package() -> None:
    outside = sorted(f"{path.relative_to(OVERLAY.parent)} imports {name}"
                     for path in OVERLAY.rglob("*.py") if OVERLAY / "live" not in path.parents
                     for name in imports(path) if _within(name, ("aiortc", "av", "aioice")))
    assert outside == []


@pytest.mark.parametrize("source, expected", [
    ("import aiohttp.web", {"aiohttp.web"}),
    ("from overlay import web", {"overlay", "overlay.web"}),
    ("def f():\n    from ..store import base", {"overlay.store", "overlay.store.base"}),
])
def test_the_checker_sees_every_kind_of_import(tmp_path: Path, source: str, expected: set[str]) -> None:
    # A checker that missed nested or relative imports would pass whatever the code does.
    fake = tmp_path / "overlay" / "domain" / "x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(source)
    assert imports(fake, tmp_path / "overlay") == expected


def test_the_domain_refuses_with_a_kind_never_an_http_status() -> None:
    # overlay.web.errors.KIND_STATUS maps kinds to statuses; a number here would bypass it.
    found = sorted(f"{path.relative_to(OVERLAY.parent)}:{node.lineno}"
                   for path in (OVERLAY / "domain").rglob("*.py")
                   for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                   if isinstance(node, ast.Call) and any(
                       isinstance(arg, ast.Constant) and type(arg.value) is int and 100 <= arg.value < 600
                       for arg in [*node.args, *(k.value for k in node.keywords)])
                   and isinstance(node.func, ast.Name) and node.func.id.endswith(("Error", "Refusal")))
    assert found == []


def test_one_secret_comparison() -> None:
    # Every other module compares secrets through overlay.secret.secret_equal, which never raises.
    users = sorted(str(path.relative_to(OVERLAY.parent)) for path in OVERLAY.rglob("*.py")
                   if "compare_digest" in path.read_text(encoding="utf-8"))
    assert users == ["overlay/secret.py"]


def test_one_error_shape() -> None:
    # Every JSON error goes through overlay.errors.error_body (rendered by overlay.web.errors).
    builders = sorted(str(path.relative_to(OVERLAY.parent)) for path in OVERLAY.rglob("*.py")
                      if '{"error": {' in path.read_text(encoding="utf-8"))
    assert builders == ["overlay/errors.py"]

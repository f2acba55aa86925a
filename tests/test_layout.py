"""The package layout keeps its dependency direction (docs/architecture.md).

web/intake/realtime -> service -> domain <- store; settings a leaf; the library adapters
(overlay/adapters) import nothing of ours; aiortc/av only in the live process and its
adapter, which the rest reaches through its link. Read from the source with ast (every
import, also those inside functions; not those under ``if TYPE_CHECKING:``) and, for the
domain and the settings, by importing each module in a fresh interpreter, so a violation
fails here before anyone has to notice it in review.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

OVERLAY = Path(__file__).resolve().parent.parent / "overlay"
EDGES = ("overlay.web", "overlay.store", "overlay.realtime", "overlay.intake", "overlay.live", "overlay.adapters")
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


def test_aiortc_and_av_are_imported_only_in_the_live_package_and_its_adapter() -> None:
    outside = sorted(f"{path.relative_to(OVERLAY.parent)} imports {name}"
                     for path in OVERLAY.rglob("*.py")
                     if OVERLAY / "live" not in path.parents and path != OVERLAY / "adapters" / "aiortc.py"
                     for name in imports(path) if _within(name, ("aiortc", "av", "aioice")))
    assert outside == []


def test_the_adapters_import_nothing_of_ours() -> None:
    assert violations("adapters", tuple(sorted(m for m in MODULES if m != "overlay" and not m.startswith("overlay.adapters")))) == []


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
    # overlay.http.errors.KIND_STATUS maps kinds to statuses; a number here would bypass it.
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
    # Every JSON error goes through overlay.errors.error_body (rendered by overlay.http.errors).
    builders = sorted(str(path.relative_to(OVERLAY.parent)) for path in OVERLAY.rglob("*.py")
                      if '{"error": {' in path.read_text(encoding="utf-8"))
    assert builders == ["overlay/errors.py"]


# --- the transitive rules: a module's whole import graph, not only its own lines ---

SERVICE = ("overlay.service",)
TOP = ("overlay.app", "overlay.cli")
# What the web process may import of the live package: the link to the live process, its
# supervisor and its viewer page (app.py and cli.py only); never the process's own modules.
LIVE_INTERFACE = ("overlay.live.link", "overlay.live.listeners", "overlay.live.supervisor", "overlay.live.page")
MODULES = {_module_name(path, OVERLAY): path for path in OVERLAY.rglob("*.py")}
# The domain must not load any of these, even through another module (checked in sys.modules).
DOMAIN_NEVER = IO_LIBRARIES + ("yaml", "overlay.config", "overlay.web", "overlay.store", "overlay.realtime", "overlay.adapters",
                                "overlay.intake", "overlay.live", "overlay.app", "overlay.cli") + SERVICE


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(body: list[ast.stmt], module_level: bool) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and _type_checking(node):
            found += _import_nodes(node.orelse, module_level)  # annotations only: never imported at run time
        elif not (module_level and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))):
            children = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt)]
            children += [s for h in getattr(node, "handlers", []) for s in h.body]
            found += _import_nodes(children, module_level)
    return found


def edges(name: str, module_level: bool = False) -> set[str]:
    """The overlay modules ``name`` imports (a name imported from a package: its module if it is one)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8")).body, module_level):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for target in targets:
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target in MODULES and target != name:
                found.add(target)
    return found


def graph(module_level: bool = False) -> dict[str, set[str]]:
    return {name: edges(name, module_level) for name in MODULES}


def closure(start: str, g: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in g[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once, as a path that returns to its start."""
    found: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    for start in sorted(g):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(g[node]):
                if nxt == start and frozenset(path) not in seen_sets:
                    seen_sets.add(frozenset(path))
                    found.append([*path, start])
                elif nxt > start and nxt not in path and len(path) < 8:
                    stack.append((nxt, [*path, nxt]))
    return found


def test_no_import_cycles() -> None:
    # Also through imports inside functions: a deferred import hides a circle, it does not remove it.
    assert cycles(graph()) == []
    assert cycles(graph(module_level=True)) == []


def test_cycles_are_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def _breaches(rule: tuple[str, ...], allowed: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    g = graph()
    return sorted(f"{name} reaches {other}" for name in MODULES if _within(name, rule)
                  for other in closure(name, g)
                  if _within(other, forbidden) and not _within(other, allowed))


def test_every_package_keeps_its_direction() -> None:
    everything = tuple(sorted(MODULES))
    assert _breaches(("overlay.settings",), ("overlay.settings", "overlay"), everything) == []
    assert _breaches(("overlay.domain",), (), DOMAIN_NEVER) == []
    assert _breaches(("overlay.store",), (), SERVICE + TOP + ("overlay.web", "overlay.realtime",
                                                               "overlay.intake", "overlay.live")) == []
    assert _breaches(SERVICE, LIVE_INTERFACE, TOP + ("overlay.web", "overlay.realtime", "overlay.intake",
                                                     "overlay.live")) == []
    assert _breaches(("overlay.web", "overlay.realtime", "overlay.intake"), ("overlay.live.link", "overlay.live.listeners"),
                     TOP + ("overlay.live",)) == []
    outside_live = tuple(name for name in MODULES if name != "overlay"
                         and not _within(name, ("overlay.live", "overlay.adapters.aiortc")))
    assert _breaches(outside_live, LIVE_INTERFACE, ("overlay.live", "overlay.adapters.aiortc")) == []


# Who may import the store: the services, and the wiring that makes the store and hands it out.
STORE_USERS = ("overlay.service", "overlay.store", "overlay.app", "overlay.cli", "overlay.config", "overlay.registry",
               "overlay.startup")


def _direct(rule: tuple[str, ...], allowed: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    g = graph()
    return sorted(f"{name} imports {other}" for name in MODULES if _within(name, rule) and not _within(name, allowed)
                  for other in g[name] if _within(other, forbidden))


def test_only_the_services_and_the_wiring_import_the_store() -> None:
    # Handlers read and write a channel through its ChannelService; annotations may name the
    # store under ``if TYPE_CHECKING:``.
    assert _direct(tuple(sorted(MODULES)), STORE_USERS, ("overlay.store",)) == []


def test_intake_and_live_do_not_import_web() -> None:
    # What they share with the web API (errors, pages, throttle, strict JSON) is in overlay.http.
    assert _breaches(("overlay.intake", "overlay.live", "overlay.http"), (), ("overlay.web",)) == []


def test_handlers_never_hold_the_store() -> None:
    # Not through an attribute either: ``svc.store`` or the app's store key in a handler (records
    # of the admin API: keys.DIRECTORY and the team board). Only set-up code hands the store on.
    found = sorted(f"{path.relative_to(OVERLAY.parent)}:{n}" for package in ("web", "intake", "http")
                   for path in (OVERLAY / package).rglob("*.py")
                   for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                   if any(f in line for f in ("svc.store", "service.store", "request.app[keys.STORE]"))
                   and not line.lstrip().startswith("#"))
    assert found == []


def _fresh_imports(modules: list[str]) -> dict[str, list[str]]:
    """For each module: sys.modules after importing it, and nothing else, in a new interpreter."""
    code = "import importlib, json, sys; importlib.import_module(sys.argv[1]); print(json.dumps(sorted(sys.modules)))"
    root = str(OVERLAY.parent)
    running = {m: subprocess.Popen([sys.executable, "-c", code, m], cwd=root, stdout=subprocess.PIPE, text=True)
               for m in modules}
    loaded = {}
    for module, proc in running.items():
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"importing {module} failed"
        loaded[module] = json.loads(out)
    return loaded


def test_the_domain_and_the_settings_load_nothing_forbidden_in_a_fresh_interpreter() -> None:
    mine = sorted(m for m in MODULES if _within(m, ("overlay.domain", "overlay.settings")))
    found = []
    for module, loaded in _fresh_imports(mine).items():
        if module.startswith("overlay.settings"):  # a leaf: nothing of ours outside overlay.settings
            found += [f"{module} loads {name}" for name in loaded if _within(name, IO_LIBRARIES + ("yaml",))
                      or (name.startswith("overlay.") and not _within(name, ("overlay.settings",)))]
        else:
            found += [f"{module} loads {name}" for name in loaded if _within(name, DOMAIN_NEVER)]
    assert found == []

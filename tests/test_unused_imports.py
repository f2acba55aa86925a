"""No module of the package imports a name it never uses (read with ast, no linter needed).

A re-export says so: ``import X as X`` or ``# noqa: F401`` on the import's first line.
"""
from __future__ import annotations

import ast
from pathlib import Path

OVERLAY = Path(__file__).resolve().parent.parent / "overlay"


def unused_imports(source: str) -> list[str]:
    tree = ast.parse(source)
    lines = source.splitlines()
    imported: dict[str, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or getattr(node, "module", None) == "__future__":
            continue
        if "noqa: F401" in lines[node.lineno - 1]:
            continue
        for alias in node.names:
            if alias.asname is not None and alias.asname == alias.name.rpartition(".")[2]:
                continue  # ``import X as X``: an explicit re-export
            imported.setdefault((alias.asname or alias.name).split(".")[0], node.lineno)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    # Names in strings: annotations under ``from __future__ import annotations``, ``__all__``.
    words = " ".join(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return [f"line {line}: {name}" for name, line in imported.items() if name not in used and name not in words]


def test_no_module_imports_a_name_it_does_not_use() -> None:
    found = {str(p.relative_to(OVERLAY.parent)): unused
             for p in sorted(OVERLAY.rglob("*.py")) if (unused := unused_imports(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_checker_sees_an_unused_import_and_lets_re_exports_be() -> None:
    source = ("from datetime import datetime, timezone\nimport json as json\n"
              "from os import path  # noqa: F401 - re-exported\nprint(datetime)\n")
    assert unused_imports(source) == ["line 1: timezone"]

"""The documentation holds together: links resolve, the README stays short, docs describe the
product as it is (history belongs in CHANGELOG.md), and the files they name exist."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# History is CHANGELOG.md's alone; every other page describes the product as it is.
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "bench/README.md",
        *sorted((ROOT / "docs").glob("*.md"))]
LINKED = [*DOCS, ROOT / "CHANGELOG.md"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`[^`\n]*`")
HISTORY = re.compile(
    r"\b(first|second|third|fourth|fifth|next|last|previous|this) session\b"
    r"|\bissues? #?[0-9]+\b|\bbefore/after\b|\bcommit [0-9a-f]{7}|`main` at\b"
    r"|\bbeyond the specification\b|\bfirst release\b|\brounds? of work\b",
    re.IGNORECASE)
# A path in backticks that starts in one of the project's folders must exist (a template's
# name, such as `overlay/page.html`, is read under overlay/templates/).
NAMED_PATH = re.compile(r"`((?:overlay|tests|bench|deploy|scripts|docs)/[\w./-]+)`")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    in_code = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            base = slug(line.lstrip("#"))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def prose(doc: Path) -> str:
    """The text outside fenced code blocks."""
    return re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_every_relative_link_points_at_a_file_and_heading_that_exist() -> None:
    broken = []
    for doc in LINKED:
        for target in LINK.findall(CODE_SPAN.sub("", prose(doc))):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (doc.parent / path).resolve() if path else doc
            if not dest.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_the_readme_stays_short() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 160


def test_docs_describe_the_product_not_its_history() -> None:
    found = [f"{doc.relative_to(ROOT)}: {m.group(0)!r}" for doc in DOCS
             for m in HISTORY.finditer(doc.read_text(encoding="utf-8"))]
    assert found == []


def test_paths_the_docs_name_exist() -> None:
    missing = [f"{doc.relative_to(ROOT)}: {p}" for doc in DOCS
               for p in NAMED_PATH.findall(doc.read_text(encoding="utf-8"))
               if not any((base / p.rstrip("/.")).exists() for base in (ROOT, ROOT / "overlay/templates"))]
    assert missing == []

"""deploy/Dockerfile: built and run where a container engine answers, linted always.

hadolint is neither a Debian package here nor something the test environment installs, so
the rules that matter for this image are checked by the small linter below."""
from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import urllib.request

from tests.support import ROOT, WAIT, free_port, until

DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments left out."""
    joined = re.sub(r"\\\n", " ", "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")))
    return [(m.group(1).upper(), m.group(2).strip())
            for m in re.finditer(r"^\s*([A-Za-z]+)\s+(.*)$", joined, re.MULTILINE)]


def lint(text: str) -> list[str]:
    steps, problems = instructions(text), []
    names = [name for name, _ in steps]
    for name, args in steps:
        if name == "FROM" and not re.fullmatch(r"[\w./-]+:[\w.-]+(@sha256:[0-9a-f]{64})?( AS \w+)?", args, re.I):
            problems.append(f"FROM {args}: name a tag")
        if name == "FROM" and re.search(r":latest\b", args):
            problems.append(f"FROM {args}: a moving 'latest' tag")
        if name == "ADD" and re.search(r"https?://", args):
            problems.append(f"ADD {args}: fetch with a checked download, not ADD of a URL")
        if name == "RUN" and "apt-get install" in args and "rm -rf /var/lib/apt/lists" not in args:
            problems.append("RUN apt-get install without removing /var/lib/apt/lists in the same layer")
    users = [args for name, args in steps if name == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("no non-root USER")
    if "HEALTHCHECK" not in names:
        problems.append("no HEALTHCHECK")
    installs = [i for i, (name, args) in enumerate(steps) if name == "RUN" and "pip install" in args]
    copies = [i for i, (name, args) in enumerate(steps) if name == "COPY" and "pyproject.toml" in args]
    if not installs or not copies or copies[0] > installs[0]:
        problems.append("COPY the package (pyproject.toml) before RUN pip install")
    return problems


def test_the_linter_catches_what_it_is_for() -> None:
    bad = "FROM python:latest\nADD https://x.example/a.tgz /a\nRUN pip install .\nCOPY pyproject.toml .\n" \
          "RUN apt-get update && apt-get install -y curl\n"
    assert len(lint(bad)) == 6, lint(bad)
    assert lint("FROM python\nUSER 0\nHEALTHCHECK NONE\nCOPY pyproject.toml .\nRUN pip install .\n") \
        == ["FROM python: name a tag", "no non-root USER"]


def test_the_dockerfile_passes_the_lint_and_runs_what_the_docs_say() -> None:
    text = DOCKERFILE.read_text()
    assert lint(text) == []
    steps = dict(instructions(text))
    assert steps["FROM"].startswith("python:3.11-slim")
    assert '"python", "/app/server.py"' in steps["ENTRYPOINT"] and '"--host", "0.0.0.0"' in steps["CMD"]
    assert '"/data"' in steps["VOLUME"] and "/healthz" in steps["HEALTHCHECK"]


def engine() -> str | None:
    """docker or podman, if one is installed and its daemon answers (a client alone cannot build)."""
    for name in ("podman", "docker"):
        if shutil.which(name) and subprocess.run([name, "info"], capture_output=True, timeout=WAIT).returncode == 0:
            return name
    return None


def test_the_image_builds_and_answers_healthz_where_an_engine_runs() -> None:
    found = engine()
    if found is None:  # this machine: the docker client without a daemon; the lint above still ran
        return
    tag = "overlay-test-image"
    subprocess.run([found, "build", "-f", str(DOCKERFILE), "-t", tag, str(ROOT)], check=True, timeout=1200)
    port = free_port()
    cid = subprocess.run([found, "run", "-d", "-p", f"127.0.0.1:{port}:8080", tag], check=True, timeout=WAIT,
                         capture_output=True, text=True).stdout.strip()
    try:
        status = [0]

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    status[0] = r.status
            except OSError:
                return False
            return status[0] == 200
        _wait(healthy)
        user = subprocess.run([found, "exec", cid, "id", "-u"], capture_output=True, text=True, timeout=WAIT)
        assert user.stdout.strip() == "10001"
    finally:
        subprocess.run([found, "rm", "-f", cid], capture_output=True, timeout=WAIT)


def _wait(check: object) -> None:
    async def poll() -> bool:
        return await asyncio.get_running_loop().run_in_executor(None, check)  # type: ignore[arg-type]
    asyncio.run(until(poll, what="the container's /healthz", timeout=180))

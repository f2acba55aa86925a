"""Speech engines: Piper (neural, a voice model file) or eSpeak NG (Debian's package).

eSpeak NG: each synthesis is one subprocess (asyncio.create_subprocess_exec) writing a WAV
file. Piper: the piper-tts library in worker threads (overlay.speech.piper). Either way the
event loop never waits for it. Nothing is downloaded: a Piper voice that cannot be used
falls back to eSpeak NG with one ERROR log saying why; an engine that is not installed is
reported unavailable with the reason, and alerts then play without speech.
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from overlay.config import ChannelSettings
from overlay.domain.tts import without_markup
from overlay.speech import piper

log = logging.getLogger(__name__)
TIMEOUT_S = 30.0
MAX_CLIP_BYTES = 20 * 1024 * 1024


class SpeechFailed(Exception):
    """The engine ran but gave no clip (crashed, timed out, wrote nothing)."""


@dataclass(frozen=True)
class Engine:
    name: str                      # "piper", "espeak-ng" or "none"
    command: tuple[str, ...] = ()  # eSpeak NG: argv up to the output file, which is appended
    reason: str = ""               # why this engine (or none) was chosen
    model: Path | None = None      # Piper: the voice model file
    error: str = ""                # why the configured Piper voice is not used (logged as an ERROR)

    @property
    def available(self) -> bool:
        return bool(self.command) or self.model is not None

    async def synthesize(self, text: str) -> bytes:
        """The WAV clip of ``text``, read as plain words: neither engine has a switch that turns
        its phoneme input ([[...]]) off, so the markup goes here, whoever the caller is."""
        text = without_markup(text)
        if self.model is not None:
            try:
                data = await piper.synthesize(self.model, text)
            except piper.PiperFailed as exc:
                raise SpeechFailed(str(exc)) from None
        else:
            data = await self._run(text)
        if len(data) <= 44:  # a bare WAV header: no samples
            raise SpeechFailed(f"{self.name} wrote no audio")
        return data

    async def _run(self, text: str) -> bytes:
        """eSpeak NG's clip (the text on stdin: no argv length or option-injection issue; no -m,
        so SSML is not interpreted)."""
        with tempfile.TemporaryDirectory(prefix="overlay-tts-") as tmp:
            out = Path(tmp) / "clip.wav"
            proc = await asyncio.create_subprocess_exec(
                *self.command, str(out), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            try:
                _, err = await asyncio.wait_for(proc.communicate(text.encode()), TIMEOUT_S)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                proc.kill()
                await proc.wait()
                raise
            if proc.returncode != 0:
                raise SpeechFailed(f"{self.name} exited with {proc.returncode}: {err.decode(errors='replace')[:200]}")
            return await asyncio.to_thread(_read_clip, out)


def _read_clip(path: Path) -> bytes:
    if not path.exists() or path.stat().st_size > MAX_CLIP_BYTES:
        return b""
    return path.read_bytes()


def espeak_voice(locale: str) -> str:
    """eSpeak NG's voice for a locale: fr_FR -> fr, en_US -> en-us, en_GB -> en-gb."""
    lang, _, region = locale.partition("_")
    return f"{lang}-{region.lower()}" if lang == "en" and region in ("US", "GB") else lang


def choose_engine(cfg: ChannelSettings) -> Engine:
    """The engine for a channel, decided once at start-up."""
    tts = cfg.alerts.tts
    if not tts.enabled:
        return Engine("none", reason="alerts.tts.enabled is false")
    voice = tts.voice
    error = ""
    if voice and voice.endswith(".onnx"):
        problem = piper.voice_problem(Path(voice))
        if problem is None:
            return Engine("piper", reason=f"Piper, voice {Path(voice).name}", model=Path(voice))
        error, voice = problem, None  # fall back on eSpeak NG in the channel's language
    fallback = f"{error}; " if error else ""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        return Engine("none", reason=fallback + "espeak-ng is not installed (apt-get install espeak-ng)", error=error)
    voice = voice or espeak_voice(cfg.locale)
    return Engine("espeak-ng", (espeak, "-b", "1", "--stdin", "-v", voice, "-w"),
                  fallback + f"eSpeak NG, voice {voice}", error=error)

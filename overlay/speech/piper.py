"""Piper voices (neural): the piper-tts package's Python API, in worker threads.

The optional extra ``overlay[piper]`` installs piper-tts (and onnxruntime). A voice is a
model file ``NAME.onnx`` with its config ``NAME.onnx.json`` beside it, which the user
downloaded once: nothing is fetched here. The model is loaded once per process (at
start-up, in a thread) and shared by every channel that names it; each clip is made in a
thread too, so the event loop never waits (onnxruntime computes without the GIL).

One synthesis at a time per process: Piper's phonemizer is eSpeak NG's library, whose
state (the current voice) is global to the process. onnxruntime gets one core
(THREADS), so a synthesis never takes the whole machine from the server.
"""
from __future__ import annotations

import asyncio
import importlib.metadata
import io
import json
import logging
import threading
import wave
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
THREADS = 1
_LOCK = threading.Lock()            # guards _VOICES and every synthesis (see above)
_VOICES: dict[Path, Any] = {}       # model path -> piper.PiperVoice, loaded once per process


class PiperFailed(Exception):
    """The voice could not be loaded or gave no audio."""


def installed() -> str | None:
    """piper-tts's version, or None when it is not installed."""
    try:
        return importlib.metadata.version("piper-tts")
    except importlib.metadata.PackageNotFoundError:
        return None


def voice_problem(model: Path) -> str | None:
    """Why this voice cannot be used, found without loading it (start-up stays quick), or None."""
    if installed() is None:
        return "piper-tts is not installed (pip install 'overlay[piper]')"
    if not model.is_file():
        return f"voice file {model} not found"
    config = Path(f"{model}.json")
    try:
        settings = json.loads(config.read_text(encoding="utf-8"))
    except OSError:
        return f"voice config {config} not found (the .onnx.json file goes beside the model)"
    except ValueError:
        return f"voice config {config} is not JSON"
    if not isinstance(settings, dict) or not isinstance(settings.get("phoneme_id_map"), dict):
        return f"{config} is not a Piper voice config (no phoneme_id_map)"
    if settings.get("phoneme_type") == "pinyin":  # piper-tts downloads a g2pW model for these
        return "Chinese (pinyin) Piper voices download a model at run time: not supported"
    return None


def _load(model: Path) -> Any:
    """The voice, loaded on first use. Called with _LOCK held, in a worker thread."""
    voice = _VOICES.get(model)
    if voice is None:
        import onnxruntime
        from piper import PiperConfig, PiperVoice
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        settings = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
        session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                               providers=["CPUExecutionProvider"])
        voice = _VOICES[model] = PiperVoice(session=session, config=PiperConfig.from_dict(settings))
    return voice


def preload(model: Path) -> None:
    """Load the model now (a worker thread at start-up), so the first clip does not wait for it."""
    try:
        with _LOCK:
            _load(model)
    except Exception as exc:  # a broken model file: said once, at start-up; clips then fail with 503
        log.error("text-to-speech: Piper voice %s does not load: %s: %s", model, type(exc).__name__, exc)


def _speak(model: Path, text: str) -> bytes:
    out = io.BytesIO()
    try:
        with _LOCK:
            voice = _load(model)
            with wave.open(out, "wb") as wav:
                voice.synthesize_wav(text, wav)
    except Exception as exc:  # never the text in the message: it is donor input
        raise PiperFailed(f"piper failed ({type(exc).__name__})") from None
    return out.getvalue()


async def synthesize(model: Path, text: str) -> bytes:
    """The WAV clip of ``text`` in this voice, made in a worker thread."""
    return await asyncio.to_thread(_speak, model, text)

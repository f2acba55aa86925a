"""Text-to-speech of donation messages (docs/tts.md): engines run as subprocesses, clips
cached per process and served at ``/tts/...``. The rules (what is said) are in overlay.domain.tts."""
from overlay.speech.routes import setup_tts

__all__ = ["setup_tts"]

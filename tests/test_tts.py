"""Text-to-speech of messages (docs/tts.md): the rules, the clip a real engine speaks, its URL."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from overlay.config import ConfigError
from overlay.domain import tts
from tests.support import OVERLAY_KEY, channel_dict, make_config, missing

TTS = {"enabled": True, "min_amount": "5.00", "max_chars": 200}
ALERTS = {"min_amount": "1.00", "duration_ms": 1000, "gap_ms": 100, "tts": TTS}
MESSAGE = "Merci pour tout ce que vous faites, courage à toute l'équipe !"


def _cfg(tmp_path: Path, **over: Any) -> Any:
    alerts = {**ALERTS, "tts": {**TTS, **over}}
    return make_config(tmp_path, alerts=alerts, moderation={"banned_words": ["zut"]}).channels[0]


def _shown(amount: str = "10.00", message: str | None = MESSAGE, status: str = "approved") -> dict[str, Any]:
    return {"id": "d1", "amount": amount, "message": message, "status": status}


def test_speech_rules(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, max_chars=30)
    assert tts.speech_text(cfg, _shown()) == "Merci pour tout ce que vous"  # cut on a whole word
    assert tts.speech_text(cfg, _shown(amount="4.99")) is None            # below tts.min_amount
    assert tts.speech_text(cfg, _shown(message=None)) is None
    assert tts.speech_text(cfg, _shown(status="held")) is None
    assert tts.speech_text(cfg, _shown(message="*** **** !")) is None    # only masked words left
    assert tts.speech_text(cfg, _shown(message="Allez ****  les\nBleus")) == "Allez les Bleus"
    assert tts.speech_text(_cfg(tmp_path, enabled=False), _shown()) is None


def test_clip_url_is_keyed_and_changes_with_the_words(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    url = tts.clip_path(cfg, _shown())
    assert url is not None and re.fullmatch(r"/tts/demo/d1/[0-9a-f]{32}\.wav", url)
    assert tts.clip_path(cfg, _shown(message="Autre chose")) != url
    assert OVERLAY_KEY not in url


def test_speaking_alert_lasts_long_enough(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    assert tts.alert_duration(cfg, _shown(), 1000) >= tts.SOUND_MS + len(MESSAGE) * tts.MS_PER_CHAR
    assert tts.alert_duration(cfg, _shown(amount="1.00"), 1000) == 1000
    assert tts.alert_duration(cfg, _shown(), 119_000) == 119_000


def test_config_checks_tts_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        make_config(tmp_path, alerts={"tts": {"enabled": True, "min_amount": "5.001"}})
    assert err.value.problems[0].startswith("channels[0].alerts.tts.min_amount:")
    with pytest.raises(ConfigError) as err:
        make_config(tmp_path, alerts={"tts": {"max_chars": 0, "speed": 2}})
    assert sorted(err.value.problems) == ["channels[0].alerts.tts.max_chars: must be >= 1",
                                          "channels[0].alerts.tts.speed: unknown key"]


def sox_stat(path: Path) -> dict[str, float]:
    """sox's `stat` effect: the clip's length in seconds and its RMS amplitude (0 for silence)."""
    if shutil.which("sox") is None:
        missing("sox")
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    figures = dict(re.findall(r"^(Length \(seconds\)|RMS\s+amplitude):\s+([0-9.]+)$", out, re.MULTILINE))
    return {"length": float(figures["Length (seconds)"]), "rms": float(figures["RMS     amplitude"])}


def need_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        missing("espeak-ng")


async def test_alert_speaks_the_message(make_server: Any, backend: str, tmp_path: Path) -> None:
    need_espeak()
    server = await make_server(backend, alerts=ALERTS)
    overlay = await server.listen()
    await overlay.wait_for("state")
    quiet = await server.donate(amount="2.00", donor_name="Léa", message="Trop petit pour parler")
    loud = await server.donate(amount="20.00", donor_name="Hugo", message=MESSAGE)
    play_quiet = await overlay.wait_for("alert", lambda d: d.get("donation", {}).get("id") == quiet["id"])
    play = await overlay.wait_for("alert", lambda d: d.get("donation", {}).get("id") == loud["id"])
    assert "tts_url" not in play_quiet
    assert play["duration_ms"] > 1000  # room for the sound, then the speech
    async with server.http.get(server.url + play["tts_url"]) as r:
        assert r.status == 200 and r.content_type == "audio/wav"
        assert "immutable" in r.headers["Cache-Control"]
        clip = tmp_path / "clip.wav"
        clip.write_bytes(await r.read())
    stat = sox_stat(clip)
    # Real speech: seconds long (62 characters), and loud enough not to be silence.
    assert stat["length"] > 2.0 and stat["rms"] > 0.02, stat


async def test_clip_url_refuses_forgeries(make_server: Any, backend: str) -> None:
    need_espeak()
    server = await make_server(backend, alerts=ALERTS)
    d = await server.donate(amount="20.00", message=MESSAGE)
    for path in (f"/tts/demo/{d['id']}/{'0' * 32}.wav", f"/tts/demo/{d['id']}/short.wav",
                 f"/tts/nope/{d['id']}/{'0' * 32}.wav", f"/tts/demo/{'x' * 80}/{'0' * 32}.wav"):
        status, body = await server.request("GET", path, headers={})
        assert (status, body["error"]["code"]) == (404, "not_found"), path


async def test_without_an_engine_alerts_play_silently(make_server: Any, monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng, no piper: as on a machine without them
    server = await make_server("embedded", alerts=ALERTS)
    overlay = await server.listen()
    await overlay.wait_for("state")
    d = await server.donate(amount="20.00", message=MESSAGE)
    play = await overlay.wait_for("alert", lambda ev: ev.get("donation", {}).get("id") == d["id"])
    status, body = await server.request("GET", play["tts_url"], headers={})
    assert status == 503 and body["error"]["code"] == "tts_unavailable"
    assert "espeak-ng is not installed" in body["error"]["message"]


async def test_skip_speech_reaches_overlays(server: Any) -> None:
    overlay = await server.listen()
    await overlay.wait_for("state")
    status, body = await server.post("/api/v1/channels/demo/alerts/skip_speech")
    assert (status, body) == (200, {"ok": True, "action": "skip_speech"})
    await overlay.wait_for("alert", lambda d: d["action"] == "skip_speech")
    status, _ = await server.post("/api/v1/channels/demo/alerts/skip_speech", headers={})
    assert status == 401


def test_start_up_listing_says_whether_speech_works(tmp_path: Path, monkeypatch: Any) -> None:
    from overlay.cli import urls
    on = make_config(tmp_path, alerts=ALERTS)
    assert not any("text-to-speech" in line for line in urls(make_config(tmp_path)))
    if shutil.which("espeak-ng"):
        assert "  text-to-speech       on: eSpeak NG, voice fr" in urls(on)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert any(line.startswith("  text-to-speech       OFF: espeak-ng is not installed") for line in urls(on))
    voice = make_config(tmp_path, alerts={**ALERTS, "tts": {**TTS, "voice": str(tmp_path / "fr.onnx")}})
    assert any("OFF: piper is not installed; espeak-ng is not installed" in line for line in urls(voice))

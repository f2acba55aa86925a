"""Text-to-speech of messages (docs/tts.md): the rules, the clip a real engine speaks, its URL."""
from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from overlay.config import ConfigError
from overlay.domain import tts
from overlay.speech import piper
from tests.speech import ENGINES, MESSAGES, REASONS, need_espeak, piper_voice, sox_stat, tts_settings
from tests.support import OVERLAY_KEY, make_config, until

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


async def alert_for_new_donation(server: Any) -> dict[str, Any]:
    """The `alert` an overlay is sent for a donation (20.00, MESSAGE) made after it joined."""
    overlay = await server.listen()
    await overlay.wait_for("state")
    d = await server.donate(amount="20.00", message=MESSAGE)
    return await overlay.wait_for("alert", lambda ev: ev.get("donation", {}).get("id") == d["id"])


def tts_logs(caplog: Any) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.getMessage().startswith("text-to-speech")]


@pytest.mark.parametrize("engine", ENGINES)
async def test_alert_speaks_the_message(make_server: Any, backend: str, engine: str, tmp_path: Path,
                                        caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="overlay.speech")
    server = await make_server(backend, alerts={**ALERTS, "tts": {**TTS, **tts_settings(engine)}})
    assert tts_logs(caplog) == [(logging.INFO, f"text-to-speech for demo: {REASONS[engine]}")]
    overlay = await server.listen()
    await overlay.wait_for("state")
    quiet = await server.donate(amount="2.00", donor_name="Léa", message="Trop petit pour parler")
    loud = await server.donate(amount="20.00", donor_name="Hugo", message=MESSAGES[engine])
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
    # Real speech: seconds long (about 60 characters), and loud enough not to be silence.
    assert stat["length"] > 1.5 and stat["rms"] > 0.02, stat
    assert not [r for r in caplog.records if r.name.startswith("overlay.speech") and r.levelno >= logging.WARNING]


async def test_unusable_piper_voice_falls_back_on_espeak(make_server: Any, monkeypatch: Any, tmp_path: Path,
                                                         caplog: Any) -> None:
    """A Piper voice configured where piper-tts is not installed: one ERROR at start-up, then
    eSpeak NG speaks in the channel's language."""
    need_espeak()
    monkeypatch.setattr(piper, "installed", lambda: None)
    server = await make_server("embedded", alerts={**ALERTS, "tts": {**TTS, "voice": str(tmp_path / "fr.onnx")}})
    assert tts_logs(caplog) == [(logging.ERROR, "text-to-speech for demo: piper-tts is not installed "
                                 "(pip install 'overlay[piper]'); eSpeak NG, voice fr")]
    play = await alert_for_new_donation(server)
    async with server.http.get(server.url + play["tts_url"]) as r:
        assert r.status == 200
        (tmp_path / "clip.wav").write_bytes(await r.read())
    assert sox_stat(tmp_path / "clip.wav")["rms"] > 0.02


async def test_broken_piper_voice_is_reported_and_alerts_play_on(make_server: Any, tmp_path: Path,
                                                                caplog: Any) -> None:
    """A model file that is not a model (a failed download): the server starts, says so once,
    and its alerts play without speech (503 on the clip, as for any engine failure)."""
    real = piper_voice()
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"<html>not a model</html>")
    Path(f"{model}.json").write_bytes(Path(f"{real}.json").read_bytes())  # a real voice's config
    server = await make_server("embedded", alerts={**ALERTS, "tts": {**TTS, "voice": str(model)}})
    play = await alert_for_new_donation(server)
    status, body = await server.request("GET", play["tts_url"], headers={})
    assert status == 503 and body["error"]["code"] == "tts_failed"
    # The start-up load logs once it has failed, in its thread: the clip's 503 may come first.
    errors = await until(lambda: [r.getMessage() for r in caplog.records
                                  if r.name.startswith("overlay.speech") and r.levelno >= logging.ERROR],
                         what="the start-up error")
    assert len(errors) == 1 and errors[0].startswith(f"text-to-speech: Piper voice {model} does not load"), errors


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
    play = await alert_for_new_donation(server)
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
    if piper.installed():
        assert any(f"OFF: voice file {tmp_path / 'fr.onnx'} not found; espeak-ng is not installed" in line
                   for line in urls(voice))
    monkeypatch.setattr(piper, "installed", lambda: None)
    assert any("OFF: piper-tts is not installed (pip install 'overlay[piper]'); espeak-ng is not installed"
               in line for line in urls(voice))

"""GET /tts/{ch}/{donation}/{token}.wav: the spoken message of an alert ``play``'s ``tts_url``."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from overlay import keys
from overlay.config import ChannelSettings
from overlay.secret import secret_equal
from overlay.domain import tts, wire
from overlay.speech.clips import ClipCache
from overlay.speech import piper
from overlay.speech.engine import Engine, SpeechFailed, choose_engine
from overlay.http.errors import ApiError

log = logging.getLogger(__name__)
# channel -> (the settings its engine was chosen for, the engine): chosen again when they change
ENGINES: web.AppKey[dict[str, tuple[ChannelSettings, Engine]]] = web.AppKey("tts_engines")
CLIPS: web.AppKey[ClipCache] = web.AppKey("tts_clips")
# The URL changes whenever the words or the voice do (overlay.domain.tts.clip_token).
CLIP_CACHE = "private, max-age=86400, immutable"


def engine_for(app: web.Application, cfg: ChannelSettings) -> Engine:
    known = app[ENGINES].get(cfg.id)
    if known is None or known[0] is not cfg:  # a channel of the admin API, new or changed
        known = app[ENGINES][cfg.id] = (cfg, choose_engine(cfg))
    return known[1]


def tts_status(app: web.Application, channel: str) -> dict[str, Any]:
    """For the dashboard: is speech on for this channel, with which engine, or why not."""
    cfg = app[keys.REGISTRY].settings(channel)
    if cfg is None:
        return {"available": False, "engine": "none", "reason": ""}
    engine = engine_for(app, cfg)
    return {"available": engine.available, "engine": engine.name, "reason": engine.reason}


async def clip(request: web.Request) -> web.Response:
    ch, donation_id, token = (request.match_info[k] for k in ("ch", "id", "token"))
    svc = request.app[keys.REGISTRY].service(ch)
    engine = None if svc is None else engine_for(request.app, svc.cfg)
    if svc is None or engine is None or len(token) != 32 or len(donation_id) > 64:
        raise ApiError(404, "not_found", "no such clip")
    if not engine.available:
        raise ApiError(503, "tts_unavailable", f"text-to-speech is off: {engine.reason}")
    key = f"{ch}/{donation_id}/{token}"
    body = request.app[CLIPS].get(key)
    if body is None:
        text = await _checked_text(svc, donation_id, token)
        try:
            body = await request.app[CLIPS].make(key, lambda: engine.synthesize(text))
        except SpeechFailed as exc:
            log.warning("tts: %s, channel %s donation %s", exc, ch, donation_id)  # never the text: donor input
            raise ApiError(503, "tts_failed", "the speech engine failed; the alert plays without speech") from None
    return web.Response(body=body, content_type="audio/wav",
                        headers={"Cache-Control": CLIP_CACHE, "X-Content-Type-Options": "nosniff"})


async def _checked_text(svc: Any, donation_id: str, token: str) -> str:
    """The words to say, once the token proves the URL came from a ``play`` event."""
    rec = await svc.get_donation(donation_id)
    text = None if rec is None else tts.speech_text(svc.cfg, wire.donation(svc.cfg, rec), rec["amount"])
    if text is None or not secret_equal(token, tts.clip_token(svc.cfg, donation_id, text)):
        raise ApiError(404, "not_found", "no such clip")
    return text


async def _clips_context(app: web.Application) -> AsyncIterator[None]:
    app[CLIPS] = ClipCache(app[keys.CONFIG].server.tts_cache_mb * 1024 * 1024)
    # Piper voices load in worker threads while the server starts serving: not awaited here.
    models = {e.model for _, e in app[ENGINES].values() if e.model is not None}
    loading = [asyncio.ensure_future(asyncio.to_thread(piper.preload, m)) for m in models]
    yield
    await asyncio.gather(*loading)  # a thread cannot be stopped: let a load under way finish
    await app[CLIPS].close()


def setup_tts(app: web.Application) -> None:
    engines = {c.id: choose_engine(c) for c in app[keys.CONFIG].channels}
    for ch, engine in engines.items():
        if engine.error:  # a Piper voice was configured and cannot be used: say it loudly, once
            log.error("text-to-speech for %s: %s", ch, engine.reason)
        elif engine.name != "none" or "not installed" in engine.reason:
            log.info("text-to-speech for %s: %s", ch, engine.reason)
    app[ENGINES] = {c.id: (c, engines[c.id]) for c in app[keys.CONFIG].channels}
    app.cleanup_ctx.append(_clips_context)
    app.router.add_get("/tts/{ch}/{id}/{token}.wav", clip)

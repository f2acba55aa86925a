"""Donor text that tries to get around moderation through the voice or a spreadsheet, and a
clip cache that hostile messages cannot grow without bound (docs/tts.md, API.md donations.csv)."""
from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from overlay.app import create_app
from overlay.config import parse_config
from overlay.domain import export, tts
from overlay.speech.clips import ClipCache
from overlay.speech.engine import Engine, choose_engine
from overlay.speech.routes import CLIPS
from tests.speech import need_espeak, piper_voice
from tests.support import AUTH, OVERLAY_KEY, Listener, channel_dict, make_config

BANNED = ["idiot"]
TTS = {"enabled": True, "min_amount": "1.00", "max_chars": 200}
ALERTS = {"min_amount": "1.00", "duration_ms": 1000, "gap_ms": 100, "tts": TTS}
PHONEMES = "[[idj'o]]"  # eSpeak NG's phoneme spelling of the French "idiot"


def _speakable(text: str) -> str:
    return tts.speakable(text, BANNED)


@pytest.mark.parametrize("text, said", [
    (f"{PHONEMES} merci", "merci"),
    ("[[[[idj'o]]]] merci", "merci"),                    # nested
    ("merci [[idj'o", "merci"),                           # never closed: phonemes to the end
    ("merci ]] idj [ o [", "merci idj o"),                # stray brackets
    ("id[[]]iot merci", "id iot merci"),                  # markup cannot join a banned word
    ("<speak>merci</speak>", "merci"),
    ('<phoneme alphabet="ipa" ph="idjo">merci</phoneme>', "merci"),
    ('<say-as interpret-as="characters">abc</say-as> !', "abc !"),
    ('<speak><prosody rate="x-slow">merci</prosody', "merci"),  # unbalanced
    ("&#105;diot &amp; &lt;speak&gt; merci", "diot speak merci"),
    ("bonjour \x0180S tout", "bonjour 80S tout"),        # eSpeak's embedded commands (speed)
    ("id\u200biot merci", "merci"),                       # an invisible character: masked once joined
    ("Bravo IDIOT !", "Bravo !"),
    ("Je t'aime <3", "Je t'aime 3"),
])
def test_speakable_text_has_no_engine_markup(text: str, said: str) -> None:
    assert _speakable(text) == said


def test_speakable_text_never_holds_markup() -> None:
    hostile = ["[" * 5 + "x" + "]" * 3, "<" * 4 + "a>>", "&&#x69;;", "[[a]]<b>[[c]]</b>", "[<[x]>]"]
    for text in hostile:
        said = _speakable(text)
        assert not set(said) & set("[]<>\x01") and "&#" not in said, (text, said)


def _cfg(tmp_path: Path) -> Any:
    return make_config(tmp_path, alerts=ALERTS, moderation={"banned_words": BANNED}).channels[0]


def test_speech_text_is_speakable_and_masked_after_the_cut(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    shown = {"id": "d1", "amount": "10.00", "status": "approved"}
    assert tts.speech_text(cfg, {**shown, "message": PHONEMES}) is None
    assert tts.speech_text(cfg, {**shown, "message": f"{PHONEMES} merci beaucoup"}) == "merci beaucoup"
    cut = make_config(tmp_path, alerts={**ALERTS, "tts": {**TTS, "max_chars": 11}},
                      moderation={"banned_words": BANNED}).channels[0]
    # "idiotement" is no banned word, but cut at 11 characters it would end on one.
    assert tts.speech_text(cut, {**shown, "message": "Merci idiotement"}) == "Merci"


async def _alerts(server: Any, messages: list[str]) -> list[dict[str, Any]]:
    """The `play` events of donations (20.00) with ``messages``, each skipped once it arrived."""
    overlay = await server.listen()
    await overlay.wait_for("state")
    made = [await server.donate(amount="20.00", message=m) for m in messages]
    plays = []
    for d in made:
        plays.append(await overlay.wait_for("alert", lambda ev, i=d["id"]: ev.get("donation", {}).get("id") == i))
        status, _ = await server.post("/api/v1/channels/demo/alerts/skip")
        assert status == 200
    return plays


async def _clip(http: aiohttp.ClientSession, url: str) -> bytes:
    async with http.get(url) as r:
        assert r.status == 200 and r.content_type == "audio/wav", r.status
        return await r.read()


async def test_phoneme_spelling_does_not_speak_a_banned_word(make_server: Any, tmp_path: Path) -> None:
    need_espeak()
    server = await make_server("embedded", alerts=ALERTS, moderation={"banned_words": BANNED})
    alone, spelled, plain = await _alerts(server, [PHONEMES, f"{PHONEMES} merci beaucoup", "idiot merci beaucoup"])
    assert "tts_url" not in alone  # nothing left to say
    said = await _clip(server.http, server.url + spelled["tts_url"])
    # The phonemes are dropped as the plain word is masked: the same words, the same clip.
    assert said == await _clip(server.http, server.url + plain["tts_url"])
    banned = await choose_engine(server.config.channels[0]).synthesize("idiot merci beaucoup")
    assert said != banned


async def test_espeak_drops_markup_it_is_given(tmp_path: Path) -> None:
    """Whoever calls the engine, eSpeak NG reads plain text: phoneme input is not reachable."""
    need_espeak()
    engine = choose_engine(_cfg(tmp_path))
    assert engine.name == "espeak-ng" and "-m" not in engine.command  # no SSML mode
    assert await engine.synthesize(f"{PHONEMES} merci") == await engine.synthesize("merci")


async def test_piper_drops_markup_it_is_given() -> None:
    """Piper's clips differ from one run to the next (its model draws noise): the phonemes
    left in would make this clip several times as long as the words alone."""
    engine = Engine("piper", model=piper_voice())
    words = await engine.synthesize("thank you")
    spelled = await engine.synthesize("[[" + " ".join(["ˈɪdiət"] * 6) + "]] thank you")
    assert len(spelled) < 1.5 * len(words), (len(spelled), len(words))


async def test_clip_cache_is_bounded_in_bytes_least_recently_used_first() -> None:
    cache = ClipCache(max_bytes=1000)

    async def made(key: str, size: int) -> bytes:
        return await cache.make(key, lambda: asyncio.sleep(0, b"x" * size))

    for i in range(3):
        await made(f"c{i}", 300)
    assert cache.get("c0") is not None  # c0 used last: c1 goes first
    await made("c3", 300)
    assert cache.bytes == 900 and cache.get("c1") is None and cache.get("c0") is not None
    for i in range(4, 20):
        await made(f"c{i}", 300)
        assert cache.bytes <= 1000
    assert len(await made("huge", 5000)) == 5000  # served, never kept
    assert cache.get("huge") is None and cache.bytes <= 1000


async def test_clip_cache_bound_holds_on_a_server_and_evicted_clips_come_back(aiohttp_server: Any,
                                                                               tmp_path: Path) -> None:
    need_espeak()
    config = parse_config({
        "server": {"host": "127.0.0.1", "tts_cache_mb": 1},
        "storage": {"data_dir": str(tmp_path / "data")},
        "channels": [channel_dict(alerts={**ALERTS, "tts": {**TTS, "max_chars": 1000}})],
    }, env={})
    app = create_app(config)
    site = await aiohttp_server(app, host="127.0.0.1")
    base = str(site.make_url("")).rstrip("/")
    long = "Un message assez long pour faire une grosse minute de parole, numéro {0}. " * 4
    async with aiohttp.ClientSession() as http:
        server = _Client(base, http)
        plays = await _alerts(server, [long.format(i) for i in range(5)])
        await server.listener.close()
        first = [await _clip(http, base + p["tts_url"]) for p in plays]
        # Clips of about 650 kB: one fits in 1 MB, five overflow it.
        assert sum(map(len, first)) > 2 * 1024 * 1024 and max(map(len, first)) < 1024 * 1024
        assert app[CLIPS].bytes <= 1024 * 1024
        assert app[CLIPS].get(plays[0]["tts_url"].removeprefix("/tts/").removesuffix(".wav")) is None
        # An evicted clip of an alert just played is made again, the same.
        assert await _clip(http, base + plays[0]["tts_url"]) == first[0]
        assert app[CLIPS].bytes <= 1024 * 1024


class _Client:
    """What _alerts needs of tests.conftest.Running, for a server started with a config of its own."""

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url, self.http = url, http

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.post(self.url + path, json=body, headers=AUTH) as r:
            return r.status, await r.json()

    async def donate(self, **body: Any) -> dict[str, Any]:
        status, data = await self.post("/api/v1/channels/demo/donations", body)
        assert status == 201, data
        return data

    async def listen(self) -> Any:
        self.listener = await Listener().connect(self.url, "/overlay", channel="demo", key=OVERLAY_KEY)
        return self.listener


# --- donations.csv -------------------------------------------------------------------------

FORMULA = ("=", "+", "-", "@")
HOSTILE = ["hi;=1+1", "a\t=cmd", "x\r@SUM(1)", "+1", "-1", "ok, =2+3", 'a;"=cmd"', "a; -2", "\t=x"]


def _cells(text: str, delimiter: str) -> list[str]:
    return [cell for line in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for cell in line]


def _assert_no_formula(text: str) -> None:
    for delimiter in (",", ";", "\t"):
        for cell in _cells(text, delimiter):
            assert not cell.startswith(FORMULA), (delimiter, cell)


def test_csv_donor_text_is_neutralised_wherever_a_spreadsheet_splits() -> None:
    donations = [{c: None for c in export.COLUMNS} | {"donor_name": h, "message": h, "test": False,
                                                       "amount": "12.50", "external_id": h} for h in HOSTILE]
    text = export.csv_text([export.row(d) for d in donations])
    _assert_no_formula(text)
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    message = export.COLUMNS.index("message")
    assert [r[message] for r in parsed] == ["hi;'=1+1", "a\t'=cmd", "x\r'@SUM(1)", "'+1", "'-1", "ok,' =2+3",
                                            "a;'\"=cmd\"", "a;' -2", "'\t'=x"]
    assert all(r[export.COLUMNS.index("amount")] == "12.50" for r in parsed)  # ours: a number as it was
    assert '"hi;\'=1+1"' in text  # a ; in a cell is quoted, for readers that split on it


async def test_csv_export_of_hostile_donations(server: Any) -> None:
    for h in HOSTILE:
        await server.donate(amount="12.50", donor_name=h, message=h)
    async with server.http.get(server.url + "/api/v1/channels/demo/donations.csv", headers=AUTH) as r:
        assert r.status == 200
        text = await r.text()
    _assert_no_formula(text)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(HOSTILE) and {r["amount"] for r in rows} == {"12.50"}
    assert rows[0]["message"] == "hi;'=1+1" and rows[3]["donor_name"] == "'+1"

"""overlay.domain.tts: repeats collapsed, per-donor cooldown and only approved messages."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from overlay.domain import tts

NOW = 1_700_000_000_000


@pytest.mark.parametrize("text, said", [
    ("!!!!!!!!", "!!!"), ("lol lol lol lol", "lol lol lol"), ("LOL lol lol lol lol, ok", "LOL LOL LOL, ok"),
    ("gg wp gg wp gg wp gg wp", "gg wp gg wp gg wp"), ("soooooo good", "sooo good"),
    ("hello!!!", "hello!!!"), ("lol lol lol", "lol lol lol"), ("a normal message", "a normal message"),
])
def test_collapse_repeats(text: str, said: str) -> None:
    assert tts.collapse_repeats(text) == said


def channel(tmp_path: Path, **settings: Any) -> Any:
    from tests.support import make_config
    return make_config(tmp_path, alerts={"tts": {"enabled": True, "min_amount": "1.00", **settings}}).channels[0]


def donation(name: str | None = "Ann", message: str = "hello there") -> dict[str, Any]:
    return {"id": "d_1", "amount": "5.00", "status": "approved", "donor_name": name, "message": message}


def test_a_donor_is_spoken_at_most_once_per_cooldown(tmp_path: Path) -> None:
    cfg = channel(tmp_path, donor_cooldown_s=60)
    speak, spoken = tts.may_speak(cfg, None, donation(), NOW, reviewed=False)
    assert speak
    assert tts.may_speak(cfg, spoken, donation("ANN"), NOW + 59_000, reviewed=False)[0] is False
    assert tts.may_speak(cfg, spoken, donation("Bob"), NOW + 1000, reviewed=False)[0] is True
    speak, later = tts.may_speak(cfg, spoken, donation("ann"), NOW + 60_000, reviewed=False)
    assert speak and later == {"ann": NOW + 60_000}


def test_only_approved_speaks_only_what_a_moderator_approved(tmp_path: Path) -> None:
    cfg = channel(tmp_path, only_approved=True)
    assert tts.may_speak(cfg, None, donation(), NOW, reviewed=False)[0] is False
    assert tts.may_speak(cfg, None, donation(), NOW, reviewed=True)[0] is True


def test_spoken_text_collapses_repeats_and_masks_banned_words(tmp_path: Path) -> None:
    from tests.support import make_config
    cfg = make_config(tmp_path, alerts={"tts": {"enabled": True, "min_amount": "1.00"}},
                      moderation={"banned_words": ["darn"]}).channels[0]
    assert tts.speech_text(cfg, donation(message="darn it!!!!!!! lol lol lol lol")) == "it!!! lol lol lol"

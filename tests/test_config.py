import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from overlay.config import ConfigError, load_config, parse_config
from tests.support import ROOT, WAIT, channel_dict


def test_shipped_config_is_the_demo_channel() -> None:
    cfg = load_config(ROOT / "config.yaml", env={})
    ch = cfg.channels[0]
    assert (ch.id, ch.currency, ch.locale, ch.campaign.title) == ("demo", "EUR", "fr_FR", "Les Restos du Cœur")
    assert str(ch.campaign.goal) == "10000.00" and ch.match is not None
    assert (ch.match.sponsor, str(ch.match.multiplier), str(ch.match.cap)) == ("TikTok", "2", "5000.00")
    assert ch.overlay_key == "change-me-overlay-key" and cfg.storage.redis_url is None


def test_environment_interpolation() -> None:
    cfg = load_config(ROOT / "config.yaml", env={"OVERLAY_DEMO_KEY": "from-env-key-123"})
    assert cfg.channels[0].overlay_key == "from-env-key-123"
    with pytest.raises(ConfigError, match=r"channels\[0\]\.overlay_key: environment variable NOPE is not set"):
        parse_config({"channels": [channel_dict(overlay_key="${NOPE}")]}, env={})


@pytest.mark.parametrize("override,expected", [
    ({"match": {"sponsor": "T", "multiplier": "0.5", "cap": "10"}}, "channels[0].match.multiplier: must be >= 1"),
    ({"id": "Bad Id"}, "channels[0].id: String should match pattern"),
    ({"currency": "EURO"}, "channels[0].currency: unknown currency"),
    ({"locale": "zz_ZZ"}, "channels[0].locale: unknown locale"),
    ({"campaign": {"goal": "10.001"}}, "channels[0].campaign.goal: EUR amounts have at most 2 decimals"),
    ({"moderation": {"hold": "sometimes"}}, "channels[0].moderation.hold: Input should be"),
    ({"surprise": 1}, "channels[0].surprise: unknown key"),
    ({"moderator_tokens": ["short"]}, "channels[0].moderator_tokens: each token needs at least 8 characters"),
    ({"donate_page": {"max_amount": "20"}},
     "channels[0].donate_page.presets[3]: must be <= donate_page.max_amount (20)"),
    ({"donate_page": {"presets": ["5", "0.001"]}}, "channels[0].donate_page.presets[1]: EUR amounts have at most 2"),
    ({"incentives": [{"id": "g", "kind": "poll", "title": "G", "options": [{"id": "a", "label": "A"}]}]},
     "channels[0].incentives[0].options: a poll needs at least two options"),
    ({"incentives": [{"id": "t", "kind": "target", "title": "T"}]}, "channels[0].incentives[0].amount: is required"),
    ({"incentives": [{"id": "t", "title": "T"}]}, "channels[0].incentives[0].kind: is required (target, poll or reward)"),
    ({"incentives": [{"id": "t", "kind": "goal", "title": "T"}]}, "channels[0].incentives[0].kind: must be target"),
    ({"incentives": [{"id": "t", "kind": "target", "title": "T", "amount": "5", "options": []}]},
     "channels[0].incentives[0].options: unknown key"),
    ({"incentives": [{"id": "t", "kind": "target", "title": "T", "amount": "5.001"}]},
     "channels[0].incentives[0].amount: EUR amounts have at most 2"),
    ({"incentives": [{"id": "r", "kind": "reward", "title": "R", "min_amount": "5"}] * 2},
     "channels[0].incentives: incentive ids must be unique"),
    ({"incentives": [{"id": "r", "kind": "reward", "title": "R", "min_amount": "5", "colour": "red"}]},
     "channels[0].incentives[0].colour"),
])
def test_errors_name_their_key(override: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({"channels": [channel_dict(**override)]}, env={})
    assert any(p.startswith(expected) for p in exc.value.problems), exc.value.problems


def test_yaml_floats_never_become_floats(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("channels:\n  - {id: a, name: A, overlay_key: kkkkkkkk, moderator_tokens: [tttttttt],"
                    " campaign: {goal: 0.30}, fx: {USD: 0.1}}\n")
    cfg = load_config(path, env={})
    assert str(cfg.channels[0].campaign.goal) == "0.30" and str(cfg.channels[0].fx["USD"]) == "0.1"


@pytest.mark.parametrize("goal", ["1e3", "1_000", "\u0665", "+5", " 5 ", "5.", ".5"])
def test_config_amounts_follow_the_one_grammar(goal: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({"channels": [channel_dict(campaign={"goal": goal}, match={"sponsor": "T", "cap": goal})]},
                     env={})
    problems = exc.value.problems
    assert any(p.startswith("channels[0].campaign.goal: ") for p in problems), problems
    assert any(p.startswith("channels[0].match.cap: ") for p in problems), problems


def test_bad_config_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("channels:\n  - {id: demo, name: D, overlay_key: kkkkkkkk, moderator_tokens: [tttttttt],"
                    " match: {sponsor: T, multiplier: 0, cap: 10}, currency: NOPE}\n")
    proc = subprocess.run([sys.executable, str(ROOT / "server.py"), "--config", str(path)],
                          capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert "channels[0].match.multiplier: must be >= 1" in lines
    assert any(line.startswith("channels[0].currency: unknown currency") for line in lines)


def test_workers_without_redis_is_refused(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "server.py"), "--config", str(ROOT / "config.yaml"),
                           "--workers", "2"], capture_output=True, text=True, timeout=WAIT, env={"PATH": "/usr/bin"})
    assert proc.returncode == 2 and "needs the Redis backend" in proc.stderr


def test_donate_page_has_a_ceiling_unless_lifted() -> None:
    """An anonymous visitor once pledged 999,999,999.99 on a config that set no ceiling."""
    shipped = load_config(ROOT / "config.yaml", env={}).channels[0].donate_page
    assert shipped.mode == "pledge" and shipped.max_amount == Decimal("1000.00")
    default = parse_config({"channels": [channel_dict()]}, env={}).channels[0].donate_page
    assert default.max_amount == Decimal("1000")
    lifted = parse_config({"channels": [channel_dict(donate_page={"max_amount": None})]}, env={})
    assert lifted.channels[0].donate_page.max_amount is None

from overlay.config import ModerationSettings
from overlay.domain.moderation import clean_text, needs_hold, screen


def rules(**kw: object) -> ModerationSettings:
    return ModerationSettings(**kw)


def test_banned_words_are_masked_whole_words_any_case() -> None:
    s = screen(rules(banned_words=["troll", "bad word"]), "Mr TROLL", "a troll said a Bad Word; trolling ok",
               1000, 0)
    assert s.donor_name == "Mr *****"
    assert s.message == "a ***** said a ********; trolling ok"
    assert s.flagged and s.original_message == "a troll said a Bad Word; trolling ok"


def test_links_are_stripped_when_configured() -> None:
    text = "visit https://evil.example/x or www.spam.io and evil.com/page now"
    assert screen(rules(), None, text, 100, 0).message == "visit or and now"
    assert screen(rules(strip_links=False), None, text, 100, 0).message == text


def test_names_hidden_below_threshold_and_messages_cut() -> None:
    s = screen(rules(max_message_length=5), "Alice", "hello world", 499, 500)
    assert s.donor_name is None and s.message == "hello"
    assert screen(rules(), "Alice", None, 500, 500).donor_name == "Alice"


def test_invisible_and_bidi_characters_are_removed() -> None:
    assert clean_text("a\u202eb\u200bc\x00d\n\ne") == "abcd e"
    assert clean_text("   ") is None


def test_hold_modes() -> None:
    assert not needs_hold(rules(hold="none"), "msg")
    assert needs_hold(rules(hold="messages"), "msg") and not needs_hold(rules(hold="messages"), None)
    assert needs_hold(rules(hold="all"), None)

"""The moderator dashboard in a real Chromium, against a real server and real Socket.IO overlays."""
from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.support import MOD_TOKEN

# As long as allowed: an alert must still be playing when a slow machine gets to check it.
LONG_ALERTS = {"min_amount": "1.00", "duration_ms": 120_000, "gap_ms": 100}


async def test_login_shows_the_campaign_with_a_strict_session_cookie(make_server: Any, new_page: Any) -> None:
    server = await make_server(campaign={"title": "Les Restos du Cœur", "goal": "10000.00",
                                         "milestones": ["20.00", "5000.00"]})
    await server.donate(amount="12.50", donor_name="Alice", message="Courage !")
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    campaign = page.locator("#campaign")
    await expect(campaign.get_by_text("Les Restos du Cœur", exact=True)).to_be_visible()
    await expect(page.locator("#campaign-total")).to_have_text("25,00\u00a0€")
    await expect(page.locator("#feed-body tr")).to_have_count(1)
    await expect(page.locator("#feed-body tr").first).to_contain_text("Alice")
    await expect(page.locator("#milestones li.reached")).to_have_text("20,00\u00a0€reached")
    cookies = await page.context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [("overlay_session_demo", True, "Strict")]
    assert MOD_TOKEN not in await page.content() and MOD_TOKEN not in page.url
    assert await page.evaluate("document.cookie") == ""  # HttpOnly: no script can read the session
    await page.screenshot(path=screenshot_path("dashboard-logged-in"))
    log.assert_clean()


async def test_send_test_donation_plays_on_overlays_marked_test_and_never_counts(
        make_server: Any, new_page: Any) -> None:
    server = await make_server(alerts={"duration_ms": 1000, "tiers": [{"min_amount": "50.00"}]})
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    await page.get_by_label("Amount (EUR)").fill("7,50")
    await page.get_by_label("Name", exact=True).fill("Tess")
    await page.get_by_label("Message").fill("only a test")
    await page.get_by_role("button", name="Send test donation").click()
    play = await overlay.wait_for("alert", lambda e: e["action"] == "play")
    assert play["donation"]["test"] is True and play["donation"]["amount"] == "7.50"
    assert play["donation"]["donor_name"] == "Tess" and play["donation"]["source"] == "test"
    row = page.locator("#feed-body tr", has_text="Tess")
    await expect(row).to_contain_text("TEST")
    await expect(page.locator("#campaign-count")).to_have_text("0 donations")
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["campaign"]["count"] == 0 and state["campaign"]["raised"] == "0.00"
    await page.get_by_role("button", name="50,00 €").click()  # a tier preset
    await expect(page.get_by_label("Amount (EUR)")).to_have_value("50.00")
    await page.get_by_role("button", name="Random").click()
    await expect(page.get_by_label("Name", exact=True)).not_to_have_value("Tess")
    log.assert_clean()


async def test_skip_pause_resume_and_clear_reach_a_connected_overlay(make_server: Any, new_page: Any) -> None:
    server = await make_server(alerts=LONG_ALERTS)
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    for name in ("First", "Second", "Third"):
        await server.donate(amount="5", donor_name=name, test=True)
    await expect(page.locator("#now-playing")).to_contain_text("First")
    await expect(page.locator("#time-left")).to_contain_text(" s left")
    await expect(page.locator("#next-list")).to_contain_text("Second")
    await expect(page.locator("#waiting")).to_have_text("2 waiting")
    await page.screenshot(path=screenshot_path("dashboard-queue-playing"))

    await page.get_by_role("button", name="Skip").click()
    await overlay.wait_for("alert", lambda e: e["action"] == "skip")
    await overlay.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["donor_name"] == "Second")
    await expect(page.locator("#now-playing")).to_contain_text("Second")

    await page.get_by_role("button", name="Pause", exact=True).click()
    await overlay.wait_for("alert", lambda e: e["action"] == "pause")
    await expect(page.get_by_role("button", name="Resume", exact=True)).to_be_visible()
    await expect(page.locator("#paused-badge")).to_be_visible()
    await page.get_by_role("button", name="Resume", exact=True).click()
    await overlay.wait_for("alert", lambda e: e["action"] == "resume")
    await expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()

    await page.get_by_role("button", name="Clear").click()
    confirm = page.get_by_role("button", name="Click again to clear the queue")
    await expect(confirm).to_be_visible()
    await expect(page.locator("#waiting")).to_have_text("1 waiting")  # one click clears nothing
    await confirm.click()
    await overlay.wait_for("alert", lambda e: e["action"] == "clear")
    await expect(page.locator("#now-playing")).to_have_text("Nothing playing")
    await expect(page.locator("#waiting")).to_have_text("0 waiting")
    log.assert_clean()


async def test_queue_keeps_showing_what_is_next_while_donations_join_its_back(
        make_server: Any, new_page: Any) -> None:
    """Past ten waiting alerts, queue events carry only counts: the list must stay."""
    server = await make_server(alerts=LONG_ALERTS)
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    await page.get_by_role("button", name="Pause", exact=True).click()
    await expect(page.locator("#paused-badge")).to_be_visible()
    for i in range(1, 14):
        await server.donate(amount="5", donor_name=f"Donor {i}")
    await expect(page.locator("#waiting")).to_have_text("13 waiting")
    await expect(page.locator("#next-list li")).to_have_count(5)
    await expect(page.locator("#next-list li").first).to_contain_text("Donor 1")
    await expect(page.locator("#next-list li").last).to_contain_text("Donor 5")
    await page.screenshot(path=screenshot_path("dashboard-queue-long"))
    await page.get_by_role("button", name="Resume", exact=True).click()
    await expect(page.locator("#now-playing")).to_contain_text("Donor 1")
    await expect(page.locator("#next-list li").first).to_contain_text("Donor 2")
    await expect(page.locator("#waiting")).to_have_text("12 waiting")
    log.assert_clean()


async def test_keyboard_shortcuts_and_replay(make_server: Any, new_page: Any) -> None:
    server = await make_server(alerts=LONG_ALERTS)
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    donation = await server.donate(amount="20", donor_name="Replayed")
    await overlay.wait_for("alert", lambda e: e["action"] == "play")
    await page.locator("body").press("p")
    await overlay.wait_for("alert", lambda e: e["action"] == "pause")
    await page.locator("body").press("s")
    await overlay.wait_for("alert", lambda e: e["action"] == "skip")
    await page.get_by_label("Message").fill("typing s and p here must not act")  # shortcuts stay out of text fields
    await page.keyboard.press("p")
    await page.locator("#queue-h").click()  # leave the text field
    await page.keyboard.press("p")
    await overlay.wait_for("alert", lambda e: e["action"] == "resume")

    row = page.locator("#feed-body tr", has_text="Replayed")
    await row.get_by_role("button", name="Replay").focus()
    await page.keyboard.press("Enter")
    replay = await overlay.wait_for("alert", lambda e: e["action"] == "play" and len(
        [a for a in overlay.of("alert") if a["action"] == "play"]) == 2)
    assert replay["donation"]["id"] == donation["id"]
    # The replay came after every key press: one pause and one resume, none from the text field.
    actions = [e["action"] for e in overlay.of("alert")]
    assert (actions.count("pause"), actions.count("resume")) == (1, 1), actions
    await page.locator("body").press("?")
    await expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    log.assert_clean()


async def test_two_moderators_see_each_others_actions_live(make_server: Any, new_page: Any) -> None:
    server = await make_server(backend="redis", alerts=LONG_ALERTS)
    alice, alice_log = await new_page(server.url)
    bob, bob_log = await new_page(server.url)
    await log_in(alice, server.url)
    await log_in(bob, server.url)

    await alice.get_by_role("button", name="Pause", exact=True).click()
    await expect(bob.get_by_role("button", name="Resume", exact=True)).to_be_visible()
    await expect(bob.locator("#paused-badge")).to_be_visible()

    await bob.get_by_label("Name", exact=True).fill("From Bob")
    await bob.get_by_role("button", name="Send test donation").click()
    await expect(alice.locator("#feed-body tr", has_text="From Bob")).to_be_visible()
    await expect(alice.locator("#next-list")).to_contain_text("From Bob")

    await alice.get_by_label("Title", exact=True).fill("Nouvelle campagne")
    await alice.get_by_role("button", name="Save campaign").click()
    await expect(bob.locator("#campaign-title")).to_have_text("Nouvelle campagne")

    await bob.get_by_label("Cap (EUR)").fill("100")
    await bob.get_by_role("button", name="Update match").click()
    await expect(alice.locator("#match-used")).to_have_text("0,00\u00a0€ / 100,00\u00a0€")
    await server.donate(amount="30", donor_name="Real")
    await expect(alice.locator("#match-remaining")).to_have_text("70,00\u00a0€")
    await alice.get_by_role("button", name="End match").click()
    await expect(bob.locator("#match-summary")).to_have_text("No match")
    await bob.get_by_label("Ends at (optional)").fill("2099-12-31T23:30")
    await bob.get_by_role("button", name="Start match").click()
    await expect(alice.locator("#match-badge")).to_have_text("Active")
    await expect(alice.locator("#match-ends")).to_contain_text("2099")

    await alice.get_by_role("button", name="Resume", exact=True).click()
    await expect(bob.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    await bob.screenshot(path=screenshot_path("dashboard-second-moderator"))
    alice_log.assert_clean()
    bob_log.assert_clean()


async def test_overlay_links_copy_and_preview(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, log = await new_page(server.url, permissions=["clipboard-read", "clipboard-write"])
    await log_in(page, server.url)
    await page.get_by_role("button", name="Copy alert URL").click()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == "http://127.0.0.1:8080/overlay/demo/alert?key=test-overlay-key"
    await expect(page.get_by_role("status").filter(has_text="Copied alert URL.")).to_be_visible()
    frame = page.locator("#preview-frame")
    assert await frame.get_attribute("src") is None  # nothing plays until asked
    await page.get_by_role("button", name="Preview goal").click()
    await expect(frame).to_have_attribute("src", "/overlay/demo/goal?key=test-overlay-key")
    await page.locator("#links").screenshot(path=screenshot_path("dashboard-links"))
    assert log.page_errors == []


async def test_french_from_the_browser_language_and_english_on_request(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, log = await new_page(server.url, locale="fr-FR")
    await page.goto(server.url + "/dashboard/demo")
    await page.get_by_label("Jeton modérateur").fill(MOD_TOKEN)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.locator("#conn")).to_have_text("En direct")
    for name in ("Passer", "Pause", "Vider", "Envoyer un don test", "Se déconnecter"):
        await expect(page.get_by_role("button", name=name, exact=True)).to_be_visible()
    await expect(page.locator("#campaign-count")).to_have_text("0 don")
    await page.screenshot(path=screenshot_path("dashboard-french"))
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("button", name="Skip")).to_be_visible()
    await expect(page.locator("#campaign-count")).to_have_text("0 donations")
    log.assert_clean()


async def test_fits_a_laptop_screen_and_half_a_screen_beside_obs(make_server: Any, new_page: Any) -> None:
    server = await make_server(moderation={"hold": "messages", "banned_words": ["troll"]})
    await server.donate(amount="15", donor_name="Avery", message="what a troll move")
    await server.donate(amount="60", donor_name="Blake", test=True)
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    for width, height in ((1366, 768), (960, 1040)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.reload()
        await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (width, overflow)
        for name in ("Skip", "Pause", "Clear", "Approve", "Reject"):
            await expect(page.get_by_role("button", name=name, exact=True)).to_be_in_viewport()
        await page.screenshot(path=screenshot_path(f"dashboard-{width}x{height}"))
    log.assert_clean()


async def test_an_ended_session_says_so_instead_of_failing_silently(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, _ = await new_page(server.url)
    await log_in(page, server.url)
    await page.context.clear_cookies()  # as when the 12 h session expires, or the token is removed
    await page.get_by_role("button", name="Pause", exact=True).click()
    await expect(page.locator("#session-banner")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="a moderator token is required")).to_be_visible()
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["alerts"]["paused"] is False

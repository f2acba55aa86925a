"""The widget editor in a real Chromium: edit, preview, save a preset, and an OBS source
already showing that preset changes without a reload; media uploaded and used by the alert."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.dashboard_support import log_in
from tests.support import OVERLAY_KEY

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"
CHANNEL = {"alerts": {"min_amount": "1.00", "duration_ms": 120_000, "gap_ms": 200,
                      "tiers": [{"min_amount": "50.00"}]}}
CONNECTED = "() => !!window.overlay && window.overlay.client.lastSeq !== null"
ACCENT = "() => getComputedStyle(document.querySelector('.w-alert')).getPropertyValue('--accent').trim()"


async def open_editor(new_page: Any, server: Any, lang: str = "en") -> tuple[Any, Any]:
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    await page.goto(f"{server.url}/dashboard/demo/editor?lang={lang}")
    await page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")
    return page, log


async def save_preset(page: Any, name: str) -> None:
    await page.locator("#preset-name").fill(name)
    await page.locator("#save").click()
    # The address OBS gets: the server's public_url, the widget, the key and the preset.
    await expect(page.locator("#preset-url")).to_have_value(
        re.compile(re.escape(f"/overlay/demo/alert?key={OVERLAY_KEY}&preset={name}") + "$"))


async def preview_frame(page: Any, contains: str) -> Any:
    await expect(page.locator("#editor-frame")).to_have_attribute("src", re.compile(re.escape(contains)))
    frame = await (await page.query_selector("#editor-frame")).content_frame()
    await frame.wait_for_function(CONNECTED)
    return frame


async def test_edit_preview_save_and_the_open_overlay_follows(make_server: Any, new_page: Any, backend: str) -> None:
    server = await make_server(backend, **CHANNEL)
    editor, editor_log = await open_editor(new_page, server)
    await editor.locator("#f-accent_color").fill("#ffaa00")
    await save_preset(editor, "main")

    # OBS: the browser source with the preset, open from now on.
    obs, obs_log = await new_page(server.url)
    assert (await obs.goto(f"{server.url}/overlay/demo/alert?key={OVERLAY_KEY}&preset=main")).status == 200
    await obs.wait_for_function(CONNECTED)
    assert await obs.evaluate(ACCENT) == "#ffaa00"
    await obs.evaluate("() => { window.notReloaded = true; }")

    # A test donation from the editor: the alert shows in the preview and in OBS.
    await editor.locator("#send-test").click()
    await obs.wait_for_function("() => !document.querySelector('.w-alert [data-role=card]').hidden")
    await expect(obs.locator(".w-alert [data-role=test]")).to_be_visible()  # the TEST badge, on by default
    await animations_done(obs)
    await obs.screenshot(path=screenshot_path(f"editor-obs-test-badge-{backend}"))

    # Edit: the preview (unsaved settings in its URL) changes first, OBS only once saved.
    await editor.locator("#f-accent_color").fill("#22cc88")
    await editor.locator("#f-theme").select_option("light")
    await editor.locator("#f-test_badge").uncheck()
    frame = await preview_frame(editor, "accent_color=%2322cc88")
    assert await frame.evaluate(ACCENT) == "#22cc88"
    assert await obs.evaluate(ACCENT) == "#ffaa00"
    await animations_done(editor)
    await editor.screenshot(path=screenshot_path(f"editor-preview-{backend}"))

    await editor.locator("#save").click()
    await obs.wait_for_function(f"() => ({ACCENT})() === '#22cc88'")
    await expect(obs.locator(".w-alert")).to_have_attribute("data-theme", "light")
    await expect(obs.locator(".w-alert [data-role=test]")).to_be_hidden()
    assert await obs.evaluate("() => window.notReloaded === true")  # applied in place
    await animations_done(obs)
    await obs.screenshot(path=screenshot_path(f"editor-obs-after-save-{backend}"))
    editor_log.assert_clean()
    obs_log.assert_clean()


async def test_uploaded_image_and_sound_play_in_the_alert(make_server: Any, new_page: Any, backend: str) -> None:
    server = await make_server(backend, **CHANNEL)
    editor, editor_log = await open_editor(new_page, server, "fr")
    await expect(editor.get_by_role("heading", name="Médiathèque")).to_be_visible()
    await editor.locator("#media-upload").set_input_files([str(FIXTURES / "green.png"), str(FIXTURES / "tone.wav")])
    await expect(editor.locator("#media-list li")).to_have_count(2)
    image = await editor.locator("#media-list li img").get_attribute("src")
    sound = await editor.locator("#media-list li audio").get_attribute("src")
    await editor.locator("#f-tier_images-0").select_option(image.rsplit("/", 1)[1])
    await editor.locator("#f-tier_sounds-0").select_option(sound.rsplit("/", 1)[1])
    await save_preset(editor, "sons")

    obs, obs_log = await new_page(server.url)
    requested: list[str] = []
    obs.on("request", lambda r: requested.append(r.url))
    await obs.goto(f"{server.url}/overlay/demo/alert?key={OVERLAY_KEY}&preset=sons")
    await obs.wait_for_function(CONNECTED)
    await editor.locator("#send-test").click()  # 5,00 €: the base tier
    img = obs.locator(".w-alert [data-role=image]")
    await expect(img).to_have_attribute("src", image)
    await obs.wait_for_function("() => document.querySelector('.w-alert [data-role=image]').naturalWidth === 160")
    # The alert asked for the uploaded sound (the <audio> is not in the DOM: its request is what shows).
    await obs.wait_for_function("url => performance.getEntriesByType('resource').some(e => e.name.endsWith(url))",
                                arg=sound)
    assert any(u.endswith(sound) for u in requested), requested
    await animations_done(obs)
    await obs.screenshot(path=screenshot_path(f"editor-media-alert-{backend}"))
    await animations_done(editor)
    await editor.screenshot(path=screenshot_path(f"editor-fr-{backend}"), full_page=True)
    editor_log.assert_clean()
    obs_log.assert_clean()


async def test_a_goal_follows_its_preset_parts_and_title(make_server: Any, new_page: Any, backend: str) -> None:
    server = await make_server(backend)
    path = "/api/v1/channels/demo/widgets/goal/presets/main"
    assert (await server.request("PUT", path, json={"title": "Avant"}))[0] == 201
    obs, log = await new_page(server.url)
    await obs.goto(f"{server.url}/overlay/demo/goal?key={OVERLAY_KEY}&preset=main&width=1000")
    await obs.wait_for_function(CONNECTED)
    await expect(obs.locator(".w-goal [data-role=title]")).to_have_text("Avant")
    await expect(obs.locator(".w-goal [data-role=percent]")).to_be_visible()
    await obs.evaluate("() => { window.notReloaded = true; }")

    saved = {"title": "Après", "show_percent": False, "show_amounts": False, "width": 600, "accent_color": "#3355ff"}
    assert (await server.request("PUT", path, json=saved))[0] == 200
    await expect(obs.locator(".w-goal [data-role=title]")).to_have_text("Après")
    await expect(obs.locator(".w-goal [data-role=percent]")).to_be_hidden()
    await expect(obs.locator(".w-goal .goal__foot")).to_be_hidden()
    # The URL's own width stays on top of the preset's; the preset's colour applies.
    assert await obs.evaluate("() => getComputedStyle(document.querySelector('.w-goal'))"
                              ".getPropertyValue('--goal-width').trim()") == "1000px"
    assert await obs.evaluate("() => getComputedStyle(document.querySelector('.w-goal'))"
                              ".getPropertyValue('--accent').trim()") == "#3355ff"
    assert await obs.evaluate("() => window.notReloaded === true")
    await animations_done(obs)
    await obs.screenshot(path=screenshot_path(f"editor-goal-after-preset-{backend}"))
    log.assert_clean()


async def test_the_alert_timing_is_changed_for_the_whole_channel(make_server: Any, new_page: Any,
                                                                  backend: str) -> None:
    """With the alert widget, the editor shows the channel's timing (not the preset's), saves it
    through the API, and the next alert plays for the new duration; the dashboard shows it live."""
    server = await make_server(backend, **CHANNEL)
    editor, editor_log = await open_editor(new_page, server)
    dashboard = await editor.context.new_page()  # the same moderator session
    await dashboard.goto(f"{server.url}/dashboard/demo?lang=en")
    await expect(dashboard.locator("#alert-timing")).to_have_text("Each alert plays 120 s, then 0.2 s of pause.")
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")

    timing = editor.locator("#timing")
    await expect(timing).to_be_visible()  # the alert is the first widget
    await expect(timing.get_by_role("heading")).to_have_text("Timing (all alert boxes of this channel)")
    duration = editor.get_by_label("Alert duration (seconds)")
    await expect(duration).to_have_attribute("placeholder", "120")  # config.yaml's, greyed
    await expect(duration).to_have_value("")
    tier = editor.get_by_label(re.compile(r"^Tier from 50,00\s€: duration"))
    await expect(tier).to_have_attribute("placeholder", "120")  # no duration of its own: the alert's
    await duration.fill("4")
    await editor.get_by_label("Gap between alerts (seconds)").fill("0.5")
    await tier.fill("6")
    await editor.locator("#timing-save").click()
    await expect(editor.locator("#toast")).to_have_text(re.compile("Timing saved for the whole channel"))
    status, got = await server.request("GET", "/api/v1/channels/demo/alerts/timing")
    assert status == 200 and (got["duration_ms"], got["gap_ms"]) == (4000, 500)
    assert got["tiers"] == [{"min_amount": "50.00", "duration_ms": 6000}]
    await expect(dashboard.locator("#alert-timing")).to_have_text(
        "Each alert plays 4 s, then 0.5 s of pause. (changed in the widget editor)")
    await dashboard.locator("#queue").screenshot(path=screenshot_path(f"dashboard-alert-timing-{backend}"))

    # Not a preset setting: no preset was saved, and the group goes with the alert widget.
    assert (await server.request("GET", "/api/v1/channels/demo/widgets/alert/presets"))[1]["presets"] == []
    await editor.locator("#widget-select").select_option("goal")
    await expect(timing).to_be_hidden()
    await editor.locator("#widget-select").select_option("alert")
    await expect(duration).to_have_value("4")

    await editor.locator("#test-amount").select_option("50.00")
    await editor.locator("#send-test").click()
    play = await overlay.wait_for("alert", lambda d: d.get("action") == "play")
    assert play["duration_ms"] == 6000 and play["donation"]["test"] is True
    await animations_done(editor)
    await editor.evaluate("() => window.scrollTo(0, 0)")  # the sticky top bar where it belongs
    await editor.screenshot(path=screenshot_path(f"editor-alert-timing-{backend}"), full_page=True)

    await editor.locator("#timing-reset").click()
    await expect(duration).to_have_value("")
    assert (await server.request("GET", "/api/v1/channels/demo/alerts/timing"))[1]["duration_ms"] is None
    await expect(dashboard.locator("#alert-timing")).to_have_text("Each alert plays 120 s, then 0.2 s of pause.")
    editor_log.assert_clean()

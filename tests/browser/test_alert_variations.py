"""Alert variations in a real Chromium: the alert box shows the variation the server chose
(its image and its text template, donor text as text), and the editor's list of variations."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.test_editor import open_editor
from tests.support import AUTH, OVERLAY_KEY

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"
CHANNEL = {"alerts": {"min_amount": "1.00", "duration_ms": 120_000, "gap_ms": 200}, "match": None}
CONNECTED = "() => !!window.overlay && window.overlay.client.lastSeq !== null"
VARIATIONS = "/api/v1/channels/demo/alerts/variations"


async def upload(server: Any, filename: str) -> str:
    body = (FIXTURES / filename).read_bytes()
    status, got = await server.request("POST", f"/api/v1/channels/demo/media?name={filename}", data=body,
                                       headers={**AUTH, "Content-Type": "application/octet-stream"})
    assert status in (200, 201), got
    return got["name"]


async def test_the_alert_box_shows_the_variations_image_and_text(make_server: Any, new_page: Any, backend: str) -> None:
    server = await make_server(backend, **CHANNEL)
    image = await upload(server, "green.png")
    body = {"variations": [{"id": "big", "when": {"min_amount": "20"}, "image": image, "layout": "slide",
                            "text": "{name} just gave {amount}!"}]}
    assert (await server.request("PUT", VARIATIONS, json=body))[0] == 200
    obs, log = await new_page(server.url)
    await obs.goto(f"{server.url}/overlay/demo/alert?key={OVERLAY_KEY}")
    await obs.wait_for_function(CONNECTED)
    await server.donate(amount="25.00", donor_name="<b>Zoé</b>", message="Allez !")
    text = obs.locator(".w-alert [data-role=text]")
    # As text: no markup from the donor (the demo channel is French: 25,00 €).
    await expect(text).to_have_text(re.compile(r"^<b>Zoé</b> just gave 25,00\s€!$"))
    await expect(obs.locator(".w-alert [data-role=name]")).to_be_hidden()
    await expect(obs.locator(".w-alert")).to_have_attribute("data-variation", "big")
    await expect(obs.locator(".w-alert")).to_have_attribute("data-animation", "slide")
    await expect(obs.locator(".w-alert [data-role=image]")).to_have_attribute("src", f"/media/demo/{image}")
    await obs.wait_for_function("() => document.querySelector('.w-alert [data-role=image]').naturalWidth === 160")
    assert await obs.locator(".w-alert b").count() == 0
    await animations_done(obs)
    await obs.screenshot(path=screenshot_path(f"alert-variation-{backend}"))
    log.assert_clean()


async def test_the_editor_lists_adds_reorders_and_tests_variations(make_server: Any, new_page: Any, backend: str) -> None:
    server = await make_server(backend, **{**CHANNEL, "alerts": {**CHANNEL["alerts"], "variations": [
        {"id": "big", "when": {"min_amount": "50"}, "text": "{name}: {amount}!"}]}})
    image = await upload(server, "green.png")
    editor, log = await open_editor(new_page, server, "fr")
    await expect(editor.get_by_role("heading", name="Variantes (toutes les boîtes d'alerte de cette chaîne)")).to_be_visible()
    await expect(editor.locator("#variations-list > li")).to_have_count(1)
    await expect(editor.locator("#variation-0-id")).to_have_value("big")
    await editor.locator("#variations-add").click()
    await editor.locator("#variation-1-id").fill("kofi")
    await editor.locator("#variation-1-source").fill("kofi")
    await editor.locator("#variation-1-image").select_option(image)
    await editor.locator("#variation-1-text").fill("Merci {name} !")
    # Up: kofi first. Then save and test it: the preview's alert box shows it.
    await editor.locator("#variations-list > li").nth(1).get_by_role("button", name="Monter").click()
    await expect(editor.locator("#variation-0-id")).to_have_value("kofi")
    # The list is read back once the editor's save has been answered (the click only starts it).
    async with editor.expect_response(lambda r: r.url.endswith("/alerts/variations") and r.request.method == "PUT"):
        await editor.locator("#variations-list > li").nth(0).get_by_role(
            "button", name="Enregistrer et tester cette variante").click()
    status, got = await server.request("GET", "/api/v1/channels/demo/alerts/variations")
    assert status == 200 and [v["id"] for v in got["variations"]] == ["kofi", "big"]
    assert got["variations"][0]["image"] == image and got["variations"][0]["when"]["source"] == "kofi"
    frame = await (await editor.query_selector("#editor-frame")).content_frame()
    await expect(frame.locator(".w-alert")).to_have_attribute("data-variation", "kofi")
    await expect(frame.locator(".w-alert [data-role=text]")).to_contain_text("Merci ")
    # A variation that can never match: the server's message names the field.
    await editor.locator("#variation-1-max").fill("10")
    await editor.locator("#variations-save").click()
    await expect(editor.get_by_text("variations[1].when.min_amount", exact=False)).to_be_visible()
    await animations_done(editor)
    await editor.screenshot(path=screenshot_path(f"editor-variations-{backend}"), full_page=True)
    assert log.page_errors == []

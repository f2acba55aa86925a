"""Data out from the dashboard: the Export CSV button and the stream summary page, in Chromium."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in

GIFTS = [("Camille", "25.00"), ("Jean-Baptiste de La Rochefoucauld-Montbel", "120.00"), (None, "5.00"),
         ("Zoé 🎉", "300.00"), ("Camille", "10.00")]


async def seed(server: Any) -> None:
    for name, amount in GIFTS:
        await server.donate(amount=amount, donor_name=name, message="Merci !")
    await server.donate(amount="999.00", donor_name="Tess Test", test=True)


async def test_export_button_downloads_the_csv(make_server: Any, new_page: Any, tmp_path: Path) -> None:
    server = await make_server()
    await seed(server)
    page, log = await new_page(server.url, accept_downloads=True)
    await log_in(page, server.url, query="?lang=en")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Export CSV").click()
    download = await info.value
    target = tmp_path / download.suggested_filename
    await download.save_as(target)
    # The channel writes fr_FR: the file is for a French Excel, real donations only (no Tess Test).
    body = target.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    got = list(csv.DictReader(io.StringIO(body[3:].decode("utf-8"), newline=""), delimiter=";"))
    assert sorted(r["amount"] for r in got) == sorted(amount.replace(".", ",") for _, amount in GIFTS)
    assert {r["test"] for r in got} == {"false"} and download.suggested_filename.startswith("demo-donations-")
    log.assert_clean()


async def test_stream_summary_in_french_is_printable(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    await seed(server)
    page, log = await new_page(server.url, viewport={"width": 1280, "height": 1000})
    await log_in(page, server.url, query="?lang=en")
    await page.goto(f"{server.url}/dashboard/demo?lang=fr")
    await page.get_by_role("link", name="Bilan du live").click()
    await expect(page.locator("h1")).to_have_text("Les Restos du Cœur")
    # 460 € from donors, all of it doubled by the sponsor (cap 5000): 920 € = 9,2 % of 10 000 €.
    await expect(page.locator("#summary-total")).to_have_text("920,00\u00a0€")
    await expect(page.locator("#summary-raised")).to_have_text("460,00\u00a0€")
    await expect(page.locator("#summary-matched")).to_have_text("460,00\u00a0€")
    await expect(page.locator("#summary-goal")).to_have_text("9,2\u00a0% de l'objectif de 10\u202f000,00\u00a0€")
    await expect(page.locator("#per-hour rect.raised")).to_have_count(1)
    names = await page.locator("#top-donors .name").all_text_contents()
    assert names == ["Zoé 🎉", "Jean-Baptiste de La Rochefoucauld-Montbel", "Camille"]  # no test donation
    await expect(page.locator("#top-donors strong").first).to_have_text("300,00\u00a0€")
    await page.screenshot(path=screenshot_path("summary-fr"), full_page=True)
    await page.emulate_media(media="print")
    await expect(page.get_by_role("button", name="Imprimer")).to_be_hidden()
    await page.screenshot(path=screenshot_path("summary-fr-print"), full_page=True)
    log.assert_clean()

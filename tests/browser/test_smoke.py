from typing import Any

from tests.browser.conftest import screenshot_path


async def test_chromium_loads_a_static_file_from_the_server(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, log = await new_page(server.url)
    resp = await page.goto(server.url + "/healthz")
    assert resp.status == 200 and "embedded" in await page.content()
    await page.screenshot(path=screenshot_path("smoke-healthz"))
    log.assert_clean()

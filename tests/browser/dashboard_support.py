"""Helpers for the dashboard browser tests: log in as a moderator does, by the form."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from overlay.http.pages import StaticFiles
from tests.support import MOD_TOKEN

SOCKET_IO = StaticFiles().url("vendor/socket.io-client/socket.io.esm.min.js")


async def open_login(page: Any, url: str, query: str = "") -> Any:
    return await page.goto(f"{url}/dashboard/demo{query}")


async def log_in(page: Any, url: str, token: str = MOD_TOKEN, query: str = "") -> None:
    """Log in through the form and wait until the dashboard is live."""
    await open_login(page, url, query)
    await page.get_by_label("Moderator token").fill(token)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")


async def dashboard_connect_error(page: Any, auth: dict[str, Any]) -> str:
    """Try the /dashboard namespace from inside the page; the refusal message, or "connected"."""
    return await page.evaluate("""async ([src, auth]) => {
        const { io } = await import(src);
        return await new Promise((resolve) => {
            const s = io("/dashboard", { auth, reconnection: false, transports: ["websocket"] });
            s.on("connect", () => { s.disconnect(); resolve("connected"); });
            s.on("connect_error", (err) => resolve(err.message));
        });
    }""", [SOCKET_IO, auth])

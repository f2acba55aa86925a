"""Every page and widget in French and in English: no visible word of the other language, no
untranslated key. The words come from the string tables themselves (overlay.i18n's catalogs and
the editor's strings.json), so a string added to a table is checked without touching this test."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from babel.dates import format_date
from playwright.async_api import expect

from overlay import i18n
from overlay.web.editor import STRINGS as EDITOR_STRINGS
from overlay.widgets import REGISTRY
from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_live_page import PHONE, STREAM_KEY
from tests.live.peers import publish
from tests.support import OVERLAY_KEY

LANGS = ("fr", "en")
KEY_LIKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")
# Every visible text node of the page's own document (iframes are visited on their own); <code>
# holds identifiers (a widget's name in its URL, a config key), the same in every language.
VISIBLE_TEXT = """() => {
    const out = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const text = n.textContent.trim(), el = n.parentElement;
        if (!text || !el || el.closest("script, style, template, code, [hidden]")) continue;
        if (el.checkVisibility && !el.checkVisibility({ visibilityProperty: true, opacityProperty: false })) continue;
        out.push(text);
    }
    for (const b of document.querySelectorAll("input[type=button], input[type=submit]")) out.push(b.value.trim());
    return out;
}"""


def tables() -> list[dict[str, dict[str, str]]]:
    return [dict(c.tables) for c in i18n.catalogs().values()] + [EDITOR_STRINGS]


def foreign_words(lang: str) -> set[str]:
    """Strings of the other language's tables that differ from this language's string for the same key."""
    other = next(x for x in LANGS if x != lang)
    own = {text for t in tables() for text in t[lang].values()}
    return {t[other][k] for t in tables() for k in t[other] if k != "lang_name"  # "English" in a language menu
            and t[other][k] != t[lang].get(k) and "{" not in t[other][k] and t[other][k] not in own}


FALLBACKS = {w.name: {n for n in w.settings.model_fields} | {f.description for f in w.settings.model_fields.values()
                                                          if f.description} for w in REGISTRY.values()}
ALL_KEYS = {k for t in tables() for table in t.values() for k in table if KEY_LIKE.fullmatch(k)}


async def check(page: Any, name: str, lang: str) -> None:
    await animations_done(page)
    texts = await page.evaluate(VISIBLE_TEXT)
    wrong = sorted({t for t in texts if t in foreign_words(lang)})
    keys = sorted({t for t in texts if t in ALL_KEYS})
    await page.screenshot(path=screenshot_path(f"i18n-{name}-{lang}"))
    assert (wrong, keys) == ([], []), f"{name} in {lang}: other language {wrong}, untranslated keys {keys}"


async def visit(page: Any, url: str, name: str, lang: str) -> None:
    response = await page.goto(url)
    assert response.status == 200, (name, lang, response.status)
    await check(page, name, lang)


async def test_every_page_and_widget_speaks_one_language(make_server: Any, new_page: Any) -> None:
    server = await make_server(
        live={"stream_key": STREAM_KEY},
        campaign={"title": "Les Restos du Cœur", "goal": "10000.00", "milestones": ["2500.00", "5000.00"]},
        teams=[{"id": "restos", "name": "Team Restos", "goal": "50000.00", "channels": ["demo"]}])
    await server.donate(amount="30.00", donor_name="Alice", message="Bravo")
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    for lang in LANGS:
        for widget in REGISTRY:
            await visit(page, f"{server.url}/overlay/demo/{widget}?key={OVERLAY_KEY}&lang={lang}", widget, lang)
        await visit(page, f"{server.url}/widgets/demo?key={OVERLAY_KEY}&lang={lang}", "gallery", lang)
        await visit(page, f"{server.url}/dashboard/demo?lang={lang}", "dashboard", lang)
        await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        await check(page, "dashboard", lang)
        await visit(page, f"{server.url}/dashboard/demo/editor?lang={lang}", "editor", lang)
        await expect(page.locator(".editor-form .field").first).to_be_visible()
        await check(page, "editor", lang)
        for widget in REGISTRY:  # a field without a label in the tables falls back on its English description
            await page.locator("#widget-select").select_option(widget)
            labels = set(await page.locator(".editor-form .field label").all_inner_texts())
            assert not labels & FALLBACKS[widget], (widget, lang, labels & FALLBACKS[widget])
        await visit(page, f"{server.url}/donate/demo?lang={lang}", "donate", lang)
        await visit(page, f"{server.url}/dashboard/demo/summary?lang={lang}", "summary", lang)
        # The date says the month in the page's language ("6 Dec 2026", "6 déc. 2026").
        month = {x: format_date(date.today(), "MMM", locale=i18n.LOCALES[x]) for x in LANGS}
        generated = await page.locator("p.muted").first.inner_text()
        assert month[lang] in generated and all(month[x] not in generated for x in LANGS if month[x] != month[lang])
    log.assert_clean()


async def test_the_live_page_offline_and_online_in_both_languages(make_server: Any, new_page: Any) -> None:
    server = await make_server(
        live={"stream_key": STREAM_KEY},
        campaign={"title": "Les Restos du Cœur", "goal": "10000.00", "milestones": ["2500.00", "5000.00"]})
    page, log = await new_page(server.url, **PHONE)
    for lang in LANGS:
        await visit(page, f"{server.url}/live/demo?lang={lang}", "live-offline", lang)
        await expect(page.locator("#live")).to_have_attribute("data-state", "offline")
        await expect(page.locator("#live-sound")).to_be_hidden()  # nothing to unmute while offline
        # Milestone labels readable on a phone: 12 real pixels at least, whatever the stage's zoom.
        heights = await page.eval_on_selector_all(
            ".goal__marker-label", "ls => ls.map(l => l.getBoundingClientRect().height)")
        assert heights and min(heights) >= 12, heights
    publisher = await publish(server.http, server.url, "demo", STREAM_KEY, codec="video/VP8")
    try:
        for lang in LANGS:
            await page.goto(f"{server.url}/live/demo?lang={lang}")
            await expect(page.locator("#live")).to_have_attribute("data-state", "playing")
            await expect(page.locator("#live-sound")).to_be_visible()
            await check(page, "live-online", lang)
    finally:
        await publisher.pc.close()
    log.assert_clean()

"""Widgets over HTTP: the registry, config validation, the overlay routes and what they send."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import segno

from overlay.app import create_app
from overlay.cli import urls
from overlay.config import ConfigError, parse_config
from overlay.widgets import REGISTRY, WIDGETS, SettingsError, resolve
from overlay.widgets.base import WidgetSettings
from tests.support import OVERLAY_KEY, channel_dict, make_config

ALL = ("alert", "goal", "targets", "team", "poll", "match", "timer", "sticker", "ticker", "leaderboard", "scene")


def page_config(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="overlay-config">(.*?)</script>', html, re.S)
    assert m, "no overlay-config block"
    return json.loads(m.group(1))


def test_registry_discovers_every_widget_folder_in_order() -> None:
    assert tuple(WIDGETS) == ALL
    for name in WIDGETS:
        folder = Path(__file__).resolve().parent.parent / "overlay" / "widgets" / name
        assert issubclass(REGISTRY[name].settings, WidgetSettings)
        assert (folder / "widget.html").is_file() and (folder / "widget.css").is_file()
        assert REGISTRY[name].settings().model_dump()  # every field has a default


@pytest.mark.parametrize(("widgets", "problem"), [
    ({"goal": {"accent_color": "tomato"}}, "channels[0].widgets.goal.accent_color: must be a hex colour"),
    ({"ticker": {"count": 0}}, "channels[0].widgets.ticker.count: must be >= 1"),
    ({"goal": {"colour": "#fff"}}, "channels[0].widgets.goal.colour: unknown key"),
    ({"scoreboard": {}}, "channels[0].widgets.scoreboard: unknown key"),
    ({"alert": {"custom_css": "</style><script>x()</script>"}}, "channels[0].widgets.alert.custom_css: must not"),
])
def test_config_validates_each_widgets_settings(widgets: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"channels": [channel_dict(widgets=widgets)]}, env={})
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_config_widget_settings_are_normalised() -> None:
    from decimal import Decimal  # YAML numbers with a point arrive as Decimal
    widgets = {"goal": {"accent_color": "FF0000", "font_scale": Decimal("1.5")}}
    cfg = parse_config({"channels": [channel_dict(widgets=widgets)]}, env={})
    assert cfg.channels[0].widgets == {"goal": {"accent_color": "#ff0000", "font_scale": 1.5}}


def test_query_overrides_config_through_the_same_model() -> None:
    s = resolve("ticker", {"count": 5, "speed": 10}, {"count": "7"})
    assert (s.count, s.speed) == (7, 10)
    with pytest.raises(SettingsError) as err:
        resolve("ticker", {}, {"count": "many", "nope": "1"})
    assert {p.setting for p in err.value.problems} == {"count", "nope"}


def test_a_blank_or_null_optional_text_is_its_default() -> None:
    """A blank ``?title=`` (or ``"title": null`` in a preset) failed inside pydantic, a 500:
    the 120-character bound was put on the union, None included."""
    assert resolve("goal", {}, {"title": " ", "team": ""}).title is None
    assert resolve("goal", {"title": None, "team": None}, {}).team is None
    with pytest.raises(SettingsError) as err:
        resolve("goal", {}, {"title": "x" * 121, "team": "Not A Team"})
    assert {p.setting for p in err.value.problems} == {"title", "team"}


def test_a_boolean_is_not_a_number() -> None:
    """pydantic reads true as 1: a count, a width or a volume written true is refused."""
    with pytest.raises(SettingsError) as err:
        resolve("alert", {"volume": True, "font_scale": False}, {})
    assert {(p.setting, p.message) for p in err.value.problems} == {("volume", "must be a number"),
                                                                    ("font_scale", "must be a number")}
    assert resolve("alert", {"sound": 0}, {"speech": "no"}).sound is False  # booleans still read 0 and "no"


def test_cli_lists_a_url_per_widget(tmp_path: Path) -> None:
    lines = urls(make_config(tmp_path))
    for name in WIDGETS:
        assert any(f"/overlay/demo/{name}?key={OVERLAY_KEY}" in line for line in lines)


async def test_every_widget_page_is_served_with_a_strict_csp(make_server: Any) -> None:
    server = await make_server()
    for name in WIDGETS:
        async with server.http.get(f"{server.url}/overlay/demo/{name}?key={OVERLAY_KEY}") as r:
            assert r.status == 200, name
            policy = r.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy
            assert r.headers["Cache-Control"] == "no-store"
            html = await r.text()
        assert "<script>" not in html  # no inline script: only the JSON block and module files
        cfg = page_config(html)
        assert cfg["channel"] == "demo" and cfg["lang"] == "fr" and cfg["strings"]["anonymous"] == "Anonyme"
        for url in cfg["modules"].values():
            assert re.fullmatch(r"/static/[0-9a-f]{12}/.+\.js", url)


async def test_static_files_have_hashed_urls_and_long_cache(make_server: Any) -> None:
    server = await make_server()
    _, html = await server.request("GET", f"/overlay/demo/alert?key={OVERLAY_KEY}")
    client_url = page_config(html)["modules"]["client"]
    async with server.http.get(server.url + client_url) as r:
        assert r.status == 200 and "immutable" in r.headers["Cache-Control"]
        assert r.content_type.endswith("javascript")  # a module needs a JavaScript MIME type
    stale = re.sub(r"/static/[0-9a-f]{12}/", "/static/000000000000/", client_url)
    async with server.http.get(server.url + stale) as r:
        assert r.status == 200 and r.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(("path", "status", "words"), [
    ("/overlay/demo/goal", 403, "key"),
    ("/overlay/demo/goal?key=wrong-key-000", 403, "key"),
    ("/overlay/nobody/goal?key=" + OVERLAY_KEY, 404, "Unknown channel"),
    ("/overlay/demo/scoreboard?key=" + OVERLAY_KEY, 404, "Unknown widget"),
    ("/overlay/demo/goal?key=" + OVERLAY_KEY + "&width=9000", 400, "<code>width</code>"),
    ("/overlay/demo/goal?key=" + OVERLAY_KEY + "&bar=1", 400, "<code>bar</code>: unknown setting"),
    ("/overlay/demo/alert?key=" + OVERLAY_KEY + "&accent_color=%3Cscript%3E", 400, "&lt;script&gt;"),
    ("/widgets/demo?key=nope-nope-nope", 403, "key"),
])
async def test_overlay_errors_are_readable_pages(make_server: Any, path: str, status: int, words: str) -> None:
    server = await make_server()
    async with server.http.get(server.url + path) as r:
        assert r.status == status and r.content_type == "text/html"
        html = await r.text()
    assert words in html and "<script" not in html


async def test_settings_reach_the_page_config_overridden_by_the_query(make_server: Any) -> None:
    server = await make_server(widgets={"goal": {"title": "From config", "width": 900},
                                        "ticker": {"custom_css": ".ticker { opacity: .9 }"}})
    _, html = await server.request("GET", f"/overlay/demo/goal?key={OVERLAY_KEY}&width=1000&lang=en")
    cfg = page_config(html)
    assert cfg["widgets"]["goal"]["title"] == "From config" and cfg["widgets"]["goal"]["width"] == 1000
    assert cfg["lang"] == "en" and cfg["strings"]["cta"] == "Donate" and "key" not in cfg["widgets"]["goal"]
    assert "--goal-width: 1000px" in html
    _, html = await server.request("GET", f"/overlay/demo/scene?key={OVERLAY_KEY}&custom_css=.scene%7Bopacity:1%7D")
    # custom CSS has a <style> of its own (a preset change replaces it), after the variables
    style = "".join(part.split("</style>", 1)[0] for part in html.split("<style")[1:])
    # custom CSS comes last: the parts' own, then the page's.
    assert style.rstrip().endswith(".scene{opacity:1}") and ".ticker { opacity: .9 }" in style


async def test_a_user_template_folder_overrides_a_built_in_template(aiohttp_server: Any, tmp_path: Path) -> None:
    (tmp_path / "tpl" / "goal").mkdir(parents=True)
    (tmp_path / "tpl" / "goal" / "markup.html").write_text('<section class="w" data-widget="goal">mine</section>')
    config = make_config(tmp_path / "data")
    config = config.model_copy(update={"server": config.server.model_copy(update={"templates_dir": tmp_path / "tpl"})})
    server = await aiohttp_server(create_app(config), host="127.0.0.1")
    async with aiohttp.ClientSession() as http:
        async with http.get(str(server.make_url(f"/overlay/demo/goal?key={OVERLAY_KEY}"))) as r:
            html = await r.text()
        async with http.get(str(server.make_url(f"/overlay/demo/match?key={OVERLAY_KEY}"))) as r:
            other = await r.text()
    assert '<section class="w" data-widget="goal">mine</section>' in html
    assert "match__badge" in other  # the rest still comes from the built-ins


@pytest.mark.parametrize(("channel", "target"), [
    ({}, "http://127.0.0.1:8080/donate/demo"),
    ({"donate_page": {"mode": "off"}, "campaign": {"title": "X", "donate_url": "https://give.example.org/x"}},
     "https://give.example.org/x"),
])
async def test_sticker_qr_code_points_to_the_donate_page(make_server: Any, channel: dict[str, Any],
                                                        target: str) -> None:
    server = await make_server(**channel)
    _, html = await server.request("GET", f"/overlay/demo/sticker?key={OVERLAY_KEY}")
    qr_path = re.search(r'<img src="(/qr/demo\.svg\?v=[0-9a-f]{12})"', html).group(1)
    async with server.http.get(server.url + qr_path) as r:
        assert r.status == 200 and r.content_type == "image/svg+xml" and "immutable" in r.headers["Cache-Control"]
        svg = await r.text()
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    expected = segno.make(target, error="m")
    out = io.BytesIO()
    expected.save(out, kind="svg", border=2, dark="#111111", light="#ffffff", omitsize=True, xmldecl=False,
                  svgclass=None, lineclass=None)
    assert svg == out.getvalue().decode()  # the same code segno makes for the target
    assert target.split("//")[1] in html  # printed under the code, without the scheme


async def test_gallery_lists_every_widget_with_its_url(make_server: Any) -> None:
    server = await make_server()
    status, html = await server.request("GET", f"/widgets/demo?key={OVERLAY_KEY}")
    assert status == 200
    for name in WIDGETS:
        assert f'value="http://127.0.0.1:8080/overlay/demo/{name}?key={OVERLAY_KEY}"' in html
        assert f'src="/overlay/demo/{name}?key={OVERLAY_KEY}&amp;lang=' in html  # previews in the page's language


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "widgets.md").read_text()
    for name, widget in REGISTRY.items():
        assert f"`{name}`" in doc
        for setting in widget.settings.model_fields:
            assert f"`{setting}`" in doc, f"{name}.{setting} is not in docs/widgets.md"

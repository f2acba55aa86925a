"""Widget presets (API.md §7) over HTTP and Socket.IO, on both stores."""
from __future__ import annotations

import json
import re
from typing import Any

from tests.support import OVERLAY_KEY

PRESETS = "/api/v1/channels/demo/widgets/alert/presets"


def page_config(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="overlay-config">(.*?)</script>', html, re.S)
    assert m, "no overlay-config block"
    return json.loads(m.group(1))


async def test_save_read_list_delete_and_the_settings_event(server: Any) -> None:
    overlay = await server.listen("/overlay")
    dashboard = await server.listen("/dashboard")
    await overlay.wait_for("state")
    status, saved = await server.request("PUT", f"{PRESETS}/main", json={"accent_color": "00ff88", "font_scale": 1.5})
    assert status == 201, saved
    assert saved["settings"] == {"accent_color": "#00ff88", "font_scale": 1.5}  # normalised like the URL's
    assert saved["url"].endswith(f"/overlay/demo/alert?key={OVERLAY_KEY}&preset=main")
    for listener in (overlay, dashboard):
        ev = await listener.wait_for("settings")
        assert ev["widget"] == "alert" and ev["preset"] == "main" and isinstance(ev["seq"], int)
        assert ev["settings"]["accent_color"] == "#00ff88" and ev["settings"]["volume"] == 0.6  # every setting

    status, again = await server.request("PUT", f"{PRESETS}/main", json={"theme": "light"})
    assert status == 200 and again["settings"] == {"theme": "light"}  # a save replaces the preset
    assert (await server.request("GET", f"{PRESETS}/main"))[1]["settings"] == {"theme": "light"}
    await server.request("PUT", f"{PRESETS}/big-alerts", json={})
    status, listed = await server.request("GET", PRESETS)
    assert status == 200 and [p["name"] for p in listed["presets"]] == ["big-alerts", "main"]

    status, _ = await server.request("DELETE", f"{PRESETS}/main")
    assert status == 204
    gone = await overlay.wait_for("settings", lambda d: d["settings"]["theme"] == "dark")
    assert gone["preset"] == "main"  # overlays showing it fall back to the channel's settings
    assert (await server.request("GET", f"{PRESETS}/main"))[0] == 404
    assert (await server.request("DELETE", f"{PRESETS}/main"))[0] == 404


async def test_settings_events_are_logged_and_replayed(server: Any) -> None:
    first = await server.listen("/overlay")
    state = await first.wait_for("state")
    await server.request("PUT", f"{PRESETS}/main", json={"volume": "0.2"})
    ev = await first.wait_for("settings")
    late = await server.listen("/overlay", channel="demo", key=OVERLAY_KEY, last_seq=state["seq"])
    replayed = await late.wait_for("settings")
    assert replayed == ev and replayed["settings"]["volume"] == 0.2


async def test_the_overlay_applies_preset_then_url(server: Any) -> None:
    await server.request("PUT", f"{PRESETS}/main", json={"theme": "light", "volume": 0.3, "animation": "fade"})
    async with server.http.get(f"{server.url}/overlay/demo/alert?key={OVERLAY_KEY}&preset=main&volume=0.9") as r:
        assert r.status == 200
        html = await r.text()
    config = page_config(html)
    assert config["preset"] == "main"
    settings = config["widgets"]["alert"]
    assert (settings["theme"], settings["animation"], settings["volume"]) == ("light", "fade", 0.9)
    assert 'data-theme="light"' in html
    url = f"{server.url}/overlay/demo/alert/settings?key={OVERLAY_KEY}&preset=main&volume=0.9"
    async with server.http.get(url) as r:
        now = await r.json()
    assert now["widgets"]["alert"]["volume"] == 0.9 and now["css_vars"]["alert"]["accent"] == "#fe2c55"
    async with server.http.get(f"{server.url}/overlay/demo/alert?key={OVERLAY_KEY}&preset=nope") as r:
        assert r.status == 404 and "Unknown preset" in await r.text()


async def test_presets_survive_a_restart(make_server: Any, backend: str, tmp_path: Any) -> None:
    first = await make_server(backend, data_dir=tmp_path / "d")
    assert (await first.request("PUT", f"{PRESETS}/kept", json={"position": "top"}))[0] == 201
    second = await make_server(backend, data_dir=tmp_path / "d")  # a new process on the same data
    status, got = await second.request("GET", f"{PRESETS}/kept")
    assert status == 200 and got["settings"] == {"position": "top"}


async def test_bad_presets_are_refused_and_nothing_is_stored(server: Any) -> None:
    cases = [
        ("PUT", f"{PRESETS}/main", {"font_scale": 9}, 422, "invalid_settings"),
        ("PUT", f"{PRESETS}/main", {"no_such_setting": 1}, 422, "invalid_settings"),
        ("PUT", f"{PRESETS}/main", {"tier_sounds": "../../etc/passwd"}, 422, "invalid_settings"),
        ("PUT", f"{PRESETS}/Bad%20Name", {}, 422, "invalid_preset_name"),
        ("PUT", "/api/v1/channels/demo/widgets/nope/presets/main", {}, 404, "widget_not_found"),
        ("PUT", "/api/v1/channels/nope/widgets/alert/presets/main", {}, 404, "channel_not_found"),
    ]
    for method, path, body, status, code in cases:
        got, data = await server.request(method, path, json=body)
        assert (got, data["error"]["code"]) == (status, code), (path, body, data)
    got, data = await server.request("PUT", f"{PRESETS}/main", data=b"[1,", headers={
        "Authorization": "Bearer test-moderator-token", "Content-Type": "application/json"})
    assert got == 400 and data["error"]["code"] == "invalid_json"
    assert (await server.request("GET", PRESETS))[1]["presets"] == []


async def test_presets_are_for_moderators_only(server: Any) -> None:
    for method in ("GET", "PUT", "DELETE"):
        got, data = await server.request(method, f"{PRESETS}/main", json={},
                                         headers={"Authorization": f"Bearer {OVERLAY_KEY}"})
        assert got == 401 and data["error"]["code"] == "unauthorized"

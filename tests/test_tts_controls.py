"""TTS controls (docs/tts.md): only approved messages, the per-donor cooldown, a variation
that silences an alert: the ``play`` event's ``tts_url`` is there or not, on both stores."""
from __future__ import annotations

from typing import Any

TTS = {"enabled": True, "min_amount": "1.00"}
ALERTS = {"min_amount": "1.00", "duration_ms": 1000, "gap_ms": 100}


def play_of(overlay: Any, donation: dict[str, Any]) -> Any:
    return overlay.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["id"] == donation["id"])


async def test_only_messages_a_moderator_approved_are_spoken(make_server: Any, backend: str) -> None:
    server = await make_server(backend, alerts={**ALERTS, "tts": {**TTS, "only_approved": True}},
                               moderation={"hold": "messages"}, match=None)
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    auto = await server.donate(amount="5.00", donor_name="Auto", message="not screened", test=True)
    held = await server.donate(amount="5.00", donor_name="Held", message="screened and approved")
    assert held["status"] == "held"
    assert "tts_url" not in await play_of(overlay, auto)
    assert (await server.post(f"/api/v1/channels/demo/donations/{held['id']}/approve", {}))[0] == 200
    assert (await play_of(overlay, held))["tts_url"].startswith("/tts/demo/")


async def test_a_donor_is_spoken_once_per_cooldown(make_server: Any, backend: str) -> None:
    server = await make_server(backend, alerts={**ALERTS, "tts": {**TTS, "donor_cooldown_s": 3600}, "variations": [
        {"id": "quiet", "when": {"source": "quiet"}, "tts": False}]}, match=None)
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    first = await server.donate(amount="5.00", donor_name="Ann", message="hello everyone")
    second = await server.donate(amount="5.00", donor_name="ANN", message="hello again")
    other = await server.donate(amount="5.00", donor_name="Bob", message="hi there")
    quiet = await server.donate(amount="5.00", donor_name="Cy", message="hush now", source="quiet")
    assert "tts_url" in await play_of(overlay, first)
    assert "tts_url" not in await play_of(overlay, second)
    assert "tts_url" in await play_of(overlay, other)
    play = await play_of(overlay, quiet)
    assert "tts_url" not in play and play["variation"] == {"id": "quiet", "tts": False}

"""Stream summary: per-hour buckets and chart geometry (pure), and the page's access rules."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from overlay.domain import summary

PARIS = ZoneInfo("Europe/Paris")


def rec(when: datetime, amount: int, matched: int = 0, status: str = "approved", test: bool = False) -> dict[str, Any]:
    return {"created_at": int(when.timestamp() * 1000), "amount": amount, "matched": matched,
            "status": status, "test": test}


def test_buckets_per_hour_in_the_page_time_zone_with_empty_hours() -> None:
    t0 = datetime(2026, 12, 1, 19, 5, tzinfo=timezone.utc)  # 20:05 in Paris
    records = [rec(t0, 1000, 1000), rec(t0 + timedelta(minutes=30), 500),
               rec(t0 + timedelta(hours=2), 2500), rec(t0, 9999, test=True), rec(t0, 7777, status="rejected")]
    step, bars = summary.buckets(records, PARIS)
    assert step == summary.HOUR
    assert [(b.start.hour, b.count, b.raised, b.matched) for b in bars] == [(20, 2, 1500, 1000), (21, 0, 0, 0),
                                                                          (22, 1, 2500, 0)]


def test_a_long_campaign_is_drawn_per_day() -> None:
    t0 = datetime(2026, 10, 24, 12, tzinfo=PARIS)  # across the end of summer time (25 October)
    step, bars = summary.buckets([rec(t0, 100), rec(t0 + timedelta(days=3), 200)], PARIS)
    assert step == summary.DAY
    assert [(b.start.day, b.start.hour, b.raised) for b in bars] == [(24, 0, 100), (25, 0, 0), (26, 0, 0), (27, 0, 200)]


def test_chart_geometry_scales_to_a_round_top() -> None:
    t0 = datetime(2026, 12, 1, 18, tzinfo=timezone.utc)
    _, bars = summary.buckets([rec(t0, 3000, 1500), rec(t0 + timedelta(hours=1), 1500)], timezone.utc)
    chart = summary.chart(bars)
    assert [g["value"] for g in chart["grid"]] == [0, 1250, 2500, 3750, 5000]  # 4500 -> 5000
    first, second = chart["bars"]
    assert first["raised_h"] == 2 * second["raised_h"] and first["matched_h"] == second["raised_h"]
    assert first["matched_y"] + first["matched_h"] == first["raised_y"]  # matched sits on top of raised
    assert summary.chart([])["bars"] == []


async def test_summary_page_needs_a_moderator_session(server: Any) -> None:
    async with server.http.get(server.url + "/dashboard/demo/summary") as r:
        assert r.status == 200 and 'name="token"' in await r.text()  # the login form, nothing else
    async with server.http.get(server.url + "/dashboard/nope/summary") as r:
        assert r.status == 404


async def test_summary_page_for_a_logged_in_moderator(make_server: Any, backend: str) -> None:
    from tests.test_sessions import log_in
    server = await make_server(backend, locale="en_US")
    await server.donate(amount="25.00", donor_name="<b>Camille</b>")
    cookie = await log_in(server.http, server.url)
    async with server.http.get(server.url + "/dashboard/demo/summary?tz=America/Chicago",
                               headers={"Cookie": f"overlay_session_demo={cookie}"}) as r:
        html = await r.text()
        assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
    assert "&lt;b&gt;Camille&lt;/b&gt;" in html and "<b>Camille" not in html  # donor text escaped
    assert "Times in America/Chicago" in html and html.count('class="raised"') == 1

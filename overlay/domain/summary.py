"""The stream summary (docs/dashboard.md): donations per hour as bar geometry, and the figures
a streamer sends the charity afterwards. Pure: records in, plain data out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MAX_HOURS = 48   # a longer campaign is drawn per day
MAX_BARS = 60    # the latest ones when even days are too many
MIN_SLOTS = 12

# The chart's box, in SVG user units; the page scales it to its width.
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 960, 300, 96, 36, 16


@dataclass(frozen=True)
class Bucket:
    start: datetime      # in the page's time zone
    count: int = 0
    raised: int = 0      # minor units
    matched: int = 0


def counted(rec: dict[str, Any]) -> bool:
    """What the totals count: approved, not a test (held ones count too: only their alert waits)."""
    return rec["status"] in ("approved", "held") and not rec["test"]


def _floor(moment: datetime, step: timedelta) -> datetime:
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if step == DAY else moment


def buckets(records: list[dict[str, Any]], tz: tzinfo) -> tuple[timedelta, list[Bucket]]:
    """(step, buckets) from the first counted donation's hour to the last, empty ones included."""
    rows = [r for r in records if counted(r)]
    if not rows:
        return HOUR, []
    times = [datetime.fromtimestamp(r["created_at"] / 1000, timezone.utc).astimezone(tz) for r in rows]
    step = HOUR if max(times) - min(times) < MAX_HOURS * HOUR else DAY
    first, last = _floor(min(times), step), _floor(max(times), step)
    sums: dict[datetime, list[int]] = {}
    for moment, rec in zip(times, rows):
        acc = sums.setdefault(_floor(moment, step), [0, 0, 0])
        acc[0] += 1
        acc[1] += rec["amount"]
        acc[2] += rec["matched"]
    out, at = [], first
    while at <= last:
        count, raised, matched = sums.get(at, (0, 0, 0))
        out.append(Bucket(at, count, raised, matched))
        at += step  # wall-clock arithmetic: days stay midnight to midnight across a DST change
    return step, out[-MAX_BARS:]


def _nice_ceiling(value: int) -> int:
    """1, 2, 2.5 or 5 times a power of ten, at least ``value``: round grid lines."""
    power = 1
    while power * 10 <= value:
        power *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * power:
            return int(factor * power)
    return 10 * power


def chart(bars: list[Bucket]) -> dict[str, Any]:
    """Bar rectangles (raised below, matched stacked on top) and four grid lines, in SVG units."""
    top = _nice_ceiling(max((b.raised + b.matched for b in bars), default=0) or 1)
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(bars), MIN_SLOTS)  # a few bars stay bars, centred, not slabs
    start = LEFT + (plot_w - slot * len(bars)) / 2
    label_every = max(1, round(len(bars) / 12))
    out = []
    for i, b in enumerate(bars):
        h_raised = plot_h * b.raised / top
        h_matched = plot_h * b.matched / top
        x = start + i * slot + slot * 0.15
        out.append({"bucket": b, "x": round(x, 1), "w": round(slot * 0.7, 1),
                    "raised_y": round(TOP + plot_h - h_raised, 1), "raised_h": round(h_raised, 1),
                    "matched_y": round(TOP + plot_h - h_raised - h_matched, 1), "matched_h": round(h_matched, 1),
                    "label": i % label_every == 0, "label_x": round(x + slot * 0.35, 1)})
    grid = [{"value": top * k // 4, "y": round(TOP + plot_h - plot_h * k / 4, 1)} for k in range(5)]
    return {"bars": out, "grid": grid, "width": WIDTH, "height": HEIGHT, "left": LEFT,
            "base_y": TOP + plot_h, "label_y": HEIGHT - 12}

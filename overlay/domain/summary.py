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


class Tally:
    """Sums per hour and the biggest gift, one donation at a time: memory grows with the hours
    of the campaign, never with its number of donations."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.hours: dict[datetime, list[int]] = {}
        self.biggest: dict[str, Any] | None = None

    def add(self, rec: dict[str, Any]) -> None:
        if not counted(rec):
            return
        moment = datetime.fromtimestamp(rec["created_at"] / 1000, timezone.utc).astimezone(self.tz)
        acc = self.hours.setdefault(_floor(moment, HOUR), [0, 0, 0])
        acc[0] += 1
        acc[1] += rec["amount"]
        acc[2] += rec["matched"]
        # The biggest gift is named with its amount: one whose donor hid the amount is not it.
        if rec.get("show_amount", True) and (self.biggest is None or rec["amount"] > self.biggest["amount"]):
            self.biggest = rec

    def buckets(self) -> tuple[timedelta, list[Bucket]]:
        """(step, buckets) from the first counted donation's hour to the last, empty ones included."""
        if not self.hours:
            return HOUR, []
        step = HOUR if max(self.hours) - min(self.hours) < MAX_HOURS * HOUR else DAY
        sums: dict[datetime, list[int]] = {}
        for hour, acc in self.hours.items():
            into = sums.setdefault(_floor(hour, step), [0, 0, 0])
            for i in range(3):
                into[i] += acc[i]
        out, at, last = [], min(sums), max(sums)
        while at <= last:
            count, raised, matched = sums.get(at, (0, 0, 0))
            out.append(Bucket(at, count, raised, matched))
            at += step  # wall-clock arithmetic: days stay midnight to midnight across a DST change
        return step, out[-MAX_BARS:]


def buckets(records: list[dict[str, Any]], tz: tzinfo) -> tuple[timedelta, list[Bucket]]:
    tally = Tally(tz)
    for rec in records:
        tally.add(rec)
    return tally.buckets()


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

"""The channel's mutable state and the change a domain operation makes to it.

Each channel's writer (``overlay.store.writer``) holds a ``ChannelState`` in memory, hands
it to pure functions of ``overlay.domain.donations`` and commits the resulting ``Change``s
together, only if nobody else committed in between (``base_seq`` still current).
Events are numbered here, from the state's ``seq``, so a commit never has to read
back a counter. What grows (the alert queue, records, the log) is never part of the
scalars a commit rewrites: a ``Change`` carries it as increments.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from overlay.domain import alerts, money, wire
from overlay.settings.channel import ChannelSettings

# JSON as the store and Socket.IO carry it: no spaces, and ASCII (\u escapes), which packs for Redis
# and encodes for a socket several times faster than text with "€" or "à" in it; the same JSON to any reader.
compact_json = json.JSONEncoder(separators=(",", ":")).encode
OVERLAY = "overlay"      # events every client sees
DASHBOARD = "dashboard"  # events for moderators only


@dataclass
class ChannelState:
    seq: int = 0
    campaign: dict[str, Any] = field(default_factory=lambda: {"title": None, "goal": None})
    totals: dict[str, int] = field(default_factory=lambda: {"raised": 0, "matched": 0, "count": 0})
    match: dict[str, Any] | None = None
    alerts: dict[str, Any] = field(default_factory=alerts.empty)
    # overlay.domain.incentives: "items" None until the first change (config.yaml's list until then).
    incentives: dict[str, Any] = field(default_factory=lambda: {"items": None, "removed": []})
    # overlay.domain.timing: the alert timing moderators changed at run time; None: config.yaml's.
    timing: dict[str, Any] | None = None
    # overlay.domain.timer: the subathon timer; None until first started.
    timer: dict[str, Any] | None = None
    # overlay.domain.alert_variations: run-time list, biggest gift, donors seen; None: none yet.
    variations: dict[str, Any] | None = None
    # overlay.domain.tts: when each donor was last spoken (per-donor cooldown); None: never.
    speech: dict[str, Any] | None = None

    @classmethod
    def initial(cls, cfg: ChannelSettings) -> "ChannelState":
        st = cls()
        if cfg.match is not None:
            m = cfg.match
            st.match = {
                "sponsor": m.sponsor, "multiplier": wire.plain_decimal(m.multiplier),
                "cap": money.parse_amount(m.cap, cfg.currency), "used": 0,
                "starts_at": wire.to_ms(m.starts_at) if m.starts_at else None,
                "ends_at": wire.to_ms(m.ends_at) if m.ends_at else None,
            }
        return st

    def title(self, cfg: ChannelSettings) -> str:
        return self.campaign["title"] if self.campaign["title"] is not None else cfg.campaign.title

    def goal(self, cfg: ChannelSettings) -> int:
        if self.campaign["goal"] is not None:
            return self.campaign["goal"]
        return money.setting_amount(cfg.campaign.goal, cfg.currency)

    def milestones(self, cfg: ChannelSettings) -> list[int]:
        """Milestones in minor units, ascending: the dashboard's once edited, else config.yaml's."""
        if self.campaign.get("milestones") is not None:
            return self.campaign["milestones"]
        return sorted(money.parse_amount(m, cfg.currency) for m in cfg.campaign.milestones)

    def to_json(self) -> str:
        """The scalars, without the waiting alerts (stored apart, see ``Change.queue_ops``)."""
        waiting = {k: v for k, v in self.alerts.items() if k != "queue"}
        scalars = {"campaign": self.campaign, "totals": self.totals, "match": self.match, "alerts": waiting,
                   "incentives": self.incentives}
        if self.timing is not None:  # left out until changed: the blob stays as it was before timing
            scalars["timing"] = self.timing
        for key in ("timer", "variations", "speech"):
            if getattr(self, key) is not None:
                scalars[key] = getattr(self, key)
        return compact_json(scalars)

    @classmethod
    def from_json(cls, seq: int, text: str, queue: list[dict[str, Any]]) -> "ChannelState":
        """Scalars and queue as stored. A blob written before the queue moved out still holds
        its queue: it comes first (``legacy_queue`` tells the store to move it out)."""
        data = json.loads(text)
        data["alerts"]["queue"] = data["alerts"].get("queue", []) + queue
        return cls(seq=seq, **data)

    @staticmethod
    def legacy_queue(text: str) -> list[dict[str, Any]]:
        return json.loads(text)["alerts"].get("queue", [])

    def advanced(self, applied: "Applied") -> "ChannelState":
        """This state after a commit made elsewhere (``applied.base_seq`` must be our seq)."""
        st = ChannelState.from_json(applied.seq, applied.scalars, [])
        st.alerts["queue"] = alerts.apply_ops(self.alerts["queue"], applied.queue_ops)
        return st

    def copy(self) -> "ChannelState":
        return ChannelState(seq=self.seq, campaign=dict(self.campaign), totals=dict(self.totals),
                            match=dict(self.match) if self.match is not None else None,
                            alerts=alerts.copy_of(self.alerts),
                            # Shallow: incentive changes replace the items list (overlay.domain.incentives.items_for_change).
                            incentives=dict(self.incentives),
                            timing=self.timing,  # replaced whole, never changed in place
                            timer=self.timer,    # likewise, and so are the two below
                            variations=self.variations, speech=self.speech)


@dataclass(frozen=True)
class Event:
    seq: int
    type: str       # donation, progress, match, alert, queue, settings, live
    audience: str   # OVERLAY or DASHBOARD
    ts: int         # epoch ms
    data: dict[str, Any]  # the payload as sent, "seq" included

    @cached_property
    def data_json(self) -> str:
        """The payload as JSON, encoded once: the log's line and every Socket.IO packet reuse it."""
        return compact_json(self.data)

    def to_json(self) -> str:
        return (f'{{"seq":{self.seq},"type":{json.dumps(self.type)},"audience":{json.dumps(self.audience)},'
                f'"ts":{self.ts},"data":{self.data_json}}}')

    @classmethod
    def from_json(cls, text: str | bytes) -> "Event":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Event":
        return cls(d["seq"], d["type"], d["audience"], d["ts"], d["data"])


@dataclass
class Change:
    """What one operation does: the new state, records to write, events to log."""
    base_seq: int
    state: ChannelState
    now: int
    donations: list[dict[str, Any]] = field(default_factory=list)
    external: tuple[str, str, str] | None = None   # (source, external_id, donation id)
    leaderboard: list[tuple[str, int]] = field(default_factory=list)  # (donor name, delta)
    events: list[Event] = field(default_factory=list)
    queue_ops: list[alerts.QueueOp] = field(default_factory=list)  # in order, see overlay.domain.alerts
    # Widget presets written in the same commit: (widget, name, settings; None deletes it).
    presets: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    # The totals of the state it was computed from: the store moves team totals by the difference.
    base_totals: dict[str, int] | None = None

    @classmethod
    def begin(cls, state: ChannelState, now: int) -> "Change":
        return cls(base_seq=state.seq, state=state.copy(), now=now, base_totals=dict(state.totals))

    def next_seq(self) -> int:
        return self.state.seq + 1

    def emit(self, type_: str, audience: str, payload: dict[str, Any]) -> Event:
        self.state.seq += 1
        ev = Event(self.state.seq, type_, audience, self.now, {"seq": self.state.seq, **payload})
        self.events.append(ev)
        return ev


@dataclass(frozen=True)
class Applied:
    """A committed batch as other processes' writers need it to follow without reloading."""
    base_seq: int
    seq: int
    scalars: str                    # ChannelState.to_json() after the batch
    queue_ops: list[alerts.QueueOp]

    @classmethod
    def of(cls, changes: list[Change]) -> "Applied":
        ops = [op for ch in changes for op in ch.queue_ops]
        return cls(changes[0].base_seq, changes[-1].state.seq, changes[-1].state.to_json(), ops)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Applied":
        return cls(d["base"], d["seq"], d["scalars"], [(k, i) for k, i in d["queue_ops"]])

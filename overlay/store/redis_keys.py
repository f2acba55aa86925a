"""The names of the Redis backend's keys and pub/sub channels: built here only.

On one Redis (or behind Sentinel) a channel's keys are ``overlay:<ch>:<name>`` and its
commits are published on ``overlay:<ch>:events``. On a Redis Cluster the channel is a hash
tag, ``overlay:{<ch>}:<name>``: all of a channel's keys live in one slot, so its commit
script runs on one shard; a team's keys are ``overlay:{team:<id>}:<name>``. The plain names
stay what they always were, so an existing deployment keeps its data.
"""
from __future__ import annotations

PREFIX = "overlay"
EVENTS = "events"
CHANNEL_TEAMS = "teams"  # the set of teams a channel counts in (overlay.store.team_totals keeps it)
# A channel's keys, in the order the commit script takes them (overlay/store/redis_scripts.py).
KEY_NAMES = ("seq", "state", "don", "donseq", "ext", "lb", "lbname", "log", "queue", "epoch", "turn", CHANNEL_TEAMS)
SEQ, STATE, DON, DONSEQ, EXT, LB, LBNAME, LOG, QUEUE, EPOCH, TURN, TEAMS = range(len(KEY_NAMES))


class RedisKeys:
    def __init__(self, cluster: bool = False):
        self.cluster = cluster

    def _channel(self, channel: str) -> str:
        return f"{PREFIX}:{{{channel}}}" if self.cluster else f"{PREFIX}:{channel}"

    def channel(self, channel: str, name: str) -> str:
        """One of ``channel``'s keys."""
        return f"{self._channel(channel)}:{name}"

    def commit_keys(self, channel: str) -> list[str]:
        """``channel``'s keys in KEY_NAMES order (the commit script's), built in one go."""
        head = f"{self._channel(channel)}:"
        return [head + name for name in KEY_NAMES]

    def events(self, channel: str) -> str:
        """The pub/sub channel of ``channel``'s commits."""
        return self.channel(channel, EVENTS)

    def channel_of(self, pubsub_channel: str) -> str | None:
        """The channel whose commits ``pubsub_channel`` carries (None: not a channel's)."""
        head, tail = f"{PREFIX}:{{" if self.cluster else f"{PREFIX}:", f"}}:{EVENTS}" if self.cluster else f":{EVENTS}"
        if not pubsub_channel.startswith(head) or not pubsub_channel.endswith(tail):
            return None
        return pubsub_channel[len(head):-len(tail)]

    def invite(self, invite_id: str) -> list[str]:
        """An invite's record and its counter of uses (one slot on a cluster: read together)."""
        head = f"{PREFIX}:_invite:{{{invite_id}}}" if self.cluster else f"{PREFIX}:_invite:{invite_id}"
        return [head, f"{head}:used"]

    def team_match(self, team_id: str) -> list[str]:
        """A team match's counter of what was granted and its hash of grants."""
        if self.cluster:
            return [f"{PREFIX}:{{team:{team_id}}}:match:used", f"{PREFIX}:{{team:{team_id}}}:match:grants"]
        return [f"{PREFIX}:_teammatch:{team_id}:used", f"{PREFIX}:_teammatch:{team_id}:grants"]

    def team_totals(self, team_id: str) -> str:
        """A cluster's hash of one team's totals (one Redis keeps every team in one hash)."""
        return f"{PREFIX}:{{team:{team_id}}}:totals"

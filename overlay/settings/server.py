"""The ``server:`` and ``storage:`` sections of config.yaml."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from overlay.settings.base import Cidr, Strict
from overlay.settings.checks import check_redis_url


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    ice_servers: list[str] = []
    # A user folder searched before the built-in templates (Datasette-style override).
    templates_dir: Path | None = None
    media_dir: Path | None = None
    # Uploads from the editor's media library (docs/editor.md): the largest file taken, per kind.
    media_max_image_kb: int = Field(2048, ge=1, le=51_200)
    media_max_sound_kb: int = Field(5120, ge=1, le=51_200)
    media_max_video_kb: int = Field(20_480, ge=1, le=102_400)
    # Each channel's media library holds at most this much, in bytes and in files (413 beyond).
    media_quota_mb: int = Field(50, ge=1, le=102_400)
    media_quota_files: int = Field(100, ge=1, le=10_000)
    # Reverse proxies (CIDRs) whose X-Forwarded-For names the client; nobody else's is believed.
    trusted_proxies: list[Cidr] = []
    # When set, GET /metrics needs "Authorization: Bearer <metrics_token>".
    metrics_token: str | None = Field(None, min_length=16)
    # A Socket.IO connection that reads nothing of what it was sent for this long is cut
    # (overlay/realtime/stalls.py); the client reconnects and catches up.
    stalled_client_timeout_s: float = Field(30, ge=1, le=3600)
    # A channel with no client, no write in flight, no alert to play and no running timer for
    # this long is dropped from memory and read again from the store on next use; 0 keeps them.
    idle_channel_s: float = Field(600, ge=0, le=86400)
    # An overlay page reloads itself when its connection stayed down this long (and the server
    # answers) or its animations stopped this long while visible; 0 turns it off (docs/widgets.md).
    overlay_watchdog_s: int = Field(60, ge=0, le=3600)
    # An open overlay page stays listed this long after its last heartbeat (docs/dashboard.md).
    overlay_presence_ttl_s: int = Field(60, ge=3, le=3600)
    # Spoken messages kept in memory by each process, in MB (docs/tts.md): the clip cache of
    # every channel's alerts.tts, bounded here because it is the process's memory.
    tts_cache_mb: int = Field(32, ge=1, le=4096)
    # "Authorization: Bearer <admin token>" opens the admin API and page (docs/channels.md);
    # OVERLAY_ADMIN_TOKEN in the environment adds one.
    admin_tokens: list[Annotated[str, Field(min_length=16, max_length=512)]] = Field([], max_length=20)


class StorageSettings(Strict):
    # redis://, rediss://, unix:// or redis+sentinel:// (overlay/store/redis_connect.py)
    redis_url: Annotated[str, AfterValidator(check_redis_url)] | None = None
    # A 201 waits until this many replicas have the donation (Redis WAIT): see docs/deployment.md.
    redis_min_replicas: int = Field(0, ge=0, le=16)
    data_dir: Path = Path("./data")

"""Typed keys for what the application shares between handlers."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import socketio

    from overlay.config import Config
    from overlay.intake.webhooks.health import DeliveryHealth
    from overlay.web.drain import Drain
    from overlay.realtime.namespaces import Realtime
    from overlay.registry import ChannelRegistry
    from overlay.service.directory import Directory
    from overlay.store.base import Store

CONFIG: web.AppKey["Config"] = web.AppKey("config")
STORE: web.AppKey["Store"] = web.AppKey("store")
REGISTRY: web.AppKey["ChannelRegistry"] = web.AppKey("registry")
DIRECTORY: web.AppKey["Directory"] = web.AppKey("directory")  # channel records, invites, sessions
SIO: web.AppKey["socketio.AsyncServer"] = web.AppKey("sio")
REALTIME: web.AppKey["Realtime"] = web.AppKey("realtime")
DRAIN: web.AppKey["Drain"] = web.AppKey("drain")
DELIVERY_HEALTH: web.AppKey["DeliveryHealth"] = web.AppKey("delivery_health")

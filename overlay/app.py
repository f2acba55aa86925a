"""create_app(config) -> web.Application. Reads no files and no argv."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import socketio
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from overlay import keys
from overlay.domain import wire
from overlay.web.alert_timing import setup_alert_timing
from overlay.web.alert_variations import setup_alert_variations
from overlay.web.timer import setup_timer
from overlay.web.admin import setup_admin
from overlay.web.admin_page import setup_admin_page
from overlay.web.invites import setup_invites
from overlay.web.api import setup_api
from overlay.web.openapi import setup_openapi
from overlay.web.incentives import setup_incentives
from overlay.web.auth import bearer, matching_token, moderator_session, secret_equal, session_middleware
from overlay.config import Config
from overlay.web.dashboard import same_origin, setup_dashboard
from overlay.intake.donate import setup_donate
from overlay.intake.donate.checkout import setup_checkout
from overlay.web.drain import Drain
from overlay.http.errors import ApiError, error_middleware, quiet_parser_errors
from overlay.web.sioroute import attach as attach_socketio
from overlay.realtime.sioserver import make_sio_server
from overlay.live.link import LIVE, LiveLink, setup_live_link
from overlay.live.supervisor import LiveSupervisor, live_settings
from overlay.live.page import setup_livepage
from overlay.web.overlays import setup_overlays
from overlay.web.overlay_pages import setup_overlay_pages
from overlay.speech import setup_tts
from overlay.web.export import setup_export
from overlay.web.summary import setup_summary
from overlay.web.presets import setup_presets
from overlay.web.integrations import setup_integrations
from overlay.web.integration_test import setup_integration_test
from overlay.intake.tiltify_keepalive import keepalive_context
from overlay.web.media import setup_media
from overlay.web.editor import setup_editor
from overlay.realtime.namespaces import Realtime
from overlay.registry import ChannelRegistry
from overlay.service.directory import Directory
from overlay.store.base import Store, StoreUnavailable
from overlay.store.embedded import EmbeddedStore
from overlay.store.redis import RedisStore
from overlay.http.throttle import setup_throttle, throttle_middleware
from overlay.http.pages import setup_web
from overlay.web.teams import setup_teams
from overlay.web.admin_teams import setup_admin_teams
from overlay.intake.webhooks.routes import setup_webhooks
from overlay.intake.sources.setup import setup_sources

MAX_BODY = 64 * 1024


def make_store(config: Config) -> Store:
    if config.storage.redis_url:
        return RedisStore(config.storage.redis_url, config.storage.redis_min_replicas)
    return EmbeddedStore(config.storage.data_dir)


def make_sio() -> socketio.AsyncServer:
    # Each process emits only to its own clients: events reach every process through the
    # store's ordered feed (overlay/realtime/namespaces.py), so no cross-process Socket.IO manager is needed.
    return make_sio_server(cors_allowed_origins=[])


async def healthz(request: web.Request) -> web.Response:
    store = request.app[keys.STORE]
    try:
        await store.ping()
    except StoreUnavailable:
        return web.json_response({"status": "unavailable", "backend": store.backend}, status=503)
    resets = [s.writer.reset_at for s in request.app[keys.REGISTRY].services() if s.writer.reset_at]
    if resets:
        # It works now (200), but data was lost: "degraded" until a restart, for whoever watches.
        return web.json_response({"status": "degraded", "backend": store.backend,
                                  "store_reset_at": wire.iso(max(resets))})
    return web.json_response({"status": "ok", "backend": store.backend})


async def metrics_view(request: web.Request) -> web.Response:
    token = request.app[keys.CONFIG].server.metrics_token
    if token is not None and not secret_equal(bearer(request), token):
        raise ApiError(401, "unauthorized", "a metrics token is required",
                       {"WWW-Authenticate": 'Bearer realm="metrics"'})
    # live_* figures are counted in the live process: we show its lines after ours
    body = generate_latest() + (await request.app[LIVE].metrics()).encode()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _moderator_check(registry: ChannelRegistry):  # noqa: ANN202
    def check(channel: str, auth: dict[str, Any], environ: dict[str, Any]) -> bool:
        cfg = registry.settings(channel)
        if cfg is None:
            return False
        if matching_token(cfg, auth.get("token")):
            return True
        # The browser sends the cookie whichever site opened the socket: only this server's pages may use it.
        request = environ.get("aiohttp.request")
        return request is not None and same_origin(request) and moderator_session(cfg, request) is not None
    return check


def _live_status_to_dashboards(sio: socketio.AsyncServer):  # noqa: ANN202
    # Live status is a reading, not a logged change: it carries no seq and is never replayed.
    async def push(channel: str, status: dict[str, Any]) -> None:
        await sio.emit("live", {"channel": channel, **status}, room=channel, namespace="/dashboard")
    return push


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    store, realtime = app[keys.STORE], app[keys.REALTIME]
    await store.open(app[keys.CONFIG].channels)
    await app[keys.REGISTRY].reload()  # on Redis, the listener reloads too: both read the same records
    await realtime.start()
    yield
    await realtime.stop()
    await store.close()


def _live_link(app: web.Application, config: Config, live_socket: str | None) -> LiveLink:
    """Follow the given live process (cli.py runs one for every worker), or run our own."""
    settings = live_settings(config, "")
    channels = list(settings["channels"]) if settings else []
    if live_socket is None and channels:
        supervisor = LiveSupervisor(config)
        live_socket = supervisor.socket_path

        async def own_live_process(_app: web.Application) -> AsyncIterator[None]:
            supervisor.start()
            yield
            await asyncio.to_thread(supervisor.stop)

        app.cleanup_ctx.append(own_live_process)
    return LiveLink(live_socket, channels)


def create_app(config: Config, live_socket: str | None = None) -> web.Application:
    """live_socket: the unix socket of a live process already running for this config."""
    drain_state = Drain()
    app = web.Application(client_max_size=MAX_BODY, middlewares=[
        error_middleware, drain_state.middleware, throttle_middleware, session_middleware])
    app[keys.DRAIN] = drain_state
    quiet_parser_errors()
    store = make_store(config)
    registry = ChannelRegistry(config, store)
    sio = make_sio()
    attach_socketio(app, sio)
    realtime = Realtime(sio, registry, _moderator_check(registry),
                        stall_timeout_s=config.server.stalled_client_timeout_s,
                        idle_channel_s=config.server.idle_channel_s)
    store.subscribe(realtime.on_events)
    store.on_reading(realtime.on_reading)
    app[keys.CONFIG], app[keys.STORE], app[keys.REGISTRY] = config, store, registry
    app[keys.DIRECTORY] = Directory(store)
    app[keys.SIO], app[keys.REALTIME] = sio, realtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    setup_web(app, config)
    setup_throttle(app)
    setup_incentives(app)  # before setup_api: its donations/{id}/{action} route would match first
    setup_alert_timing(app)  # before setup_api too: alerts/{action}
    setup_alert_variations(app)  # likewise
    setup_api(app)
    setup_timer(app)
    setup_openapi(app)
    setup_teams(app)
    setup_admin(app)
    setup_admin_teams(app)
    setup_admin_page(app)
    setup_invites(app)
    setup_tts(app)
    setup_export(app)
    setup_webhooks(app)
    setup_dashboard(app)
    setup_summary(app)
    link = _live_link(app, config, live_socket)
    setup_live_link(app, link)
    link.on_change(_live_status_to_dashboards(sio))
    setup_overlays(app)
    setup_overlay_pages(app)
    setup_presets(app)
    setup_integrations(app)
    setup_integration_test(app)
    setup_media(app, config)
    setup_editor(app)
    setup_donate(app)
    setup_checkout(app)
    setup_livepage(app)
    app.cleanup_ctx.append(_lifecycle)
    app.cleanup_ctx.append(keepalive_context)
    setup_sources(app)  # after _lifecycle: sources run while the store is open
    return app

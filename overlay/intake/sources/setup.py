"""setup_sources(app): the channels' configured sources, run by the runner in the app's lifecycle."""
from __future__ import annotations

from aiohttp import web

from overlay import keys
from overlay.intake.sources.donordrive import DonorDrivePoller
from overlay.intake.sources.runner import Source, sources_context
from overlay.intake.sources.streamlabs import StreamlabsSocket


def configured_sources(app: web.Application) -> list[Source]:
    """The sources of the channels known at start-up (a channel's service is made only if it has one)."""
    registry = app[keys.REGISTRY]
    found: list[Source] = []
    for channel in registry.ids_setting("sources"):
        cfg = registry.settings(channel)
        if cfg is None or (cfg.sources.donordrive is None and cfg.sources.streamlabs is None):
            continue
        svc = registry.service(channel, keep=True)  # the source holds it: never dropped
        assert svc is not None
        sources = svc.cfg.sources
        if sources.donordrive is not None:
            poller = DonorDrivePoller(svc, sources.donordrive)
            found.append(Source(f"donordrive:{svc.cfg.id}", poller.run, poller.health))
        if sources.streamlabs is not None:
            socket = StreamlabsSocket(svc, sources.streamlabs)
            found.append(Source(f"streamlabs:{svc.cfg.id}", socket.run, socket.health))
    return found


def setup_sources(app: web.Application) -> None:
    """Call after the store's own lifecycle is registered: sources start once it is open
    and stop before it closes."""
    app.cleanup_ctx.append(sources_context(configured_sources))

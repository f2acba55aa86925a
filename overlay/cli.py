"""argv -> Config -> run. ``--workers N`` runs N processes on one port (SO_REUSEPORT)."""
from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from overlay.store.redis_connect import check_redis_url
from overlay.config import Config, ConfigError, load_config
from overlay.live.supervisor import LiveSupervisor

log = logging.getLogger("overlay")
SHUTDOWN_TIMEOUT_S = 5
PARENT_CHECK_S = 1.0  # how often a worker looks whether its supervisor is still there
# Young collections every 50,000 allocations; automatic full ones practically never:
# a full collection runs on a timer instead (FULL_GC_EVERY_S).
GC_THRESHOLDS = (50_000, 50, 1000)
FULL_GC_EVERY_S = 600


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="server.py", description="Live donation overlay server")
    p.add_argument("--config", default="config.yaml", help="path to config.yaml (default: %(default)s)")
    p.add_argument("--host", help="listen address (overrides server.host)")
    p.add_argument("--port", type=int, help="listen port (overrides server.port)")
    p.add_argument("--redis", help="Redis URL: use the Redis backend (overrides storage.redis_url, OVERLAY_REDIS_URL)")
    p.add_argument("--workers", type=int, default=1, help="processes sharing the port; needs Redis (default: 1)")
    return p.parse_args(argv)


def effective_config(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    server = config.server.model_copy(update={k: v for k, v in (("host", args.host), ("port", args.port)) if v})
    mirrors_listen = config.server.public_url.rstrip("/") == f"http://{config.server.host}:{config.server.port}"
    if "public_url" not in config.server.model_fields_set or mirrors_listen:
        shown = "127.0.0.1" if server.host in ("0.0.0.0", "::") else server.host
        server = server.model_copy(update={"public_url": f"http://{shown}:{server.port}"})
    redis_url = args.redis or os.environ.get("OVERLAY_REDIS_URL") or config.storage.redis_url
    try:
        check_redis_url(redis_url or "redis://")
    except ValueError as exc:
        raise ConfigError([f"--redis / OVERLAY_REDIS_URL: {exc}"]) from None
    storage = config.storage.model_copy(update={"redis_url": redis_url or None})
    return config.model_copy(update={"server": server, "storage": storage})


FULL_LISTING_UP_TO = 10  # channels whose every URL is printed at start-up; beyond, one line each
ONE_LINE_UP_TO = 50  # beyond, the first channel only: the summary (overlay.startup) counts them all


def urls(config: Config) -> list[str]:
    from overlay.widgets import WIDGETS  # the registry is only needed for this listing
    base = config.server.public_url.rstrip("/")
    lines = []
    many = len(config.channels) > FULL_LISTING_UP_TO
    listed = config.channels[:1] if len(config.channels) > ONE_LINE_UP_TO else config.channels
    for c in listed:
        if many:  # one line each: the overlay URLs are on each channel's dashboard and the admin page
            lines.append(f"Channel {c.id} ({c.name}): {base}/dashboard/{c.id}")
            continue
        lines.append(f"Channel {c.id} ({c.name}):")
        for name in WIDGETS:
            lines.append(f"  overlay {name:<12} {base}/overlay/{c.id}/{name}?key={c.overlay_key}")
        lines.append(f"  widget gallery       {base}/widgets/{c.id}?key={c.overlay_key}")
        lines.append(f"  dashboard            {base}/dashboard/{c.id}")
        lines.append(f"  donate page          {base}/donate/{c.id}")
        lines.append(f"  live page            {base}/live/{c.id}")
        lines.append(f"  stream summary       {base}/dashboard/{c.id}/summary")
        if c.alerts.tts.enabled:  # say now if speech will be missing, not at the first alert
            from overlay.speech.engine import choose_engine
            engine = choose_engine(c)
            lines.append(f"  text-to-speech       {'on' if engine.available else 'OFF'}: {engine.reason}")
    if len(listed) < len(config.channels):
        lines.append(f"... and {len(config.channels) - len(listed)} more channels in the config file "
                     "(each one's URLs are on its dashboard and the admin page)")
    if config.server.admin_tokens:
        lines.append(f"Admin page (every channel, the admin API's included; invites): {base}/admin")
    lines += [f"Team {t.id} ({t.name}): {base}/api/v1/teams/{t.id}" for t in config.teams]
    return lines


def tune_gc(app: web.Application) -> None:
    """With 10,000 overlays connected, a full garbage collection walks every connection's
    objects and stalls every broadcast for up to a second; the automatic ones fire again
    and again while overlays connect (measured with bench/broadcast.py: connecting 10,000
    took 8.5 s with them, 2.8 s without). Reference counting frees almost everything at
    once; young collections still catch new cycles, and one full collection every ten
    minutes collects the rest. Objects alive at start-up are frozen out of the collector."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)

    async def collect_periodically(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(FULL_GC_EVERY_S)
                gc.collect()
        task = asyncio.create_task(loop())
        yield
        task.cancel()

    app.cleanup_ctx.append(collect_periodically)


def _closer(sio: Any) -> Callable[[], Awaitable[None]]:
    async def close_all() -> None:
        # engine.io's disconnect() of every client fails on an empty set (asyncio.wait([])).
        if sio.eio.sockets:
            await sio.eio.disconnect()
    return close_all


def run_worker(config: Config, reuse_port: bool, live_socket: str | None = None,
               supervisor: int | None = None, announce: bool = True) -> None:
    asyncio.run(serve(config, reuse_port, live_socket, supervisor, announce))


async def serve(config: Config, reuse_port: bool, live_socket: str | None = None,
                supervisor: int | None = None, announce: bool = True) -> None:
    """web.run_app's sequence, with overlay.web.drain between the signal and aiohttp's cleanup.
    ``announce``: print the channel summary once the store is read (one worker does)."""
    from overlay.web import drain
    from overlay import keys
    from overlay.app import create_app
    from overlay.startup import channel_summary
    app = create_app(config, live_socket=live_socket)
    tune_gc(app)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    if announce:
        print(channel_summary(app[keys.REGISTRY], config), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # A worker whose supervisor died, even by SIGKILL (and even before this worker was up),
    # stops too: nobody would stop it otherwise, and it would go on answering on the port.
    orphaned = asyncio.create_task(_watch_parent(supervisor, stop)) if supervisor is not None else None
    try:
        site = web.TCPSite(runner, config.server.host, config.server.port, reuse_port=reuse_port, backlog=4096)
        await site.start()
        await stop.wait()
        started = time.monotonic()
        services = app[keys.REGISTRY].services()
        await drain.drain(list(runner.sites), app[keys.DRAIN], _closer(app[keys.SIO]),
                          lambda: [svc.refuse_writes() for svc in services])
        log.info("drained in %.2f s (%d requests in progress)", time.monotonic() - started, app[keys.DRAIN].active)
    finally:
        if orphaned is not None:
            orphaned.cancel()
        await runner.cleanup()
        log.info("stopped")


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_CHECK_S)
    log.warning("the supervising process %d is gone; stopping this worker", parent)
    stop.set()


def _supervise(config: Config, workers: int, live: LiveSupervisor | None) -> int:
    # fork, not spawn: server.py is two lines with no __main__ guard, and no event loop runs yet here.
    ctx = multiprocessing.get_context("fork")
    socket_path = live.socket_path if live else None
    procs = [ctx.Process(target=run_worker, args=(config, True, socket_path, os.getpid(), i == 0), name=f"worker-{i}")
             for i in range(workers)]
    for p in procs:
        p.start()
    if live is not None:
        live.start()  # after the fork: a forked child would inherit a half-copied thread

    def forward(signum: int, _frame: object) -> None:
        for p in procs:
            if p.pid and p.is_alive():
                os.kill(p.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for p in procs:
        p.join()
    if live is not None:
        live.stop()
    return max((p.exitcode or 0) for p in procs)


def _run_single(config: Config, live: LiveSupervisor | None) -> None:
    if live is not None:
        live.start()
    try:
        run_worker(config, reuse_port=False, live_socket=live.socket_path if live else None)
    finally:
        if live is not None:
            live.stop()


def twitch_subscribe(argv: list[str]) -> int:
    """``server.py twitch-subscribe --channel ID``: overlay/intake/twitch_subscribe.py."""
    from overlay.intake.twitch_subscribe import SubscribeError, subscribe
    p = argparse.ArgumentParser(prog="server.py twitch-subscribe",
                                description="Create the channel's Twitch EventSub subscriptions (webhook transport)")
    p.add_argument("--config", default="config.yaml", help="path to config.yaml (default: %(default)s)")
    p.add_argument("--channel", required=True, help="the channel id whose webhooks.twitch to use")
    args = p.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    cfg = next((c for c in config.channels if c.id == args.channel), None)
    if cfg is None:
        print(f"no channel {args.channel!r} in {args.config}", file=sys.stderr)
        return 2
    try:
        done = asyncio.run(subscribe(cfg, config.server.public_url))
    except SubscribeError as exc:
        print(exc, file=sys.stderr)
        return 1
    for kind, what in done:
        print(f"{kind}: {what}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["twitch-subscribe"]:
        sys.exit(twitch_subscribe(argv[1:]))
    args = parse_args(argv)
    try:
        config = effective_config(args)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        sys.exit(2)
    if args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        sys.exit(2)
    if args.workers > 1 and not config.storage.redis_url:
        print("--workers above 1 needs the Redis backend: give --redis URL (or OVERLAY_REDIS_URL)", file=sys.stderr)
        sys.exit(2)
    backend = "redis" if config.storage.redis_url else f"embedded ({Path(config.storage.data_dir).resolve()})"
    print(f"Overlay server on {config.server.host}:{config.server.port}, backend {backend}, "
          f"{args.workers} worker(s)", flush=True)
    print("\n".join(urls(config)), flush=True)
    from overlay.startup import secret_lines
    print("\n".join(secret_lines(config, args.config, os.environ, sys.stdout.isatty())), flush=True)
    # One live process whatever the number of workers: each worker forwards WHIP/WHEP to it.
    live = LiveSupervisor.for_config(config)
    if args.workers == 1:
        _run_single(config, live)
        sys.exit(0)
    sys.exit(_supervise(config, args.workers, live))

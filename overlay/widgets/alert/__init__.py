"""alert: plays the channel's alert queue, in step with every other overlay of the channel."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from overlay.domain.media import IMAGE, SOUND
from overlay.widgets.base import Position, WidgetSettings
from overlay.widgets.media import TierMedia

ORDER = 10
DESCRIPTION = "Each donation as it arrives: name, amount, message, match, image and sound."


class Settings(WidgetSettings):
    position: Position = "center"
    sound: bool = Field(True, description="play the tier's sound, or the built-in chime")
    volume: float = Field(0.6, ge=0, le=1, description="sound volume, 0 to 1")
    speech: bool = Field(True, description="say the message after the sound, when the channel has text-to-speech on")
    speech_volume: float = Field(1.0, ge=0, le=1, description="speech volume, 0 to 1")
    show_image: bool = Field(True, description="show the tier's image, or the built-in heart")
    show_message: bool = Field(True, description="show the donor's message")
    animation: Literal["pop", "slide", "fade"] = Field("pop", description="how it enters and leaves")
    show_incentive: bool = Field(True, description="show the target, poll option or reward the donation chose")
    show_reached: bool = Field(True, description="celebrate a target when it is reached")
    test_badge: bool = Field(True, description="mark test donations with a small TEST badge")
    tier_images: TierMedia(IMAGE) = Field(  # type: ignore[valid-type]
        [], description="image per tier from the media library: the base alert first, then each tier")
    tier_sounds: TierMedia(SOUND) = Field(  # type: ignore[valid-type]
        [], description="sound per tier from the media library: the base alert first, then each tier")

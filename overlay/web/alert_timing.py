"""The channel's alert timing over HTTP (docs/api.md), moderators only:
GET / PUT / DELETE /api/v1/channels/{ch}/alerts/timing.

Channel-wide, not a widget preset: every alert box of the channel plays the one queue the
server schedules (overlay.domain.timing). A change is committed on the channel's ordered
writer and sent to the moderators as an ``alert_timing`` event.
"""
from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, StrictInt, StrictStr

from overlay.config import ALERT_DURATION_MS, ALERT_GAP_MS
from overlay.domain import money, timing
from overlay.settings.incentives import WHOLE
from overlay.service.channel import ChannelService
from overlay.web.api import CHANNEL, MODERATOR
from overlay.web.api_models import Body, Money
from overlay.web.routes import Routes

PATH = "/channels/{ch}/alerts/timing"
routes = Routes()

DurationMs = Annotated[StrictInt, Field(ge=ALERT_DURATION_MS[0], le=ALERT_DURATION_MS[1],
                                        description="how long an alert plays, in ms"), WHOLE]
GapMs = Annotated[StrictInt, Field(ge=ALERT_GAP_MS[0], le=ALERT_GAP_MS[1],
                                   description="the pause between two alerts, in ms"), WHOLE]


class TierTimingBody(Body):
    # The pattern is the document's: timing.check reads the amount (422 invalid_tiers).
    min_amount: Annotated[StrictStr, Field(max_length=money.MAX_LITERAL_LENGTH, description="a tier of config.yaml, "
                                           "named by its min_amount", json_schema_extra={
                                               "pattern": money.SETTING_AMOUNT_PATTERN})]
    duration_ms: DurationMs | None = Field(None, description="null: config.yaml's")


class AlertTimingBody(Body):
    """PUT …/alerts/timing: the whole change; a field that is null or left out takes config.yaml's
    value, and so does a tier left out of ``tiers``."""
    duration_ms: DurationMs | None = None
    gap_ms: GapMs | None = None
    tiers: list[TierTimingBody] = Field([], max_length=100)


class TierTiming(BaseModel):
    min_amount: Money
    duration_ms: int | None


class TimingValues(BaseModel):
    duration_ms: int
    gap_ms: int
    tiers: list[TierTiming]


class AlertTiming(BaseModel):
    """What moderators changed (null: config.yaml's), what applies now, and config.yaml's.
    A tier's effective duration is its own, else the alert duration."""
    duration_ms: int | None
    gap_ms: int | None
    tiers: list[TierTiming]
    effective: TimingValues
    config: TimingValues


@routes.get(PATH, access=MODERATOR, ok={200: AlertTiming}, path_params=CHANNEL)
async def get_alert_timing(request: web.Request, svc: ChannelService) -> web.Response:
    """The channel's alert timing: changed values, effective values, config.yaml's."""
    return web.json_response(timing.public(svc.cfg, await svc.current()))


@routes.put(PATH, access=MODERATOR, body=AlertTimingBody, ok={200: AlertTiming}, path_params=CHANNEL)
async def put_alert_timing(request: web.Request, svc: ChannelService, body: AlertTimingBody) -> web.Response:
    """Change how long every alert box of the channel plays alerts, and the gap between them."""
    changes = timing.check(svc.cfg, body.duration_ms, body.gap_ms,
                           [(tier.min_amount, tier.duration_ms) for tier in body.tiers])
    return web.json_response(await svc.set_alert_timing(changes))


@routes.delete(PATH, access=MODERATOR, ok={200: AlertTiming}, path_params=CHANNEL)
async def reset_alert_timing(request: web.Request, svc: ChannelService) -> web.Response:
    """Put the alert timing back to config.yaml's."""
    return web.json_response(await svc.set_alert_timing(None))


def setup_alert_timing(app: web.Application) -> None:
    """Call before ``setup_api``: its POST …/alerts/{action} shares the path."""
    routes.add_to(app)

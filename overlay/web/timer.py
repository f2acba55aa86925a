"""The subathon timer over HTTP (docs/timer.md), moderators only:
GET /api/v1/channels/{ch}/timer, POST /api/v1/channels/{ch}/timer/{start,pause,resume,add}.

Each action is committed on the channel's ordered writer, like a donation, and sent to every
page as a ``timer`` event (overlay.domain.timer)."""
from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, Field, StrictInt

from overlay.domain import timer
from overlay.settings.incentives import WHOLE
from overlay.settings.timer import MAX_SECONDS
from overlay.service.channel import ChannelService
from overlay.web.api import CHANNEL, MODERATOR
from overlay.web.api_models import Body
from overlay.web.routes import Routes

routes = Routes()


class TimerStartBody(Body):
    """POST …/timer/start: the countdown's length; left out: the channel's ``timer.initial_s``."""
    seconds: Annotated[StrictInt, Field(ge=1, le=MAX_SECONDS), WHOLE] | None = None


class TimerAddBody(Body):
    """POST …/timer/add: seconds to add; negative takes time away, never below zero."""
    seconds: Annotated[StrictInt, Field(ge=-MAX_SECONDS, le=MAX_SECONDS), WHOLE]


class Timer(BaseModel):
    started: bool
    ends_at: int | None = Field(description="ms since epoch; null while paused or never started")
    paused: bool
    remaining_ms: int | None = Field(description="while paused: what is left")
    added_ms: int = Field(description="time added by donations so far")
    cap_ms: int | None = Field(description="the most donations may add; null: no cap")


class TimerAnswer(BaseModel):
    timer: Timer
    seq: int = Field(description="the channel's seq the timer is current to (a page that saw a later "
                                 "`timer` event keeps that one)")


def _answer(value: tuple[dict[str, Any], int]) -> web.Response:
    return web.json_response({"timer": value[0], "seq": value[1]})


@routes.get("/channels/{ch}/timer", access=MODERATOR, ok={200: TimerAnswer}, path_params=CHANNEL)
async def get_timer(request: web.Request, svc: ChannelService) -> web.Response:
    """The subathon timer as it is now."""
    state = await svc.current()
    return _answer((timer.public(svc.cfg, state.timer), state.seq))


@routes.post("/channels/{ch}/timer/start", access=MODERATOR, body=TimerStartBody, ok={200: TimerAnswer},
             path_params=CHANNEL)
async def start_timer(request: web.Request, svc: ChannelService, body: TimerStartBody) -> web.Response:
    """Start (or restart) the countdown; what donations added starts again from zero."""
    return _answer(await svc.timer_action("start", body.seconds))


@routes.post("/channels/{ch}/timer/pause", access=MODERATOR, ok={200: TimerAnswer}, path_params=CHANNEL,
             errors=(409,))
async def pause_timer(request: web.Request, svc: ChannelService) -> web.Response:
    """Stop the countdown where it is (donations still add time while paused)."""
    return _answer(await svc.timer_action("pause"))


@routes.post("/channels/{ch}/timer/resume", access=MODERATOR, ok={200: TimerAnswer}, path_params=CHANNEL,
             errors=(409,))
async def resume_timer(request: web.Request, svc: ChannelService) -> web.Response:
    """Count down again from where it was paused."""
    return _answer(await svc.timer_action("resume"))


@routes.post("/channels/{ch}/timer/add", access=MODERATOR, body=TimerAddBody, ok={200: TimerAnswer},
             path_params=CHANNEL, errors=(409,))
async def add_timer(request: web.Request, svc: ChannelService, body: TimerAddBody) -> web.Response:
    """Add time by hand, or take it away (negative), down to zero."""
    return _answer(await svc.timer_action("add", body.seconds))


def setup_timer(app: web.Application) -> None:
    routes.add_to(app)

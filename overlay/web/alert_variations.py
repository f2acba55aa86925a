"""The channel's alert variations over HTTP (docs/api.md), moderators only:
GET / PUT / DELETE /api/v1/channels/{ch}/alerts/variations.

Channel-wide like the alert timing (overlay.web.alert_timing): the variation is chosen once,
when the alert is queued, so every alert box shows the same. A change is committed on the
channel's ordered writer and sent to the moderators as an ``alert_variations`` event.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from overlay.config import ALERT_DURATION_MS
from overlay.domain import alert_variations, incentives, money, variation_ops
from overlay.domain.state import Change, ChannelState
from overlay.settings.incentives import WHOLE
from overlay.service.channel import ChannelService
from overlay.web.api import CHANNEL, MODERATOR
from overlay.web.api_models import AMOUNT_PATTERN, Body
from overlay.web.routes import Routes

if TYPE_CHECKING:  # annotations only: a handler never imports the store
    from overlay.store.reads import Reads

PATH = "/channels/{ch}/alerts/variations"
routes = Routes()

Amount = Annotated[StrictStr, Field(pattern=AMOUNT_PATTERN, max_length=money.MAX_LITERAL_LENGTH)]
MediaName = Annotated[StrictStr, Field(min_length=1, max_length=200, description="a media library file")]


class WhenBody(Body):
    """Every condition given must hold; none given: the variation matches every alert."""
    min_amount: Amount | None = None
    max_amount: Amount | None = None
    source: Annotated[StrictStr, Field(pattern=r"^[a-z0-9_-]{1,32}$")] | None = None
    donor: Literal["first", "repeat"] | None = Field(None, description="the donor's first gift, or a later one")
    biggest: StrictBool = Field(False, description="the biggest gift of the stream so far")
    incentive: Annotated[StrictStr, Field(max_length=64)] | None = None
    test: StrictBool | None = Field(None, description="true: only test donations; false: never them")
    weight: Annotated[StrictInt, Field(json_schema_extra={"minimum": 1}), WHOLE] | None = Field(
        None, description="drawn among the matching weighted variations")


class VariationBody(Body):
    # The pattern and bounds are said in the document and checked by the domain, whose refusal
    # names the variation's own field (variations[2].id), which pydantic's would not.
    id: Annotated[StrictStr, Field(max_length=32, json_schema_extra={"pattern": "^[a-z0-9_-]{1,32}$"},
                                   description="unique in the list")]
    when: WhenBody = WhenBody()
    image: MediaName | None = None
    sound: MediaName | None = None
    layout: Literal[alert_variations.LAYOUTS] | None = None  # type: ignore[valid-type]
    text: Annotated[StrictStr, Field(max_length=alert_variations.MAX_TEXT)] | None = Field(
        None, description="placeholders: {name} {amount} {message} {source}; shown as text")
    duration_ms: Annotated[StrictInt, Field(ge=ALERT_DURATION_MS[0], le=ALERT_DURATION_MS[1]), WHOLE] | None = None
    tts: StrictBool | None = Field(None, description="false: the alert never speaks")


class AlertVariationsBody(Body):
    """PUT …/alerts/variations: the whole list, in order (the first match wins)."""
    variations: list[VariationBody] = Field(..., max_length=alert_variations.MAX_VARIATIONS)


class AlertVariations(BaseModel):
    variations: list[dict[str, Any]]
    changed: bool
    config: list[dict[str, Any]]


@routes.get(PATH, access=MODERATOR, ok={200: AlertVariations}, path_params=CHANNEL)
async def get_alert_variations(request: web.Request, svc: ChannelService) -> web.Response:
    """The variations that apply, whether moderators changed them, and config.yaml's."""
    return web.json_response(variation_ops.public(svc.cfg, await svc.current()))


@routes.put(PATH, access=MODERATOR, body=AlertVariationsBody, ok={200: AlertVariations}, path_params=CHANNEL)
async def put_alert_variations(request: web.Request, svc: ChannelService, body: AlertVariationsBody) -> web.Response:
    """Replace the channel's alert variations; alerts already queued keep theirs."""
    raw = [v.model_dump() for v in body.variations]

    async def op(state: ChannelState, now: int, reads: Reads) -> Change:
        known = {i["id"] for i in incentives.listing(svc.cfg, state)}  # as they are in this order
        return variation_ops.set_variations(svc.cfg, state, alert_variations.check(raw, svc.cfg.currency, known), now)
    return web.json_response(await _commit(svc, op))


@routes.delete(PATH, access=MODERATOR, ok={200: AlertVariations}, path_params=CHANNEL)
async def reset_alert_variations(request: web.Request, svc: ChannelService) -> web.Response:
    """Put the alert variations back to config.yaml's."""
    async def op(state: ChannelState, now: int, reads: Reads) -> Change:
        return variation_ops.set_variations(svc.cfg, state, None, now)
    return web.json_response(await _commit(svc, op))


async def _commit(svc: ChannelService, op: Any) -> dict[str, Any]:
    change = await svc.mutate(op)
    assert change is not None
    return variation_ops.public(svc.cfg, change.state)


def setup_alert_variations(app: web.Application) -> None:
    """Call before ``setup_api``: its POST …/alerts/{action} shares the path."""
    routes.add_to(app)

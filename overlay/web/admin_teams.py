"""The admin API's teams (docs/api.md §8): teams as config.yaml describes them, stored.

Config teams are listed and shown but read-only here (409 ``team_in_config``). A change is
written to the store, applied to this process at once, and reaches every other process
through the store's channel notifications (docs/teams.md).
"""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from overlay import keys
from overlay.config import TeamSettings
from overlay.domain import money, wire
from overlay.domain.teams import settings_part
from overlay.settings.teams import check_teams
from overlay.clock import now_ms
from overlay.web.admin import ADMIN
from overlay.web.admin_models import AdminTeam, NewTeam, TeamChange, TeamList, channel_refusal
from overlay.http.errors import ApiError
from overlay.web.routes import Routes
from overlay.web.teams import TEAM_MATCH, TEAMS

TEAM_ID = {"id": {"type": "string", "pattern": "^[a-z0-9-]{1,32}$", "description": "team id"}}
TEAM_BODY = 512 * 1024  # 10,000 member ids of up to 32 characters, quoted and separated
routes = Routes()


def _checked(request: web.Request, data: dict[str, Any]) -> TeamSettings:
    """The team's settings, its members known and in its currency (422 naming the field otherwise)."""
    try:
        team = TeamSettings.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, *channel_refusal(exc.errors(include_url=False))) from None
    registry = request.app[keys.REGISTRY]
    currencies = {c: cfg.currency for c in team.channels if (cfg := registry.settings(c)) is not None}
    problems = check_teams([team], currencies)
    if problems:
        where, _, message = problems[0].removeprefix("teams[0].").partition(": ")
        raise ApiError(422, f"invalid_{where.split('[')[0].split('.')[0]}", f"{where}: {message}")
    currency = team.currency or next(iter(currencies.values()))
    return team.model_copy(update={"currency": currency})  # fixed now: members joining later must match it


def _record(team: TeamSettings, created_at: str, version: int) -> dict[str, Any]:
    return {**team.model_dump(mode="json"), "created_at": created_at, "updated_at": wire.iso(now_ms()),
            "version": version}


def _view(team: TeamSettings, record: dict[str, Any] | None) -> dict[str, Any]:
    extra = {k: record[k] for k in ("created_at", "updated_at", "version")} if record else {}
    return {**team.model_dump(mode="json"), "source": "api" if record else "config", **extra}


async def _shown(request: web.Request, team: TeamSettings, record: dict[str, Any] | None) -> dict[str, Any]:
    """The view, its ``match`` with what the members used of the cap so far."""
    view = _view(team, record)
    if team.match is not None:
        used = await request.app[TEAM_MATCH].used(team.id)
        first = request.app[keys.REGISTRY].settings(team.channels[0])
        view["match"]["used"] = money.to_decimal_string(used, team.currency or (first.currency if first else "EUR"))
    return view


async def _stored(request: web.Request, team_id: str) -> dict[str, Any]:
    """The record of a team of the admin API: 404 if none, 409 for a config team."""
    if request.app[TEAMS].in_config(team_id):
        raise ApiError(409, "team_in_config", "this team is defined in config.yaml: change it there")
    record = await request.app[TEAMS].stored(team_id)
    if record is None:
        raise ApiError(404, "team_not_found", "no such team")
    return record


@routes.post("/admin/teams", access=ADMIN, body=NewTeam, ok={201: AdminTeam}, errors=(401, 409, 422),
             max_body=TEAM_BODY)
async def create_team(request: web.Request, _: None, body: NewTeam) -> web.Response:
    """Create a team of config or admin API channels, all in the team's currency"""
    team = _checked(request, body.model_dump(mode="json", exclude_unset=True))
    record = _record(team, wire.iso(now_ms()), 1)
    board = request.app[TEAMS]
    if board.in_config(team.id) or not await board.put(team.id, record, create=True):
        raise ApiError(409, "team_exists", f"a team with the id {team.id} exists")
    if team.match is not None:  # a team of that id deleted earlier may have left grants
        await request.app[TEAM_MATCH].forget(team.id)
    await board.changed(team.id, record, announce=True)
    return web.json_response(await _shown(request, team, record), status=201)


@routes.get("/admin/teams", access=ADMIN, ok={200: TeamList}, errors=(401,))
async def list_teams(request: web.Request, _: None) -> web.Response:
    """Teams by id, config.yaml's and the admin API's"""
    board = request.app[TEAMS]
    configured = [await _shown(request, t, None) for t in board.teams.values() if board.in_config(t.id)]
    stored = [await _shown(request, TeamSettings.model_validate(settings_part(r)), r)
              for r in await board.stored_records()]
    return web.json_response({"teams": sorted(configured + stored, key=lambda t: t["id"])})


@routes.get("/admin/teams/{id}", access=ADMIN, ok={200: AdminTeam}, path_params=TEAM_ID, errors=(401,))
async def get_team(request: web.Request, _: None) -> web.Response:
    """One team"""
    team_id, board = request.match_info["id"], request.app[TEAMS]
    if board.in_config(team_id):
        return web.json_response(await _shown(request, board.teams[team_id], None))
    record = await _stored(request, team_id)
    return web.json_response(await _shown(request, TeamSettings.model_validate(settings_part(record)), record))


@routes.patch("/admin/teams/{id}", access=ADMIN, body=TeamChange, ok={200: AdminTeam}, path_params=TEAM_ID,
              errors=(401, 409, 422), max_body=TEAM_BODY)
async def change_team(request: web.Request, _: None, body: TeamChange) -> web.Response:
    """Change a team of the admin API: each key given replaces that key whole"""
    record = await _stored(request, request.match_info["id"])
    team = _checked(request, {**settings_part(record), **body.model_dump(mode="json", exclude_unset=True)})
    if team.match is None or record.get("match") is None:  # removed, or a new one: its cap starts from zero
        await request.app[TEAM_MATCH].forget(team.id)
    record = _record(team, record["created_at"], record["version"] + 1)
    await request.app[TEAMS].put(team.id, record, create=False)
    await request.app[TEAMS].changed(team.id, record, announce=True)
    return web.json_response(await _shown(request, team, record))


@routes.delete("/admin/teams/{id}", access=ADMIN, ok={204: None}, path_params=TEAM_ID, errors=(401, 409))
async def delete_team(request: web.Request, _: None) -> web.Response:
    """Delete a team of the admin API: its members keep their donations and totals"""
    record = await _stored(request, request.match_info["id"])
    await request.app[TEAMS].delete(record["id"])
    await request.app[TEAM_MATCH].forget(record["id"])
    await request.app[TEAMS].changed(record["id"], None)
    return web.Response(status=204)


def setup_admin_teams(app: web.Application) -> None:
    routes.add_to(app)

"""GET /api/v1/teams/{team}: a team's total, public like a goal bar on stream."""
from __future__ import annotations

from aiohttp import web

from overlay import keys
from overlay.teams import TeamBoard
from overlay.web.errors import ApiError

TEAMS: web.AppKey[TeamBoard] = web.AppKey("teams", TeamBoard)


async def get_team(request: web.Request) -> web.Response:
    board = request.app[TEAMS]
    team = board.teams.get(request.match_info["team"])
    if team is None:
        raise ApiError(404, "team_not_found", "no such team")
    return web.json_response(await board.summary(team))


async def _close_board(app: web.Application) -> None:
    await app[TEAMS].close()  # on shutdown, before the store closes (cleanup contexts run after)


def setup_teams(app: web.Application) -> None:
    app[TEAMS] = TeamBoard(app[keys.CONFIG], app[keys.SERVICES])
    app.on_shutdown.append(_close_board)
    app.router.add_get("/api/v1/teams/{team}", get_team)

"""GET /api/v1/teams/{team}: a team's total, public like a goal bar on stream."""
from __future__ import annotations

from aiohttp import web

from overlay import keys
from overlay.service.team_match import TeamMatcher
from overlay.service.teams import TeamBoard
from overlay.http.errors import ApiError
from overlay.web.feature_models import Team
from overlay.web.routes import PUBLIC, Routes

TEAMS: web.AppKey[TeamBoard] = web.AppKey("teams", TeamBoard)
TEAM_MATCH: web.AppKey[TeamMatcher] = web.AppKey("team_match", TeamMatcher)
routes = Routes()


@routes.get("/teams/{team}", access=PUBLIC, ok={200: Team},
            path_params={"team": {"type": "string", "pattern": "^[a-z0-9-]{1,32}$", "description": "team id"}})
async def get_team(request: web.Request, _ctx: None) -> web.Response:
    """A team's total across its channels."""
    board = request.app[TEAMS]
    team = board.teams.get(request.match_info["team"])
    if team is None:
        raise ApiError(404, "team_not_found", "no such team")
    return web.json_response(await board.summary(team))


async def _close_board(app: web.Application) -> None:
    await app[TEAMS].close()  # on shutdown, before the store closes (cleanup contexts run after)


async def _load_board(app: web.Application) -> None:
    await app[TEAMS].reload()


def setup_teams(app: web.Application) -> None:
    app[TEAMS] = TeamBoard(app[keys.CONFIG], app[keys.REGISTRY])
    app[TEAM_MATCH] = TeamMatcher(app[TEAMS])
    app.on_shutdown.append(_close_board)
    app.on_startup.append(_load_board)  # after the store opened (cleanup contexts start first)
    routes.add_to(app)

"""GET /api/v1/channels/{ch}/donations.csv?from=&to=&status=&test=&dialect=: every donation, for moderators,
streamed page by page so a long campaign's export never sits whole in memory."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from aiohttp import web

from overlay.domain import export, wire
from overlay.service.channel import ChannelService
from overlay.web.api import CHANNEL, MODERATOR
from overlay.http.errors import ApiError
from overlay.web.feature_models import CsvQuery
from overlay.web.routes import Content, Routes

CSV = Content("text/csv", {"type": "string", "description": "a header row, then one row per donation"})
routes = Routes()


def _bound(raw: str, name: str, *, end: bool) -> int | None:
    """``from``/``to`` as epoch ms. A date alone is a whole UTC day: ``to=2026-12-01`` includes that day."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(), timezone.utc)
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    except ValueError:
        raise ApiError(400, f"invalid_{name}", f"{name} must be an ISO 8601 date or date-time") from None
    return wire.to_ms(moment)


def _statuses(raw: str) -> frozenset[str]:
    wanted = frozenset(s.strip() for s in raw.split(",") if s.strip())
    unknown = wanted - set(export.STATUSES)
    if unknown:
        raise ApiError(400, "invalid_status", f"status must be among {', '.join(export.STATUSES)}")
    return wanted


@routes.get("/channels/{ch}/donations.csv", access=MODERATOR, query=CsvQuery, ok={200: CSV}, path_params=CHANNEL)
async def donations_csv(request: web.Request, svc: ChannelService, query: CsvQuery) -> web.StreamResponse:
    """Every donation as CSV, for moderators."""
    start, end = _bound(query.from_, "from", end=False), _bound(query.to, "to", end=True)
    statuses = _statuses(query.status)
    if start is not None and end is not None and end <= start:
        raise ApiError(400, "invalid_to", "to must be after from")
    test = {"": None, "true": True, "false": False}[query.test]
    dialect = export.DIALECTS[query.dialect]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'attachment; filename="{svc.cfg.id}-donations-{stamp}.csv"'})
    await response.prepare(request)
    await response.write((dialect.bom + export.csv_text([export.COLUMNS], dialect)).encode())
    async for page in svc.all_donations():
        rows = [export.row({"incentive": r.get("incentive"), **wire.donation(svc.cfg, r, private=True)}, dialect)
                for r in page if export.selected(r, start, end, statuses, test)]
        if rows:
            await response.write(export.csv_text(rows, dialect).encode())
    await response.write_eof()
    return response


def setup_export(app: web.Application) -> None:
    routes.add_to(app)

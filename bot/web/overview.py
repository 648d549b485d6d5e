"""Oversikt: the year's rounds, how the open ones are going, and the latest publications."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.web.context import workspace_of
from bot.web.render import page
from bot.web.security import guarded
from bot.web.steps import next_steps
from services import publications
from services.response_rate import round_progress
from services.rounds import list_rounds

STATUS_NAMES = {"planned": "planlagt", "open": "åpen", "closed": "stengt", "cancelled": "avlyst"}


@guarded("viewer")
async def overview(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    year = _year(request, workspace.now())
    async with workspace.sessions() as session:
        rounds = [
            r for r in await list_rounds(session)
            if datetime.fromisoformat(r["opens_at"]).astimezone(workspace.zone).year == year
            or datetime.fromisoformat(r["closes_at"]).astimezone(workspace.zone).year == year
        ]  # fmt: skip
        open_rounds = [
            await round_progress(session, r["id"]) for r in rounds if r["status"] == "open"
        ]
        latest = list(reversed(await publications.overview(session)))[:5]
    steps = await next_steps(workspace.cycle)
    for r in rounds:
        r["opens"] = datetime.fromisoformat(r["opens_at"])
        r["closes"] = datetime.fromisoformat(r["closes_at"])
    return page(
        request,
        "overview.html",
        {
            "year": year,
            "rounds": rounds,
            "open_rounds": open_rounds,
            "steps": steps,
            "publications": latest,
            "status_names": STATUS_NAMES,
        },
        title="Oversikt",
    )


def _year(request: web.Request, now: datetime) -> int:
    raw = request.query.get("ar", "")
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return now.year

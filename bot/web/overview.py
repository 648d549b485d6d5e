"""Oversikt: the year's rounds, how the open ones are going, the latest publications, and
what the signed-in staff member has to follow up (due steps of dissemination plans)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.web.context import workspace_of
from bot.web.render import page
from bot.web.security import VISITOR, Visitor, guarded
from bot.web.steps import STEP_NAMES
from scheduler.status import next_steps
from services.action_plans import follow_ups
from services.views_rounds import year_overview

STATUS_NAMES = {"planned": "planlagt", "open": "åpen", "closed": "stengt", "cancelled": "avlyst"}


@guarded("viewer")
async def overview(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    now = workspace.now()
    year = _year(request, now)
    async with workspace.sessions() as session:
        seen = await year_overview(session, year, workspace.zone)
        steps = await next_steps(session, workspace.zone, now)
        visitor = request[VISITOR]
        mine = (
            await follow_ups(session, visitor.staff.id, now, workspace.zone)
            if isinstance(visitor, Visitor)
            else []
        )
    return page(
        request,
        "overview.html",
        {
            "year": year,
            "overview": seen,
            "steps": steps,
            "step_names": STEP_NAMES,
            "status_names": STATUS_NAMES,
            "follow_ups": mine,
        },
        title="Oversikt",
    )


def _year(request: web.Request, now: datetime) -> int:
    raw = request.query.get("ar", "")
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return now.year

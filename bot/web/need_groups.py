"""Grupper: suggested groups of a round's needs, per area, for staff to accept as tags.

The page shows, for each area, the groups ``services/need_groups.py`` suggests among the
needs without a tag, each with a name to keep or change, its most typical needs and all
its needs with a tick (untick to leave a need out), and the tags already on the area's
needs. «Godta som merkelapp» puts the name as a tag on the ticked needs (audited) and
comes back to the same area.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.web.context import workspace_of
from bot.web.render import page
from bot.web.security import actor_of, guarded, path_id, see_other
from dialogs.texts import antall
from services.need_groups import GroupError, accept_group, suggest_for_round
from services.need_tags import MAX_LABEL, TagError
from services.views_needs import NeedError, NeedKey
from services.views_rounds import round_row

MAX_FIELD = 200


def area_anchor(area: str) -> str:
    """An element id for an area's section."""
    return "omrade-" + "".join(ch if ch.isalnum() else "-" for ch in area)


def _base(round_id: int) -> str:
    return f"/resultater/{round_id}/grupper"


async def _round_or_404(request: web.Request, round_id: int) -> Any:
    workspace = workspace_of(request)
    async with workspace.sessions() as session:
        try:
            row = await round_row(session, round_id)
        except LookupError:
            raise web.HTTPNotFound() from None
    if row.status == "planned":
        raise web.HTTPNotFound()
    return row


@guarded("staff")
async def groups_page(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    round_id = path_id(request, "round_id")
    row = await _round_or_404(request, round_id)
    wanted = request.query.get("omrade", "")[:MAX_FIELD] or None
    async with workspace.sessions() as session:
        areas = await suggest_for_round(session, workspace.catalog, round_id, cache=workspace.needs)
    shown = [a for a in areas if wanted is None or a.area == wanted]
    done = request.query.get("godtatt", "")[:MAX_FIELD]
    in_use = {t.label.casefold() for a in areas for t in a.tags.tags}
    done = done if done.casefold() in in_use else ""  # only a tag that is there
    return page(
        request,
        "need_groups.html",
        {
            "round": row,
            "areas": areas,
            "shown": shown,
            "chosen_area": wanted or "",
            "base": _base(round_id),
            "notice": f"Merkelappen «{done}» er satt på behovene du valgte." if done else "",
            "area_anchor": area_anchor,
            "antall": antall,
            "max_label": MAX_LABEL,
        },
        title=f"Grupper av behov: {row.title}",
    )


def _text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value.strip()[:MAX_FIELD] if isinstance(value, str) else ""


@guarded("staff")
async def accept(request: web.Request) -> web.StreamResponse:
    """Accept one suggested group as a tag on the needs ticked in its form."""
    workspace = workspace_of(request)
    round_id = path_id(request, "round_id")
    await _round_or_404(request, round_id)
    form = await request.post()
    area = _text(form, "omrade")
    back = _base(round_id) + (f"#{area_anchor(area)}" if area else "")
    try:
        keys = [NeedKey.parse(v) for v in form.getall("behov", []) if isinstance(v, str)]
        async with workspace.sessions.begin() as session:
            accepted = await accept_group(
                session, workspace.catalog, round_id, area, _text(form, "merkelapp"), keys,
                actor=actor_of(request), now=workspace.now(), cache=workspace.needs,
            )  # fmt: skip
    except (TagError, GroupError) as error:
        return _problem(request, str(error), back, 422)
    except NeedError:
        return _problem(
            request, "fant ikke ett av behovene i dette området; det kan være slettet", back, 404
        )
    query = f"?godtatt={quote(accepted.label, safe='')}"
    return see_other(f"{_base(round_id)}{query}#{area_anchor(area)}")


def _problem(request: web.Request, message: str, back: str, status: int) -> web.StreamResponse:
    return page(
        request,
        "refused.html",
        {"text": message[:1].upper() + message[1:] + ".", "back": back},
        title="Det gikk ikke",
        status=status,
    )


def add_need_group_routes(app: web.Application) -> None:
    one = r"/resultater/{round_id:\d+}/grupper"
    app.router.add_get(one, groups_page)
    app.router.add_post(one, accept)

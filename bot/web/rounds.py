"""Runder: every round, one round's progress and history, and staff's changes to it with
a confirmation that says what will happen and to how many."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from aiohttp import web

from bot.web.context import Workspace, workspace_of
from bot.web.overview import STATUS_NAMES
from bot.web.render import page
from bot.web.security import actor_of, guarded, path_id, visitor_of
from bot.web.steps import STEP_NAMES
from dialogs.action_texts import STATUS_NAMES as ACTION_STATUS_NAMES
from scheduler.status import coming_steps
from services import actions as ks_actions
from services import round_actions
from services.lifecycle import LifecycleError
from services.staff import has_role
from services.views_rounds import STATE_NB, round_rows, round_status

DONE = {
    "pause": "Runden er satt på pause.",
    "resume": "Runden fortsetter.",
    "extend": "Fristen er flyttet.",
    "reschedule": "Åpningen er flyttet.",
    "close": "Runden er stengt.",
    "cancel": "Runden er avlyst.",
    "remind": "Påminnelsene er lagt i kø og sendes nå.",
}
EVENT_NAMES = {
    "created": "opprettet", "opened": "åpnet", "invited": "invitasjoner sendt",
    "reminded": "påminnelse sendt", "closed": "stengt", "closed_notified": "medlemmene fikk beskjed om stenging",
    "cancelled": "avlyst", "paused": "satt på pause", "resumed": "fortsatt",
    "rescheduled": "datoer endret", "reminder_skipped": "påminnelse hoppet over",
}  # fmt: skip


@guarded("viewer")
async def rounds_list(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    async with workspace.sessions() as session:
        rounds = await round_rows(session)
    return page(
        request,
        "rounds.html",
        {"rounds": list(reversed(rounds)), "status_names": STATUS_NAMES},
        title="Runder",
    )


@guarded("viewer")
async def round_page(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    round_id = path_id(request, "round_id")
    async with workspace.sessions() as session:
        try:
            status = await round_status(session, round_id)
        except LookupError:
            raise web.HTTPNotFound() from None
        steps = await coming_steps(session, workspace.zone, workspace.now(), round_id)
        linked = (
            (await ks_actions.actions_of_rounds(session, [round_id])).get(round_id, [])
            if status.round.status == "closed"
            else []
        )
    visitor = visitor_of(request)
    chosen = request.query.get("tilstand", "")
    state = chosen if chosen in STATE_NB else None
    return page(
        request,
        "round.html",
        {
            "status": status,
            "round": status.round,
            "organisations": status.organisations(state),  # type: ignore[arg-type]
            "chosen_state": state or "",
            "state_names": STATE_NB,
            "event_names": EVENT_NAMES,
            "steps": steps,
            "step_names": STEP_NAMES,
            "status_names": STATUS_NAMES,
            "may_change": has_role(visitor.staff, "admin"),
            "actions": round_actions.ACTION_NAMES,
            "notice": DONE.get(request.query.get("utfort", ""), ""),
            "ks_actions": [(a.id, a.title, a.status) for a in linked],
            "action_status_names": ACTION_STATUS_NAMES,
            "closes_local": _local_input(status.round.closes_at, workspace),
            "opens_local": _local_input(status.round.opens_at, workspace),
        },
        title=status.round.title,
    )


def _local_input(moment: datetime, workspace: Workspace) -> str:
    return moment.astimezone(workspace.zone).strftime("%Y-%m-%dT%H:%M")


def _moment(value: str | None, workspace: Workspace, field: str) -> datetime | None:
    """A ``datetime-local`` field's value in the workspace's zone."""
    if not value:
        return None
    try:
        naive = datetime.strptime(value.strip()[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        raise LifecycleError(f"{field} må være en dato og et klokkeslett") from None
    return naive.replace(tzinfo=workspace.zone)


def _requested(
    values: Mapping[str, object], workspace: Workspace
) -> tuple[round_actions.RoundAction, datetime | None, datetime | None]:
    """The action and its moments, from the confirmation link or the form that confirms it."""
    action = round_actions.parse_action(str(values.get("handling", "")))
    opens_at = _moment(str(values.get("apner", "")), workspace, "Ny åpning")
    closes_at = _moment(str(values.get("frist", "")), workspace, "Ny frist")
    return action, opens_at, closes_at


@guarded("admin")
async def confirm_action(request: web.Request) -> web.StreamResponse:
    """The confirmation page: what the action will do, to how many, and a button."""
    workspace = workspace_of(request)
    round_id = path_id(request, "round_id")
    query = request.query
    try:
        action, opens_at, closes_at = _requested(query, workspace)
        async with workspace.sessions() as session:
            preview = await round_actions.preview(
                session, round_id, action, workspace.now(), workspace.zone,
                opens_at=opens_at, closes_at=closes_at,
            )  # fmt: skip
    except LookupError:
        raise web.HTTPNotFound() from None
    except LifecycleError as error:
        return await _problem(request, round_id, str(error))
    return page(
        request,
        "round_confirm.html",
        {
            "preview": preview,
            "action_name": round_actions.ACTION_NAMES[action],
            "apner": query.get("apner", ""),
            "frist": query.get("frist", ""),
        },
        title=f"Bekreft: {round_actions.ACTION_NAMES[action]}",
    )


@guarded("admin")
async def carry_out_action(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    round_id = path_id(request, "round_id")
    form = await request.post()
    try:
        action, opens_at, closes_at = _requested(form, workspace)
        actor = actor_of(request)
        async with workspace.sessions.begin() as session:
            await round_actions.carry_out(
                session, round_id, action, workspace.now(), workspace.zone, workspace.catalog,
                actor,
                opens_at=opens_at, closes_at=closes_at,
            )  # fmt: skip
    except LookupError:
        raise web.HTTPNotFound() from None
    except LifecycleError as error:
        return await _problem(request, round_id, str(error))
    workspace.rounds_changed()
    raise web.HTTPSeeOther(f"/runder/{round_id}?utfort={action}")


async def _problem(request: web.Request, round_id: int, message: str) -> web.StreamResponse:
    return page(
        request,
        "refused.html",
        {"text": message[:1].upper() + message[1:] + ".", "back": f"/runder/{round_id}"},
        title="Det gikk ikke",
        status=409,
    )


def add_round_routes(app: web.Application) -> None:
    app.router.add_get("/runder", rounds_list)
    app.router.add_get("/runder/{round_id}", round_page)
    app.router.add_get("/runder/{round_id}/bekreft", confirm_action)
    app.router.add_post("/runder/{round_id}/handling", carry_out_action)

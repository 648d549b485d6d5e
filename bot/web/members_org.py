"""Medlemmer, the organisation as respondent (ADR 20): an admin gives a contact a
delegate's code, or hands a contact's place over to someone else (a new rådmann),
through the same services and audit names as the chat's /deleger and
``lyttepost contacts replace``."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.web.context import workspace_of
from bot.web.members import (
    ORG,
    _contact_of,
    _detail_page,
    _form_text,
    _issued_view,
    _org_code,
    in_norwegian,
)
from bot.web.security import actor_of, guarded
from services import audit
from services.contacts import ContactError
from services.organisation import (
    NewPerson,
    OrganisationError,
    issue_delegate_code,
    replace_contact,
)


async def _contact_field(request: web.Request, name: str) -> int | None:
    value = await _form_text(request, name)
    return int(value) if value.isdigit() and len(value) < 10 else None


@guarded("admin")
async def issue_delegate(request: web.Request) -> web.StreamResponse:
    """A delegate's code for a colleague of a contact, shown once like an invitation code."""
    workspace = workspace_of(request)
    org_code = _org_code(request)
    for_id = await _contact_field(request, "for")
    name = await _form_text(request, "delegat")
    if for_id is None:
        return await _detail_page(request, problem="Velg hvem delegaten svarer for.", status=422)
    principal = await _contact_of(workspace, org_code, for_id)
    now = workspace.now()
    ttl = timedelta(days=workspace.settings.invite_ttl_days)
    try:
        async with workspace.sessions.begin() as session:
            issued = await issue_delegate_code(session, principal.id, name, now, ttl)
            audit.record(
                session, actor_of(request), "contact.delegate", f"contact:{issued.delegate_id}",
                now, org=principal.org_code, delegate_for=principal.id,
            )  # fmt: skip
    except LookupError:
        return await _detail_page(
            request, problem="Kontakten er deaktivert. Aktiver den først.", status=409
        )
    except OrganisationError as error:
        problem = (
            "En delegat kan ikke gi tilgangen videre."
            if "delegate" in str(error)
            else in_norwegian(str(error))
        )
        return await _detail_page(request, problem=problem, status=422)
    view = _issued_view(
        workspace, f"{issued.name} (delegat for {principal.name})", issued.code, issued.expires_at
    )
    return await _detail_page(request, issued=view)


@guarded("admin")
async def replace(request: web.Request) -> web.StreamResponse:
    """Hand one contact's place over: to a colleague already registered, or to a new
    person (then their invitation code is shown once)."""
    workspace = workspace_of(request)
    org_code = _org_code(request)
    old_id = await _contact_field(request, "gammel")
    new_id = await _contact_field(request, "ny")
    name = await _form_text(request, "navn")
    form = {"navn": name, "rolle": await _form_text(request, "rolle"),
            "epost": await _form_text(request, "epost")}  # fmt: skip
    if old_id is None:
        return await _detail_page(request, problem="Velg hvem som skal erstattes.", status=422)
    if (new_id is None) == (not name):
        return await _detail_page(
            request,
            problem="Velg en kontakt som tar over, eller skriv navnet til en ny person (ikke begge).",
            form=form,
            status=422,
        )
    old = await _contact_of(workspace, org_code, old_id)
    target: int | NewPerson
    if new_id is not None:
        target = (await _contact_of(workspace, org_code, new_id)).id
    else:
        target = NewPerson(name, form["rolle"] or None, form["epost"] or None)
    now = workspace.now()
    actor = actor_of(request)
    ttl = timedelta(days=workspace.settings.invite_ttl_days)
    try:
        async with workspace.sessions.begin() as session:
            done = await replace_contact(session, old.id, target, now, ttl, actor.label)
            audit.record(
                session, actor, "contact.replace", f"contact:{old.id}", now,
                by=done.new_id, org=done.org_code, responses_moved=len(done.responses_moved),
                chats_unbound=done.chats_unbound,
            )  # fmt: skip
    except (OrganisationError, ContactError, LookupError) as error:
        message = str(error)
        problem = (
            "Kontakten er allerede deaktivert."
            if "already deactivated" in message
            else "En kontakt kan ikke erstatte seg selv."
            if "themselves" in message
            else "Den som tar over, er deaktivert. Aktiver den først."
            if "is deactivated" in message
            else in_norwegian(message)
        )
        return await _detail_page(request, problem=problem, form=form, status=422)
    notice = (
        f"{old.name} er erstattet av {done.new_name}: "
        f"{len(done.responses_moved)} påbegynt svar er flyttet, og {old.name} er deaktivert "
        "og har fått beskjed."
    )
    issued = (
        _issued_view(workspace, done.new_name, done.code, done.expires_at)
        if done.code and done.expires_at
        else None
    )
    return await _detail_page(request, notice=notice, issued=issued)


def add_organisation_respondent_routes(app: web.Application) -> None:
    app.router.add_post(f"/medlemmer/{ORG}/deleger", issue_delegate)
    app.router.add_post(f"/medlemmer/{ORG}/erstatt", replace)

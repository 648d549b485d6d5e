"""Ansatte og logg (admins): staff accounts and roles, login links, and the audit log.

The same services as ``lyttepost staff ...`` and ``lyttepost audit`` (bot/cli_staff.py),
with the same audit names.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from bot.web.context import Workspace, workspace_of
from bot.web.render import page
from bot.web.security import actor_of, guarded, path_id, see_other, visitor_of
from services import audit, staff_access
from services.staff import (
    ROLE_NAMES_NB,
    ROLES,
    StaffError,
    add_staff,
    deactivate,
    list_staff,
    set_role,
    staff_by_id,
    view,
)

DONE = {
    "lagt-til": "Kontoen er lagt til.",
    "rolle": "Rollen er endret.",
    "deaktivert": "Kontoen er deaktivert: alle økter er avsluttet og koblede chatter frakoblet.",
}


async def _accounts(workspace: Workspace) -> list[object]:
    async with workspace.sessions() as session:
        return [view(s) for s in await list_staff(session)]


async def _staff_page(
    request: web.Request,
    *,
    notice: str = "",
    problem: str = "",
    link: dict[str, object] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    """The accounts, with what just happened (a notice, a problem or a link to pass on)."""
    return page(
        request,
        "staff.html",
        {
            "accounts": await _accounts(workspace_of(request)),
            "roles": ROLES,
            "role_names_nb": ROLE_NAMES_NB,
            "notice": notice,
            "problem": problem,
            "link": link,
            "form": form or {},
        },
        title="Ansatte",
        status=status,
    )


@guarded("admin")
async def staff_page(request: web.Request) -> web.StreamResponse:
    return await _staff_page(request, notice=DONE.get(request.query.get("utfort", ""), ""))


async def _form_text(request: web.Request, name: str) -> str:
    value = (await request.post()).get(name)
    return value.strip() if isinstance(value, str) else ""


@guarded("admin")
async def add_account(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    name, email = await _form_text(request, "navn"), await _form_text(request, "epost")
    role = await _form_text(request, "rolle")
    now = workspace.now()
    try:
        async with workspace.sessions.begin() as session:
            staff = await add_staff(session, name, email, role, now)
            audit.record(
                session, actor_of(request), "staff.add", f"staff:{staff.id}", now, role=staff.role
            )
    except StaffError as error:
        return await _staff_page(
            request,
            problem=_norwegian(str(error)),
            form={"navn": name, "epost": email, "rolle": role},
            status=422,
        )
    return see_other("/ansatte?utfort=lagt-til")


def _norwegian(message: str) -> str:
    """The services' reasons (English, shared with the CLI) in words staff read."""
    if "needs a name" in message:
        return "Skriv inn et navn."
    if "not an e-mail address" in message:
        return "Skriv inn en gyldig e-postadresse."
    if "unknown role" in message:
        return "Velg en rolle."
    if "already has a staff account" in message:
        return "Det finnes allerede en konto med denne e-postadressen."
    return message


@guarded("admin")
async def change_role(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    staff_id = path_id(request, "staff_id")
    role = await _form_text(request, "rolle")
    now = workspace.now()
    if staff_id == visitor_of(request).staff.id and role != "admin":
        return _refuse(request, "Du kan ikke ta fra deg selv administratorrollen.")
    try:
        async with workspace.sessions.begin() as session:
            staff = await staff_by_id(session, staff_id)
            await set_role(session, staff, role)
            audit.record(
                session, actor_of(request), "staff.role", f"staff:{staff_id}", now, role=role
            )
    except LookupError:
        raise web.HTTPNotFound() from None
    except StaffError as error:
        return _refuse(request, _norwegian(str(error)))
    return see_other("/ansatte?utfort=rolle")


@guarded("admin")
async def deactivate_account(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    staff_id = path_id(request, "staff_id")
    if staff_id == visitor_of(request).staff.id:
        return _refuse(request, "Du kan ikke deaktivere din egen konto.")
    now = workspace.now()
    try:
        async with workspace.sessions.begin() as session:
            staff = await staff_by_id(session, staff_id)
            await deactivate(session, staff, now)
            audit.record(session, actor_of(request), "staff.deactivate", f"staff:{staff_id}", now)
    except LookupError:
        raise web.HTTPNotFound() from None
    return see_other("/ansatte?utfort=deaktivert")


@guarded("admin")
async def login_link(request: web.Request) -> web.StreamResponse:
    """A single-use login link for a colleague, shown once to pass on."""
    workspace = workspace_of(request)
    staff_id = path_id(request, "staff_id")
    now = workspace.now()
    try:
        async with workspace.sessions.begin() as session:
            staff = await staff_by_id(session, staff_id)
            if not staff.active:
                return _refuse(request, "Kontoen er ikke aktiv.")
            url, expires = await staff_access.issue_login_link(
                session, staff, now, workspace.settings.workspace_base_url()
            )
            audit.record(session, actor_of(request), "staff.login_link", f"staff:{staff_id}", now)
            name = staff.name
    except LookupError:
        raise web.HTTPNotFound() from None
    return await _staff_page(request, link={"name": name, "url": url, "expires": expires})


def _refuse(request: web.Request, message: str) -> web.StreamResponse:
    return page(
        request, "refused.html", {"text": message, "back": "/ansatte"}, title="Det gikk ikke",
        status=409,
    )  # fmt: skip


@guarded("admin")
async def audit_page(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    query = request.query
    staff_id = int(query["person"]) if query.get("person", "").isdigit() else None
    action = query.get("handling") or None
    since = _date(query.get("fra"), workspace)
    until = _date(query.get("til"), workspace)
    async with workspace.sessions() as session:
        entries = await audit.entries(
            session,
            audit.AuditQuery(
                staff_id=staff_id,
                action=action,
                since=since,
                until=until + timedelta(days=1) if until else None,
                limit=500,
            ),
        )
        actions = await audit.actions(session)
        accounts = [view(s) for s in await list_staff(session)]
    return page(
        request,
        "audit.html",
        {
            "entries": entries,
            "actions": actions,
            "accounts": accounts,
            "chosen": {
                "person": staff_id,
                "handling": action or "",
                "fra": query.get("fra", "") if since else "",
                "til": query.get("til", "") if until else "",
            },
        },
        title="Logg",
    )


def _date(value: str | None, workspace: Workspace) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value.strip()[:10], "%Y-%m-%d")
    except ValueError:
        return None
    return day.replace(tzinfo=workspace.zone)


def add_staff_routes(app: web.Application) -> None:
    app.router.add_get("/ansatte", staff_page)
    app.router.add_post("/ansatte", add_account)
    app.router.add_post("/ansatte/{staff_id}/rolle", change_role)
    app.router.add_post("/ansatte/{staff_id}/deaktiver", deactivate_account)
    app.router.add_post("/ansatte/{staff_id}/lenke", login_link)
    app.router.add_get("/logg", audit_page)

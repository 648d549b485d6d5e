"""``lyttepost staff`` and ``lyttepost audit``: KS staff accounts, their secrets, the audit log.

Staff accounts are separate from members' contacts (docs/decisions/0015). Every change
made here is recorded in the audit log (door ``cli``) in the same transaction, so an
entry exists exactly when the change does. Secrets (chat codes, login links, API tokens)
are printed once; only their hashes are kept.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, time
from typing import Any

import typer

from bot.cli_context import cli_context
from bot.cli_support import JsonOption, counted, echo_lines, emit, fail, run_async

staff_app = typer.Typer(
    help="KS staff accounts: roles, chat codes, login links, API tokens.", no_args_is_help=True
)
EmailOption = typer.Option(..., "--email", help="The staff member's e-mail address.")
ROLE_CHOICES = "viewer, staff or admin"


def register_staff_commands(app: typer.Typer) -> None:
    """``staff ...``, ``audit``, and ``admins`` pointing to ``staff``."""
    app.add_typer(staff_app, name="staff")
    app.command("audit")(audit_log)
    app.command(
        "admins",
        hidden=True,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        help="Moved: the admin role belongs to staff accounts (lyttepost staff).",
    )(admins_moved)


def _role(role: str) -> str:
    from services.staff import ROLES

    if role not in ROLES:
        fail(f"unknown role {role!r}: choose {ROLE_CHOICES}", 2)
    return role


def _local(moment: datetime | None, zone: Any) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}" if moment else "-"


@staff_app.command("add")
def staff_add(
    name: str = typer.Option(..., "--name", help="Full name."),
    email: str = EmailOption,
    role: str = typer.Option(..., "--role", help=f"{ROLE_CHOICES}."),
    as_json: bool = JsonOption,
) -> None:
    """Add a staff account (or reactivate a deactivated one with that address)."""
    from services import audit
    from services.staff import StaffError, add_staff, view

    _role(role)
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                staff = await add_staff(session, name, email, role, now)
            except StaffError as error:
                fail(str(error))
            audit.record(
                session, audit.CLI, "staff.add", f"staff:{staff.id}", now,
                email=staff.email, role=staff.role,
            )  # fmt: skip
            return asdict(view(staff))

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(f"staff {result['id']} {result['email']} added as {result['role']}"),
    )


@staff_app.command("list")
def staff_list(as_json: bool = JsonOption) -> None:
    """Staff accounts with their role and how many chats are bound to them."""
    from services.admins import staff_rows

    ctx = cli_context()

    async def work() -> list[dict[str, Any]]:
        async with ctx.sessions() as sessions, sessions() as session:
            return [row.to_json() for row in await staff_rows(session)]

    rows = run_async(work)

    def human() -> None:
        if not rows:
            typer.echo(
                "no staff accounts yet: lyttepost staff add --name N --email E --role admin",
                err=True,
            )
        echo_lines(
            f"{r['id']:>4} {r['name'][:30]:<30} {r['email'][:40]:<40} {r['role']:<6} "
            f"{counted(r['chats'], 'chat')}{'' if r['active'] else '  [deactivated]'}"
            for r in rows
        )

    emit(rows, as_json, human)


@staff_app.command("role")
def staff_role(
    role: str = typer.Argument(..., help=f"The new role: {ROLE_CHOICES}."),
    email: str = EmailOption,
    as_json: bool = JsonOption,
) -> None:
    """Change a staff member's role; it takes effect at their next request."""
    from services import audit
    from services.staff import StaffError, require_staff, set_role

    _role(role)
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                staff = await require_staff(session, email)
            except StaffError as error:
                fail(str(error))
            before = staff.role
            await set_role(session, staff, role)
            if before != role:
                audit.record(
                    session, audit.CLI, "staff.role", f"staff:{staff.id}", now,
                    before=before, after=role,
                )  # fmt: skip
            return {"id": staff.id, "email": staff.email, "role": role, "before": before}

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"{result['email']} is now {result['role']}"
            + (f" (was {result['before']})" if result["before"] != result["role"] else "")
        ),
    )


@staff_app.command("deactivate")
def staff_deactivate(email: str = EmailOption, as_json: bool = JsonOption) -> None:
    """Shut an account out everywhere at once: sessions end, tokens are revoked, its chats
    are unbound. The account stays for the audit log; ``staff add`` reactivates it."""
    from services import audit
    from services.staff import StaffError, deactivate, require_staff

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                staff = await require_staff(session, email)
            except StaffError as error:
                fail(str(error))
            if not staff.active:
                return {"id": staff.id, "email": staff.email, "already": True}
            await deactivate(session, staff, now)
            audit.record(session, audit.CLI, "staff.deactivate", f"staff:{staff.id}", now)
            return {"id": staff.id, "email": staff.email, "already": False}

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"{result['email']} was already deactivated"
            if result["already"]
            else f"{result['email']} deactivated: signed out, tokens revoked, chats unbound"
        ),
    )


@staff_app.command("code")
def staff_code(email: str = EmailOption, as_json: bool = JsonOption) -> None:
    """A code that binds a chat to the account (admin commands, previews, /logginn):
    with the Telegram and Teams links, as for invitation codes. Single use, 7 days."""
    from bot.cli import _bot_username
    from services import audit
    from services.admins import issue_chat_code
    from services.invites import deep_link, teams_chat_link
    from services.staff import StaffError, require_staff

    ctx = cli_context()
    config = ctx.settings

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                staff = await require_staff(session, email)
                issued = await issue_chat_code(session, staff, now)
            except StaffError as error:
                fail(str(error))
            assert issued.expires_at is not None
            audit.record(
                session, audit.CLI, "staff.chat_code", f"staff:{staff.id}", now,
                expires_at=issued.expires_at.isoformat(),
            )  # fmt: skip
            staff_id, address = staff.id, staff.email
        username = await _bot_username(config)  # after the lookup: a wrong address says only that
        app_id = config.microsoft_app_id.strip()
        return {"staff_id": staff_id, "email": address, "code": issued.secret,
                "link": deep_link(username, issued.secret) if username else None,
                "teams_link": teams_chat_link(app_id, issued.secret) if app_id else None,
                "expires_at": issued.expires_at.isoformat()}  # fmt: skip

    result = run_async(work)

    def human() -> None:
        typer.echo(f"{result['email']}: {result['code']}")
        for link in (result["link"], result["teams_link"]):
            if link:
                typer.echo(f"  {link}")
        expires = _local(datetime.fromisoformat(result["expires_at"]), ctx.zone)
        typer.echo(f"single use, valid until {expires}; or type /start {result['code']}")

    emit(result, as_json, human)


@staff_app.command("login-link")
def staff_login_link(email: str = EmailOption, as_json: bool = JsonOption) -> None:
    """A single-use link that signs the staff member in to the workspace (15 minutes)."""
    from services import audit, staff_access
    from services.staff import StaffError, require_staff

    ctx = cli_context()
    base_url = ctx.settings.workspace_base_url()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                staff = await require_staff(session, email)
            except StaffError as error:
                fail(str(error))
            if not staff.active:
                fail(f"the staff account {staff.email} is deactivated")
            url, expires = await staff_access.issue_login_link(session, staff, now, base_url)
            audit.record(
                session, audit.CLI, "staff.login_link", f"staff:{staff.id}", now,
                expires_at=expires.isoformat(),
            )  # fmt: skip
            return {"staff_id": staff.id, "email": staff.email, "url": url,
                    "expires_at": expires.isoformat()}  # fmt: skip

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: echo_lines(
            [
                result["url"],
                f"single use, valid until "
                f"{_local(datetime.fromisoformat(result['expires_at']), ctx.zone)}",
            ]
        ),
    )


@staff_app.command("token")
def staff_token(
    email: str = EmailOption,
    label: str | None = typer.Option(None, "--label", help="What it is for, e.g. Power BI."),
    as_json: bool = JsonOption,
) -> None:
    """A personal API token for /api/v1/ (Excel, Power BI). Printed once; revocable."""
    from services import audit
    from services.admins import issue_api_token
    from services.staff import StaffError, require_staff

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                staff = await require_staff(session, email)
                token_id, secret = await issue_api_token(session, staff, now, label)
            except StaffError as error:
                fail(str(error))
            audit.record(
                session, audit.CLI, "staff.token", f"token:{token_id}", now,
                staff=staff.id, label=label,
            )  # fmt: skip
            return {"id": token_id, "staff_id": staff.id, "email": staff.email,
                    "label": label, "token": secret}  # fmt: skip

    result = run_async(work)

    def human() -> None:
        typer.echo(result["token"])
        typer.echo(
            f"token {result['id']} for {result['email']}: shown once, store it now "
            f"(revoke with lyttepost staff revoke-token {result['id']})",
            err=True,
        )

    emit(result, as_json, human)


@staff_app.command("tokens")
def staff_tokens(email: str = EmailOption, as_json: bool = JsonOption) -> None:
    """A staff member's API tokens (never the secrets: they are not kept)."""
    from services.admins import api_tokens
    from services.staff import StaffError, require_staff

    ctx = cli_context()

    async def work() -> list[dict[str, Any]]:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                staff = await require_staff(session, email)
            except StaffError as error:
                fail(str(error))
            return await api_tokens(session, staff)

    rows = run_async(work)

    def line(r: dict[str, Any]) -> str:
        def at(key: str) -> str:
            return _local(datetime.fromisoformat(r[key]) if r[key] else None, ctx.zone)

        state = (
            f"revoked {at('revoked_at')}" if r["revoked_at"] else f"last used {at('last_used_at')}"
        )
        return f"{r['id']:>4} {(r['label'] or '-')[:30]:<30} created {at('created_at')}, {state}"

    def human() -> None:
        if not rows:
            typer.echo(f"no API tokens: lyttepost staff token --email {email}", err=True)
        echo_lines(line(r) for r in rows)

    emit(rows, as_json, human)


@staff_app.command("revoke-token")
def staff_revoke_token(
    token_id: int = typer.Argument(..., help="The token's id (see lyttepost staff tokens)."),
    as_json: bool = JsonOption,
) -> None:
    """Revoke a token at once: the API refuses it from the next request."""
    from services import audit, staff_access
    from services.admins import token_owner

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            owner = await token_owner(session, token_id)
            if owner is None or not await staff_access.revoke(session, token_id, now):
                fail(f"no live token with id {token_id} (see lyttepost staff tokens --email E)")
            audit.record(
                session, audit.CLI, "staff.token_revoke", f"token:{token_id}", now, staff=owner.id
            )
            return {"id": token_id, "staff_id": owner.id, "email": owner.email}

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(f"token {result['id']} of {result['email']} revoked"),
    )


def audit_log(
    staff: str | None = typer.Option(None, "--staff", help="Only this staff member (e-mail)."),
    action: str | None = typer.Option(
        None, "--action", help="Only this action, e.g. round.close or staff.add."
    ),
    since: str | None = typer.Option(None, "--since", help="From this day on (YYYY-MM-DD)."),
    limit: int = typer.Option(200, "--limit", min=1, max=10_000, help="At most this many."),
    as_json: bool = JsonOption,
) -> None:
    """The audit log, newest first: every change from the workspace, the API, the CLI and
    chat commands (who, what, when, on what)."""
    from services import audit
    from services.staff import by_email, normalise_email

    ctx = cli_context()
    zone = ctx.zone
    since_at: datetime | None = None
    if since is not None:
        try:
            day = date.fromisoformat(since.strip())
        except ValueError:
            fail(f"cannot read --since {since!r} as a date (YYYY-MM-DD)", 2)
        since_at = datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)

    async def work() -> list[dict[str, Any]]:
        async with ctx.sessions() as sessions, sessions() as session:
            staff_id = None
            if staff is not None:
                account = await by_email(session, staff)
                if account is None:
                    fail(f"no staff account with e-mail {normalise_email(staff)}")
                staff_id = account.id
            rows = await audit.entries(
                session,
                audit.AuditQuery(
                    staff_id=staff_id, action=action or None, since=since_at, limit=limit
                ),
            )
        return [
            {"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "staff_name": r.staff_name,
             "door": r.door, "action": r.action, "target": r.target, "detail": r.detail}
            for r in rows
        ]  # fmt: skip

    rows = run_async(work)

    def line(r: dict[str, Any]) -> str:
        who = r["staff_name"] or r["actor"]
        detail = ", ".join(f"{k}={v}" for k, v in r["detail"].items())
        return (
            f"{_local(datetime.fromisoformat(r['at']), zone)}  {who[:24]:<24} {r['door']:<4} "
            f"{r['action']:<20} {r['target'] or '-'}" + (f"  ({detail})" if detail else "")
        )

    def human() -> None:
        if not rows:
            typer.echo("no entries", err=True)
        echo_lines(line(r) for r in rows)

    emit(rows, as_json, human)


def admins_moved(ctx: typer.Context) -> None:
    """The old ``admins`` commands: say where their job went."""
    fail(
        "the admin role belongs to staff accounts now: lyttepost staff add --name N "
        "--email E --role admin, then lyttepost staff code --email E to bind a chat "
        "(see lyttepost staff --help)",
        2,
    )

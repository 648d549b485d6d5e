"""``lyttepost contacts replace`` and ``lyttepost rounds approval``: the organisation as
respondent (ADR 20), through the same services as the chat and the workspace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import typer

from bot.cli_context import cli_context
from bot.cli_support import JsonOption, emit, fail, run_async


def contacts_replace(
    old: int = typer.Argument(..., help="The contact who is leaving (id)."),
    by: str = typer.Option(
        ...,
        "--by",
        help="Who takes over: an existing contact's id at the same organisation, "
        "or the new person's name (then --role and --email describe them).",
    ),
    role: str | None = typer.Option(
        None, "--role", help="The new person's role (default: the old contact's)."
    ),
    email: str | None = typer.Option(None, "--email", help="The new person's e-mail."),
    as_json: bool = JsonOption,
) -> None:
    """Hand a contact's place over (a new rådmann): the new person gets an invitation code
    (printed once) and takes over any started response of an open round; the old contact
    is deactivated, their chats unbound and told. Submitted answers keep their author."""
    from services import audit
    from services.contacts import ContactError
    from services.organisation import NewPerson, OrganisationError, replace_contact

    target: int | NewPerson
    if by.strip().isdigit():
        if role is not None or email is not None:
            fail("--role and --email describe a new person; --by is an existing contact's id")
        target = int(by.strip())
    elif not by.strip():
        fail("--by is an existing contact's id or the new person's name")
    else:
        target = NewPerson(by, role, email)
    ctx = cli_context()
    config = ctx.settings

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                done = await replace_contact(
                    session, old, target, now, timedelta(days=config.invite_ttl_days), "cli"
                )
            except LookupError as error:
                fail(f"{error} (see lyttepost contacts list)")
            except (OrganisationError, ContactError) as error:
                fail(str(error))
            audit.record(
                session, audit.CLI, "contact.replace", f"contact:{old}", now,
                by=done.new_id, org=done.org_code, responses_moved=len(done.responses_moved),
                chats_unbound=done.chats_unbound,
            )  # fmt: skip
            return {
                "old_id": done.old_id, "new_id": done.new_id, "name": done.new_name,
                "org": done.org_code, "responses_moved": done.responses_moved,
                "delegates_moved": done.delegates_moved, "chats_unbound": done.chats_unbound,
                "code": done.code,
                "expires_at": done.expires_at.isoformat() if done.expires_at else None,
            }  # fmt: skip

    result = run_async(work)

    def human() -> None:
        typer.echo(
            f"contact {result['old_id']} replaced by {result['new_id']} ({result['name']}, "
            f"{result['org']}): {len(result['responses_moved'])} started response(s) moved, "
            f"{result['chats_unbound']} chat(s) unbound"
        )
        if result["code"]:
            typer.echo(f"invitation code for {result['name']}: {result['code']}")

    emit(result, as_json, human)


def rounds_approval(
    round_id: int = typer.Argument(..., help="The round's id."),
    required: bool = typer.Option(
        ..., "--on/--off", help="Whether a delegate's answer waits for approval."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Whether a delegate's submission waits for approval by the contact they answer for."""
    from services import audit
    from services.organisation import set_require_approval

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                before = await set_require_approval(session, round_id, required, now, "cli")
            except LookupError as error:
                fail(str(error))
            audit.record(
                session, audit.CLI, "round.require_approval", f"round:{round_id}", now,
                required=required,
            )  # fmt: skip
            return {"id": round_id, "require_approval": required, "was": before}

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"round {round_id}: delegates' answers need approval: {'on' if required else 'off'}"
        ),
    )


def register_organisation_commands(contacts_app: typer.Typer, rounds_app: typer.Typer) -> None:
    """Add ``contacts replace`` and ``rounds approval``."""
    contacts_app.command("replace")(contacts_replace)
    rounds_app.command("approval")(rounds_approval)

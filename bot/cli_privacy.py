"""``lyttepost privacy`` (access, erasure, retention) and the contacts' life cycle commands.

A thin door to ``services/privacy.py``, ``services/retention.py`` and
``services/contacts.py``. Every access and erasure is logged with who did it (the OS
user, or ``--actor``), when and which contact; never the data.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

from bot.cli_context import CliContext, cli_context
from bot.cli_support import JsonOption, counted, emit, fail, run_async

privacy_app = typer.Typer(
    help="Personal data: access, erasure and retention (GDPR).", no_args_is_help=True
)

ContactOption = typer.Option(..., "--contact", help="The contact's id (lyttepost contacts list).")
ActorOption = typer.Option(
    None, "--actor", help="Who asks, for the privacy log (default: cli:<OS user>)."
)


def _actor(ctx: CliContext, given: str | None) -> str:
    return given.strip()[:100] if given and given.strip() else ctx.actor()


# --- access -----------------------------------------------------------------------------------


@privacy_app.command("export")
def privacy_export(
    contact: int = ContactOption,
    out: Path | None = typer.Option(
        None, "--out", help="Write the JSON here (readable by you only); default stdout."
    ),
    actor: str | None = ActorOption,
) -> None:
    """Everything held about a contact, as one JSON document (a request for access)."""
    from services import privacy

    ctx = cli_context()
    who = _actor(ctx, actor)

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            document = await privacy.export_contact(session, ctx.catalog, contact, now)
            if document["status"] != "unknown":
                await privacy.record(session, now, who, "export", contact)
            return document

    document = run_async(work)
    if document["status"] == "unknown":
        fail(f"no contact with id {contact}")
    if document["status"] == "erased":
        typer.echo(
            f"contact {contact} was erased on {document['erased_at'][:10]}: nothing is held",
            err=True,
        )
    text = json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    typer.echo(f"wrote {out} (personal data: keep it safe, delete it when sent)", err=True)


# --- erasure ----------------------------------------------------------------------------------

ERASURE_LINES = (
    ("chats", "chats (addresses, Teams references)"),
    ("invitation_codes", "invitation codes"),
    ("code_attempts", "failed code attempts"),
    ("messages_from_contact", "messages from them"),
    ("messages_to_contact", "messages to them"),
    ("queued_messages", "  of which still queued"),
    ("free_text_answers", "free-text answers they wrote"),
    ("responses_unlinked", "responses unlinked (the organisation's answers stay)"),
    ("round_invitations_unlinked", "round invitations unlinked"),
    ("publications_mentioning", "delivery lists naming them"),
    ("history_entries", "history entries with them as actor"),
    ("messages_to_others_redacted", "messages to others naming them (name removed)"),
)


def _erasure_lines(result: dict[str, Any]) -> None:
    for key, label in ERASURE_LINES:
        typer.echo(f"  {result[key]:>6}  {label}")


@privacy_app.command("erase")
def privacy_erase(
    contact: int = ContactOption,
    yes: bool = typer.Option(False, "--yes", help="Erase; without it, show what would go."),
    actor: str | None = ActorOption,
    as_json: bool = JsonOption,
) -> None:
    """Erase a contact on request: name, e-mail, chats and messages go; answers stay, unlinked."""
    from services import audit, privacy

    ctx = cli_context()
    who = _actor(ctx, actor)

    async def plan() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                return (await privacy.erasure_plan(session, ctx.catalog, contact)).to_json()
            except LookupError as error:
                fail(str(error))

    async def erase() -> dict[str, Any]:
        async with ctx.database() as database:
            async with database.sessions() as session, session.begin():
                try:
                    result = await privacy.erase_contact(
                        session, ctx.catalog, contact, ctx.now(), actor=who
                    )
                except LookupError as error:
                    fail(str(error))
                if result.status == "erased":
                    audit.record(
                        session, audit.CLI, "contact.erase", f"contact:{contact}", ctx.now()
                    )
            scrubbed = await database.scrub_files() if result.status == "erased" else None
            return {**result.to_json(), "files_scrubbed": scrubbed.__dict__ if scrubbed else None}

    if not yes:
        preview = run_async(plan)
        if preview["status"] == "already_erased":
            emit({**preview, "erased": False}, as_json,
                 lambda: typer.echo(f"contact {contact} is erased already"))  # fmt: skip
            return
        if as_json:
            emit({**preview, "erased": False}, True, lambda: None)
        else:
            typer.echo(f"Erasing contact {contact} ({preview['status']}) would remove:")
            _erasure_lines(preview)
        if as_json or not sys.stdin.isatty() or not typer.confirm("Erase now?", err=True):
            typer.echo(f"nothing erased; run again with --yes to erase contact {contact}", err=True)
            raise typer.Exit(1)
    result = run_async(erase)

    def human() -> None:
        if result["status"] == "already_erased":
            typer.echo(f"contact {contact} is erased already")
            return
        typer.echo(f"contact {contact} erased:")
        _erasure_lines(result)
        scrubbed = result["files_scrubbed"] or {}
        if scrubbed.get("backend") == "sqlite" and not scrubbed.get("wal_truncated"):
            typer.echo(
                "warning: the WAL file could not be emptied (a reader was busy); "
                "run 'lyttepost privacy sweep' later",
                err=True,
            )

    emit({**result, "erased": result["status"] == "erased"}, as_json, human)


# --- retention --------------------------------------------------------------------------------


@privacy_app.command("status")
def privacy_status(as_json: bool = JsonOption) -> None:
    """What is due for erasure when: rounds' free text and links, and raw messages."""
    from scheduler.service import next_sweep_at
    from services.retention import retention_status

    ctx = cli_context()
    config, zone = ctx.settings, ctx.zone

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session:
            now = ctx.now()
            return await retention_status(
                session, now, raw_days=config.raw_message_retention_days,
                next_sweep_at=next_sweep_at(now, zone),
            )  # fmt: skip

    document = run_async(work)
    emit(document, as_json, lambda: _status_lines(document, zone))


def _local(text: str | None, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(text).astimezone(zone).strftime("%Y-%m-%d") if text else "-"


def _status_lines(document: dict[str, Any], zone: ZoneInfo) -> None:
    next_at = datetime.fromisoformat(document["next_sweep_at"]).astimezone(zone)
    last = document["last_sweep"]
    typer.echo(
        f"daily sweep: next {next_at:%Y-%m-%d %H:%M}"
        + (f", last {_local(last['at'], zone)}" if last else ", never run yet")
    )
    typer.echo("rounds (free text and links to persons):")
    if not document["rounds"]:
        typer.echo("  none")
    for r in document["rounds"]:
        when = {
            "erased": f"erased {_local(r['erased_at'], zone)}",
            "running": f"{counted(r['retention_months'], 'month')} after it closes",
            "due": f"due now (since {_local(r['erase_due_at'], zone)}); the next sweep erases it",
            "scheduled": f"erased {_local(r['erase_due_at'], zone)}",
        }[r["state"]]
        typer.echo(f"  {r['id']:>4} {r['status']:<9} {r['title'][:40]:<40} {when}")
    kept = counted(document["raw_message_retention_days"], "day")
    typer.echo(f"raw messages (kept {kept} once handled):")
    for name, label in (
        ("inbound_events", "messages from members"),
        ("outbox_texts", "texts of sent messages"),
        ("code_attempts", "failed code attempts"),
    ):
        raw = document["raw"][name]
        nxt = f", next due {_local(raw['next_due_at'], zone)}" if raw["next_due_at"] else ""
        typer.echo(f"  {label:<24} {raw['held']:>7} held, {raw['due_now']:>6} due now{nxt}")
    c = document["contacts"]
    typer.echo(
        f"contacts: {c['active']} active, {c['deactivated']} deactivated, {c['erased']} erased"
    )


@privacy_app.command("sweep")
def privacy_sweep(as_json: bool = JsonOption) -> None:
    """Run the daily retention sweep now (the scheduler runs it at 04:30)."""
    from services.retention import RetentionSweeper

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.database() as database:
            sweeper = RetentionSweeper(
                database.sessions, database.engine, ctx.catalog, ctx.now,
                raw_days=ctx.settings.raw_message_retention_days,
            )  # fmt: skip
            return (await sweeper.run()).to_json()

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"rounds erased: {result['rounds_erased'] or 'none'}; free-text answers "
            f"{result['free_text_answers']}, responses unlinked {result['responses_unlinked']}; "
            f"inbound messages deleted {result['inbound_events_deleted']}, sent texts removed "
            f"{result['outbox_texts_removed']}, code attempts deleted {result['code_attempts_deleted']}"
        ),
    )


# --- contacts' life cycle ---------------------------------------------------------------------


def contacts_list(
    org: str | None = typer.Option(None, "--org", help="Only this organisation (NNNN or NN)."),
    as_json: bool = JsonOption,
) -> None:
    """Contacts with their organisation, chats and whether they are active."""
    from dialogs.dates import iso
    from services.views_members import UnknownOrganisation, contact_rows

    ctx = cli_context()

    async def work() -> list[dict[str, Any]]:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                contacts = await contact_rows(session, ctx.now(), org_code=org)
            except UnknownOrganisation as error:
                fail(str(error))
            return [
                {"id": c.id, "org": c.org_code, "org_name": c.org_name, "name": c.name,
                 "role": c.role, "email": c.email, "active": c.active,
                 "preferred_channel": c.preferred_channel,
                 "chats": [{"channel": chat.channel, "reachable": chat.reachable,
                            "last_seen_at": iso(chat.last_seen_at)} for chat in c.chats],
                 "deactivated_at": iso(c.deactivated_at)}
                for c in contacts
            ]  # fmt: skip

    rows = run_async(work)

    def human() -> None:
        if not rows:
            typer.echo("no contacts", err=True)
        for r in rows:
            chats = ", ".join(
                c["channel"] + ("" if c["reachable"] else " (unreachable)") for c in r["chats"]
            )
            state = "" if r["active"] else "  [deactivated]"
            typer.echo(
                f"{r['id']:>5} {r['org']:>4} {r['name'][:30]:<30} {r['role'][:18]:<18}"
                f" {chats or 'not registered'}{state}"
            )

    emit(rows, as_json, human)


def contacts_deactivate(
    contact_id: int = typer.Argument(..., help="The contact's id."),
    actor: str | None = ActorOption,
    as_json: bool = JsonOption,
) -> None:
    """No more invitations, reminders or broadcasts to a contact; chats unbound, history kept."""
    from services import audit, privacy
    from services.contacts import deactivate_contact

    ctx = cli_context()
    who = _actor(ctx, actor)

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                result = await deactivate_contact(session, contact_id, now)
            except LookupError as error:
                fail(str(error))
            if not result.already:
                await privacy.record(session, now, who, "deactivate", contact_id,
                                     chats_unbound=result.chats_unbound,
                                     codes_revoked=result.codes_revoked,
                                     messages_withdrawn=result.messages_withdrawn)  # fmt: skip
                audit.record(session, audit.CLI, "contact.deactivate", f"contact:{contact_id}", now)
            return result.__dict__

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"contact {contact_id} was deactivated already"
            if result["already"]
            else f"contact {contact_id} deactivated: {counted(result['chats_unbound'], 'chat')} "
            f"unbound, {counted(result['codes_revoked'], 'code')} revoked, "
            f"{counted(result['messages_withdrawn'], 'queued message')} withdrawn"
        ),
    )


def contacts_activate(
    contact_id: int = typer.Argument(..., help="The contact's id."),
    as_json: bool = JsonOption,
) -> None:
    """Undo a deactivation (the contact needs a new code: lyttepost invites create)."""
    from services import audit
    from services.contacts import activate_contact

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                changed = await activate_contact(session, contact_id)
            except LookupError as error:
                fail(str(error))
            if changed:
                audit.record(
                    session, audit.CLI, "contact.activate", f"contact:{contact_id}", ctx.now()
                )
            return {"id": contact_id, "activated": changed}

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"contact {contact_id} activated; give them a code: lyttepost invites create "
            f"--contact {contact_id}"
            if result["activated"]
            else f"contact {contact_id} is active already"
        ),
    )


def register_contact_commands(contacts_app: typer.Typer) -> None:
    """Add ``list``, ``deactivate`` and ``activate`` to ``lyttepost contacts``."""
    for name, command in (
        ("list", contacts_list), ("deactivate", contacts_deactivate),
        ("activate", contacts_activate),
    ):  # fmt: skip
        contacts_app.command(name)(command)

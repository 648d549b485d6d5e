"""The ``lyttepost`` command line (Typer).

Commands that return data take ``--json`` and then print exactly one JSON document on
stdout; logs and human messages go to stderr. Errors exit non-zero with a message.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from bot.cli_action_plans import action_plans_app
from bot.cli_actions import actions_app
from bot.cli_context import cli_context
from bot.cli_cycle import plan_app, register_round_commands, scheduler_app
from bot.cli_doctor import doctor
from bot.cli_organisation import register_members_commands, register_organisation_commands
from bot.cli_privacy import privacy_app, register_contact_commands
from bot.cli_publish import broadcast_app, notice_app, publications_app, report_app
from bot.cli_staff import register_staff_commands
from bot.cli_support import (
    JsonOption,
    configure_logging,
    counted,
    echo_lines,
    emit,
    fail,
    parse_moment,
    run_async,
    settings,
)
from bot.cli_surveys import surveys_app
from bot.cli_texts import apply_texts_dir, texts_app
from bot.settings import Settings
from bot.teams_app import teams_app

app = typer.Typer(
    help="Lyttepost – KS sin lyttepost i chat.", no_args_is_help=True, add_completion=False
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
members_app = typer.Typer(help="The member registry.", no_args_is_help=True)
contacts_app = typer.Typer(help="Contacts at member organisations.", no_args_is_help=True)
invites_app = typer.Typer(help="Invitation codes.", no_args_is_help=True)
rounds_app = typer.Typer(help="Collection rounds.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (members_app, "members"),
    (contacts_app, "contacts"),
    (invites_app, "invites"),
    (surveys_app, "surveys"),
    (rounds_app, "rounds"),
    (plan_app, "plan"),
    (scheduler_app, "scheduler"),
    (publications_app, "publications"),
    (broadcast_app, "broadcast"),
    (notice_app, "notice"),
    (report_app, "report"),
    (teams_app, "teams"),
    (privacy_app, "privacy"),
    (actions_app, "actions"),
    (action_plans_app, "action-plans"),
    (texts_app, "texts"),
):
    app.add_typer(sub, name=name)
register_round_commands(rounds_app)
register_contact_commands(contacts_app)
register_organisation_commands(contacts_app, rounds_app)
register_members_commands(members_app)
register_staff_commands(app)
app.command("doctor")(doctor)


@app.callback()
def _every_command() -> None:
    # Every command logs through the same redacting setup (bot/logs.py), quietly unless
    # LOG_LEVEL asks for more; ``run``, ``chat`` and the others choose their level again.
    configure_logging(None)
    apply_texts_dir()  # TEXTS_DIR's imported texts over the packaged catalogues


# --- db ---------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(as_json: bool = JsonOption) -> None:
    """Create or upgrade the schema, seed the 371 members, register shipped surveys."""
    from services.setup import setup_database

    config = settings()
    configure_logging(config.log_level, config)
    summary = run_async(lambda: setup_database(config.database_url))
    emit(
        summary,
        as_json,
        lambda: typer.echo(
            f"database ready: {counted(summary['organisations'], 'member organisation')} "
            f"({summary['organisations_inserted']} new), surveys: "
            + ", ".join(
                f"{s['key']} v{s['version']}{' (new)' if s['created'] else ''}"
                for s in summary["surveys"]
            )
        ),
    )


# --- members ----------------------------------------------------------------------------


@members_app.command("list")
def members_list(
    county: str | None = typer.Option(None, "--county", help="Only this county number (NN)."),
    as_json: bool = JsonOption,
) -> None:
    """List member organisations."""
    from services.views_members import organisations

    ctx = cli_context()

    async def work() -> list[dict[str, Any]]:
        async with ctx.sessions() as sessions, sessions() as session:
            return [
                {"org": o.code, "name": o.name, "kind": o.kind, "county": o.county_code,
                 "county_name": o.county_name}
                for o in await organisations(session, county)
            ]  # fmt: skip

    rows = run_async(work)
    emit(
        rows,
        as_json,
        lambda: echo_lines(
            f"{r['org']:>4}  {r['name']:<30} {r['kind']:<25} {r['county_name']}" for r in rows
        ),
    )


# --- contacts ---------------------------------------------------------------------------


@contacts_app.command("add")
def contacts_add(
    org: str = typer.Option(..., "--org", help="Kommunenummer (NNNN) or fylkesnummer (NN)."),
    name: str = typer.Option(..., "--name"),
    role: str = typer.Option(..., "--role", help="For example radmann or kommunedirektor."),
    email: str | None = typer.Option(None, "--email"),
    as_json: bool = JsonOption,
) -> None:
    """Add one contact."""
    from services import audit
    from services.contacts import ContactError, add_contact

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                contact = await add_contact(session, org, name, role, email)
            except ContactError as error:
                fail(str(error))
            audit.record(
                session, audit.CLI, "contact.add", f"contact:{contact.id}", ctx.now(), org=org
            )
            return {"id": contact.id}

    result = run_async(work)
    emit(result, as_json, lambda: typer.echo(f"contact {result['id']} added"))


@contacts_app.command("channel")
def contacts_channel(
    contact: int = typer.Option(..., "--contact", help="The contact's id."),
    channel: str = typer.Option(
        ..., "--channel", help="telegram, teams, or auto (the one they used last)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Which channel to reach a contact on when they use both Telegram and Teams."""
    from services import audit
    from services.contacts import set_preferred_channel

    if channel not in ("telegram", "teams", "auto"):
        fail("--channel is telegram, teams or auto")
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                changed = await set_preferred_channel(
                    session, contact, None if channel == "auto" else channel
                )
            except LookupError as error:
                fail(str(error))
            audit.record(
                session,
                audit.CLI,
                "contact.channel",
                f"contact:{contact}",
                ctx.now(),
                channel=channel,
            )
            return changed

    result = run_async(work)
    note = "" if channel == "auto" or channel in result["channels"] else f" (no {channel} chat yet)"
    emit(
        result,
        as_json,
        lambda: typer.echo(f"contact {contact}: reached on {channel}{note}"),
    )


@contacts_app.command("import")
def contacts_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False), as_json: bool = JsonOption
) -> None:
    """Import contacts from CSV (columns: org, name, role, email); all lines or none."""
    from services import audit
    from services.contacts import import_contacts

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{file}: not UTF-8 text")
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            result = await import_contacts(session, text)
            if result.added:
                audit.record(
                    session, audit.CLI, "contact.import", None, ctx.now(),
                    added=len(result.added), skipped=result.skipped, file=file.name,
                )  # fmt: skip
            return {"added": result.added, "skipped": result.skipped, "errors": result.errors}

    result = run_async(work)
    if result["errors"]:
        emit(
            result,
            as_json,
            lambda: echo_lines((f"error: {file}: {e}" for e in result["errors"]), err=True),
        )
        raise typer.Exit(1)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"{counted(len(result['added']), 'contact')} added, {result['skipped']} already there"
        ),
    )


# --- invites ----------------------------------------------------------------------------


@invites_app.command("create")
def invites_create(
    contact: int | None = typer.Option(None, "--contact", help="One contact's id."),
    all_pending: bool = typer.Option(
        False, "--all-pending", help="Every contact without a chat or a live code."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Issue invitation codes with Telegram and Teams links (for a mail merge)."""
    from services import audit
    from services.invites import deep_link, invite_contacts, teams_chat_link

    if (contact is None) == (not all_pending):
        fail("give either --contact ID or --all-pending")
    ctx = cli_context()
    config = ctx.settings

    async def work() -> list[dict[str, Any]]:
        username = await _bot_username(config)
        app_id = config.microsoft_app_id.strip()
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                invited = await invite_contacts(
                    session, ctx.now(), timedelta(days=config.invite_ttl_days), contact
                )
            except LookupError as error:
                fail(f"{error} (see lyttepost contacts list)")
            if invited:
                audit.record(
                    session, audit.CLI, "invite.create",
                    f"contact:{contact}" if contact is not None else None, ctx.now(),
                    codes=len(invited),
                )  # fmt: skip
            return [
                {"contact_id": i.contact_id, "name": i.name, "email": i.email, "org": i.org,
                 "org_name": i.org_name, "code": i.code,
                 "link": deep_link(username, i.code) if username else None,
                 "teams_link": teams_chat_link(app_id, i.code) if app_id else None,
                 "expires_at": i.expires_at.isoformat()}
                for i in invited
            ]  # fmt: skip

    rows = run_async(work)
    if not rows and not as_json:
        typer.echo("no contacts need a code", err=True)
    emit(
        rows,
        as_json,
        lambda: echo_lines(
            f"{r['contact_id']:>5} {r['org']:>4} {r['name']:<30} {r['code']}  {r['link'] or r['teams_link'] or ''}"
            for r in rows
        ),
    )


async def _bot_username(config: Settings) -> str | None:
    """The bot's username for deep links: configured, or asked from the Bot API."""
    if config.telegram_bot_username:
        return config.telegram_bot_username.lstrip("@")
    if not config.telegram_bot_token:
        if not config.microsoft_app_id:
            typer.echo(
                "warning: no TELEGRAM_BOT_USERNAME, TELEGRAM_BOT_TOKEN or MICROSOFT_APP_ID; "
                "links left out",
                err=True,
            )
        return None
    from bot.app import telegram_bot

    try:
        async with telegram_bot(config) as bot:
            return bot.username
    except Exception as error:  # network down, bad token: codes are still useful without links
        typer.echo(f"warning: could not ask Telegram for the bot's username ({error})", err=True)
        return None


# --- rounds -----------------------------------------------------------------------------


@rounds_app.command("create")
def rounds_create(
    survey: str = typer.Option(..., "--survey", help="Survey key, e.g. kvartalsvis-behov."),
    closes: str = typer.Option(
        ..., "--closes", help="Deadline: YYYY-MM-DD (23:59) or YYYY-MM-DDTHH:MM, Oslo time."
    ),
    opens: str = typer.Option("now", "--opens", help="now, or a date/date-time (Oslo time)."),
    orgs: str | None = typer.Option(None, "--orgs", help="Comma-separated organisation codes."),
    county: str | None = typer.Option(None, "--county", help="A county number (NN)."),
    title: str | None = typer.Option(
        None, "--title", help="Shown to members; default: the survey's title."
    ),
    retention_months: int = typer.Option(
        24,
        "--retention-months",
        help="Months after closing until free text and links to persons are erased (1-120).",
    ),
    edits: bool = typer.Option(
        True,
        "--edits/--no-edits",
        help="Whether a submitted response can be changed while the round is open.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create a round; opening now sends invitations to registered contacts at once."""
    from services import audit
    from services.rounds import Audience, RoundError
    from services.rounds_by_hand import UnknownSurvey, create_round_by_hand, require_deadline_ahead

    if orgs and county:
        fail("give --orgs or --county, not both")
    ctx = cli_context()
    zone = ctx.zone
    now = ctx.now()
    opens_at = (
        None if opens.strip().lower() == "now" else parse_moment(opens, zone, end_of_day=False)
    )
    closes_at = parse_moment(closes, zone, end_of_day=True)
    try:
        require_deadline_ahead(closes_at, now)  # before the database, as any bad input
    except RoundError as error:
        fail(str(error))
    audience = Audience(
        county=county,
        org_codes=tuple(c.strip() for c in orgs.split(",") if c.strip()) if orgs else (),
    )

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                made = await create_round_by_hand(
                    session, survey_key=survey, closes_at=closes_at, now=now, zone=zone,
                    actor="cli", opens_at=opens_at, title=title, audience=audience,
                    retention_months=retention_months, allow_edit_after_submit=edits,
                )  # fmt: skip
            except UnknownSurvey:
                fail(
                    f"no survey {survey!r}; see 'lyttepost surveys list' (run 'lyttepost db upgrade' first)"
                )
            except RoundError as error:
                fail(str(error))
            audit.record(
                session, audit.CLI, "round.create", f"round:{made.round.id}", now,
                survey=made.survey_key, invitations=made.invitations_queued,
            )  # fmt: skip
            return {"id": made.round.id, "status": made.round.status, "survey": made.survey_key,
                    "survey_version": made.survey_version,
                    "invitations_queued": made.invitations_queued}  # fmt: skip

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"round {result['id']} {result['status']}; "
            f"{counted(result['invitations_queued'], 'invitation')} queued"
        ),
    )


@rounds_app.command("edits")
def rounds_edits(
    round_id: int = typer.Argument(..., help="The round's id (see 'rounds list')."),
    allowed: bool = typer.Option(
        ..., "--on/--off", help="Whether submitted responses can be changed while it is open."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Allow or stop changes to submitted responses while a round is open."""
    from services import audit
    from services.rounds import RoundError, set_edit_after_submit

    ctx = cli_context()
    now = ctx.now()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                round_ = await set_edit_after_submit(session, round_id, allowed)
            except RoundError as error:
                fail(str(error))
            audit.record(
                session, audit.CLI, "round.edits", f"round:{round_id}", now, allowed=allowed
            )
            return {"id": round_.id, "allow_edit_after_submit": round_.allow_edit_after_submit}

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"round {result['id']}: submitted responses "
            + ("can" if result["allow_edit_after_submit"] else "cannot")
            + " be changed while it is open"
        ),
    )


@rounds_app.command("list")
def rounds_list(as_json: bool = JsonOption) -> None:
    """All rounds with their audience size and responses (times in Oslo time; --json: ISO)."""
    from services.views_rounds import round_rows

    ctx = cli_context()
    zone = ctx.zone

    async def work() -> list[dict[str, Any]]:
        async with ctx.sessions() as sessions, sessions() as session:
            return [r.to_json() for r in await round_rows(session)]

    rows = run_async(work)

    def local(moment: str) -> str:
        return f"{datetime.fromisoformat(moment).astimezone(zone):%Y-%m-%d %H:%M}"

    emit(
        rows,
        as_json,
        lambda: echo_lines(
            f"{r['id']:>3} {r['status']:<9} {r['title']} – opens {local(r['opens_at'])}, "
            f"closes {local(r['closes_at'])}; {r['submitted']}/{r['organisations']} "
            f"submitted, {r['in_progress']} in progress"
            for r in rows
        ),
    )


# --- export -----------------------------------------------------------------------------


@app.command("export")
def export(
    round_id: int = typer.Option(..., "--round"),
    fmt: str = typer.Option("json", "--format", help="json, csv or xlsx."),
    out: Path | None = typer.Option(
        None, "--out", help="File to write; default stdout (xlsx needs --out)."
    ),
    excel: bool = typer.Option(
        False,
        "--excel",
        help="CSV for Excel (Norwegian settings): ';' as separator and a UTF-8 byte order "
        "mark, so columns and æøå come out right. Without it, CSV is plain: ',' and UTF-8, "
        "for other programs.",
    ),
) -> None:
    """Export a round's responses, one row per response.

    To open in Excel, choose --format xlsx, or --format csv --excel. Text that would start a formula (=, +, -, @) gets a ' in front in CSV and is stored as text in XLSX.
    """
    from services.export import render, round_export

    if fmt not in ("json", "csv", "xlsx"):
        fail("--format must be json, csv or xlsx")
    if fmt == "xlsx" and out is None:
        fail("xlsx is binary: give --out FILE.xlsx")
    if excel and fmt != "csv":
        fail("--excel is for --format csv (xlsx opens in Excel as it is)")
    ctx = cli_context()

    async def work() -> bytes:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                survey, documents = await round_export(session, ctx.catalog, round_id)
            except LookupError as error:
                fail(str(error))
            return render(survey, documents, fmt, excel=excel)  # type: ignore[arg-type]  # checked above

    data = run_async(work)
    if out is None:
        sys.stdout.buffer.write(data)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        typer.echo(f"wrote {out}", err=True)


# --- running ----------------------------------------------------------------------------


@app.command("run")
def run() -> None:
    """Run the bot: web app (health check, webhook), Telegram polling or webhook, sender."""
    from bot.serve import serve

    config = settings()
    configure_logging(config.log_level, config)
    if not config.telegram_bot_token and not config.teams_enabled:
        typer.echo(
            "no chat channel configured (TELEGRAM_BOT_TOKEN, TEAMS_ENABLED): running the "
            f"workspace at {config.workspace_base_url()} and the annual cycle only",
            err=True,
        )
    if config.telegram_webhook_url and not config.telegram_webhook_secret:
        fail(
            "TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET, so forged updates can be refused",
            2,
        )
    from bot.teams_auth import teams_start_problem

    problem = teams_start_problem(config)
    if problem:
        fail(problem, 2)
    from bot.serve import CannotListen
    from services.setup import SchemaNotReady

    try:
        asyncio.run(serve(config))
    except KeyboardInterrupt:
        pass
    except (SchemaNotReady, CannotListen) as error:
        fail(str(error))


@app.command("chat")
def chat(contact: int = typer.Option(..., "--contact", help="Talk as this contact.")) -> None:
    """Chat in the terminal as a contact (the console channel)."""
    from bot.console_session import run_console

    config = settings()
    configure_logging("WARNING" if config.log_level == "INFO" else config.log_level, config)
    try:
        run_async(lambda: run_console(config, contact))
    except LookupError as error:  # no such contact
        fail(str(error))


@app.command("demo")
def demo(
    database: Path = typer.Option(
        Path("lyttepost-demo.db"), "--database", help="SQLite file for the demo (recreated)."
    ),
    auto: bool = typer.Option(
        False, "--auto", help="Answer automatically instead of reading the keyboard."
    ),
    exports: Path = typer.Option(
        Path("exports"), "--exports", help="Where to write the CSV/XLSX export."
    ),
    workspace: bool = typer.Option(
        True,
        "--workspace/--no-workspace",
        help="Afterwards, serve KS's workspace with a login link until Ctrl-C.",
    ),
) -> None:
    """A local demo with no accounts: answer the shipped survey in the terminal, see the
    export, then KS's side in the browser (the workspace, with a login link)."""
    from bot.console_session import run_demo

    config = settings(own_database=True).model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{database}"}
    )
    configure_logging("WARNING", config)
    run_async(lambda: run_demo(config, database, auto=auto, exports=exports, workspace=workspace))


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()

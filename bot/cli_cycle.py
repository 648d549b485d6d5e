"""``lyttepost plan``, ``rounds`` lifecycle commands and ``scheduler``: the annual cycle.

The CLI only changes the database; the process running the scheduler picks the
changes up within SCHEDULER_SYNC_SECONDS (or at once when it starts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

from bot.cli_context import CliContext, cli_context
from bot.cli_support import JsonOption, counted, echo_lines, emit, fail, parse_moment, run_async

plan_app = typer.Typer(help="The annual plan (årshjul): the year's rounds.", no_args_is_help=True)
scheduler_app = typer.Typer(help="The process that runs the annual cycle.", no_args_is_help=True)

RoundArgument = typer.Argument(..., help="The round's id (see lyttepost rounds list).")


# --- plan --------------------------------------------------------------------------------


def _read_plan(file: Path, zone: ZoneInfo) -> tuple[Any, list[Any]]:
    """The plan (or the rounds that could be read) and the file's problems; prints warnings."""
    from scheduler.plan import Plan, PlanError, load_plan_file

    plan: Plan | None
    try:
        plan = load_plan_file(file, zone)
        problems = []
    except PlanError as error:
        plan, problems = error.plan, list(error.problems)
    for warning in plan.warnings if plan is not None else ():
        typer.echo(f"warning: {warning}", err=True)
    return plan, problems


def _report_problems(problems: list[Any]) -> None:
    """Every problem, in file order, then exit 1."""
    for problem in sorted(problems, key=lambda p: p.line or 0):
        typer.echo(str(problem), err=True)
    raise typer.Exit(1)


def _load_plan(file: Path, zone: ZoneInfo) -> Any:
    plan, problems = _read_plan(file, zone)
    if problems:
        _report_problems(problems)
    return plan


@plan_app.command("apply")
def plan_apply(
    file: Path = typer.Argument(..., help="The plan (YAML), e.g. docs/examples/arshjul-2027.yaml."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check against the database, change nothing."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Validate a plan and schedule every round in it (again: updates rounds by their key).

    Every problem is reported at once: those in the file, and those found against the
    database for every round that could be read (the latter in a transaction that is
    rolled back, so nothing changes unless the whole plan is right).
    """
    from scheduler.plan_apply import apply_all_or_nothing
    from services import audit

    ctx = cli_context()
    zone = ctx.zone
    plan, file_problems = _read_plan(file, zone)

    async def work() -> tuple[dict[str, Any], list[Any]]:
        if plan is None or not plan.rounds:
            return {}, list(file_problems)
        async with ctx.sessions() as sessions:
            result, problems = await apply_all_or_nothing(
                sessions, plan, ctx.now(), zone, actor=ctx.actor(), dry_run=dry_run,
                file_problems=file_problems, audit_as=audit.CLI,
            )  # fmt: skip
        if result is None:
            return {}, problems
        return {**result.to_json(), "dry_run": dry_run}, []

    document, problems = run_async(work)
    if problems:
        _report_problems(problems)

    def human() -> None:
        for r in document["rounds"]:
            changes = f" ({', '.join(r['changes'])})" if r["changes"] else ""
            typer.echo(f"{r['key']:<12} round {r['id']:>3} {r['status']:<9} {r['action']}{changes}")
            for note in r["moved"]:
                typer.echo(f"{'':<12} {note}")
        for orphan in document["not_in_file"]:
            typer.echo(
                f"note: round {orphan['id']} ({orphan['key']}, {orphan['status']}) is not in the "
                "file; it is left as it is (lyttepost rounds cancel ID to cancel it)",
                err=True,
            )
        typer.echo("dry run: nothing was changed" if dry_run else "plan applied", err=True)

    emit(document, as_json, human)


@plan_app.command("show")
def plan_show(
    file: Path | None = typer.Argument(None, help="Show this plan file instead of the database."),
    year: int | None = typer.Option(None, "--year", help="The year to show (default: this year)."),
    as_json: bool = JsonOption,
) -> None:
    """Print the year as a calendar: month grids with openings, reminders and deadlines."""
    from scheduler.calendar_rounds import calendar_from_database, calendar_from_plan, default_year
    from scheduler.calendar_view import render_year

    ctx = cli_context()
    zone = ctx.zone
    today = ctx.now().astimezone(zone).date()
    if file is not None:
        rounds = calendar_from_plan(_load_plan(file, zone), zone)
    else:

        async def work() -> list[Any]:
            async with ctx.sessions() as sessions, sessions() as session:
                return await calendar_from_database(session, zone)

        rounds = run_async(work)
    shown = year or default_year(rounds, today, zone)
    document = [_calendar_json(r) for r in rounds]
    emit(document, as_json, lambda: typer.echo(render_year(shown, rounds, zone, today=today)))


def _calendar_json(round_: Any) -> dict[str, Any]:
    return {
        "id": round_.round_id, "key": round_.key, "title": round_.title,
        "status": round_.status, "paused": round_.paused,
        "opens_at": round_.opens_at.isoformat(), "closes_at": round_.closes_at.isoformat(),
        "reminders": [moment.isoformat() for moment in round_.reminders],
        "audience": round_.audience,
    }  # fmt: skip


# --- rounds: status and admins' changes -----------------------------------------------------


def rounds_status(
    round_id: int = RoundArgument,
    as_json: bool = JsonOption,
) -> None:
    """Response rate: invited / started / submitted, per county, and who has not answered."""
    from services.response_rate import progress_lines, round_progress

    ctx = cli_context()

    async def work() -> Any:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                return await round_progress(session, round_id)
            except LookupError as error:
                fail(str(error))

    progress = run_async(work)
    emit(progress.to_json(), as_json, lambda: typer.echo("\n".join(progress_lines(progress))))


def rounds_history(round_id: int = RoundArgument, as_json: bool = JsonOption) -> None:
    """What happened to a round, when, and who or what did it."""
    from services.views_rounds import round_history

    ctx = cli_context()
    zone = ctx.zone

    async def work() -> list[dict[str, Any]]:
        async with ctx.sessions() as sessions, sessions() as session:
            return [
                {"at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                 "detail": dict(e.detail)}
                for e in await round_history(session, round_id)
            ]  # fmt: skip

    events = run_async(work)
    if not events and not as_json:
        fail(f"no history for round {round_id}")
    emit(
        events,
        as_json,
        lambda: echo_lines(
            f"{datetime.fromisoformat(e['at']).astimezone(zone):%Y-%m-%d %H:%M}  "
            f"{e['action']:<16} {e['actor']:<18} "
            + ", ".join(f"{k}={v}" for k, v in e["detail"].items())
            for e in events
        ),
    )


def _change(
    ctx: CliContext,
    round_id: int,
    as_json: bool,
    action: Callable[[Any, Any, datetime, ZoneInfo], Awaitable[Any]],
    describe: Callable[[Any, Any, ZoneInfo], str],
    audit_as: str,
) -> None:
    """Run one lifecycle change on a round in one transaction, with clear errors, and
    record it in the audit log as ``audit_as`` in that transaction.

    ``action`` gets the session, the round, the time and the zone, and calls ``services``."""
    from services import audit, lifecycle

    zone = ctx.zone

    async def work() -> tuple[Any, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                round_ = await lifecycle.load_round(session, round_id)
                result = await action(session, round_, now, zone)
            except (LookupError, lifecycle.LifecycleError) as error:
                fail(str(error))
            counts = ("withdrawn", "notified", "released", "incomplete")
            audit.record(
                session, audit.CLI, audit_as, f"round:{round_id}", now,
                **{k: getattr(result, k) for k in counts if getattr(result, k, 0)},
            )  # fmt: skip
            return round_, result

    round_, result = run_async(work)
    document = {
        "id": round_.id, "status": round_.status, "paused": round_.paused_at is not None,
        "opens_at": round_.opens_at.isoformat(), "closes_at": round_.closes_at.isoformat(),
        "withdrawn": getattr(result, "withdrawn", 0), "notified": getattr(result, "notified", 0),
        "released": getattr(result, "released", 0), "incomplete": getattr(result, "incomplete", 0),
    }  # fmt: skip
    emit(document, as_json, lambda: typer.echo(describe(round_, result, zone)))


def rounds_reschedule(
    round_id: int = RoundArgument,
    opens: str | None = typer.Option(
        None, "--opens", help="New opening (planned rounds), Oslo time."
    ),
    closes: str | None = typer.Option(
        None, "--closes", help="New deadline: YYYY-MM-DD (23:59) or YYYY-MM-DDTHH:MM."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Move a planned round's opening and/or any active round's deadline."""
    from dialogs.dates import format_datetime
    from services import lifecycle

    if opens is None and closes is None:
        fail("give --opens and/or --closes")
    ctx = cli_context()
    zone = ctx.zone
    opens_at = parse_moment(opens, zone, end_of_day=False) if opens else None
    closes_at = parse_moment(closes, zone, end_of_day=True) if closes else None
    _change(
        ctx, round_id, as_json,
        lambda s, r, now, z: lifecycle.change_dates(
            s, r, now, z, actor=ctx.actor(), opens_at=opens_at, closes_at=closes_at
        ),
        lambda r, res, z: (
            f"round {r.id}: opens {format_datetime(r.opens_at, z)}, closes "
            f"{format_datetime(r.closes_at, z)}; {counted(res.notified, 'member')} told of the "
            "new deadline"
        ),
        "round.reschedule" if opens_at else "round.deadline",
    )  # fmt: skip


def rounds_extend(
    round_id: int = RoundArgument,
    closes: str = typer.Option(
        ..., "--closes", help="New deadline: YYYY-MM-DD (23:59) or YYYY-MM-DDTHH:MM."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Extend (or move) a round's deadline; members who have not answered are told."""
    rounds_reschedule(round_id, None, closes, as_json)


def rounds_pause(round_id: int = RoundArgument, as_json: bool = JsonOption) -> None:
    """Hold a round's invitations and reminders (members can still answer; the deadline holds)."""
    from services import lifecycle

    ctx = cli_context()
    _change(
        ctx, round_id, as_json,
        lambda s, r, now, z: lifecycle.pause_round(s, r, now, actor=ctx.actor()),
        lambda r, res, z: (
            f"round {r.id} paused; {counted(res.withdrawn, 'undelivered message')} held"
        ),
        "round.pause",
    )  # fmt: skip


def rounds_resume(round_id: int = RoundArgument, as_json: bool = JsonOption) -> None:
    """Resume a paused round: held messages go out and the cycle catches up."""
    from services import lifecycle

    ctx = cli_context()
    _change(
        ctx, round_id, as_json,
        lambda s, r, now, z: lifecycle.resume_round(s, r, now, actor=ctx.actor()),
        lambda r, res, z: (
            f"round {r.id} resumed; {counted(res.released, 'held message')} released"
        ),
        "round.resume",
    )  # fmt: skip


def rounds_cancel(
    round_id: int = RoundArgument,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = JsonOption,
) -> None:
    """Cancel a round: undelivered messages are withdrawn; those invited are told."""
    from services import lifecycle

    if not yes and not typer.confirm(f"Cancel round {round_id}? This cannot be undone", err=True):
        raise typer.Exit(1)
    ctx = cli_context()
    _change(
        ctx, round_id, as_json,
        lambda s, r, now, z: lifecycle.cancel_round(s, r, now, actor=ctx.actor()),
        lambda r, res, z: (
            f"round {r.id} cancelled; {counted(res.withdrawn, 'undelivered message')} "
            f"withdrawn, {counted(res.notified, 'member')} told"
        ),
        "round.cancel",
    )  # fmt: skip


def rounds_close(
    round_id: int = RoundArgument,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = JsonOption,
) -> None:
    """Close an open round now, as its deadline would: half-done answers are kept as
    incomplete and their authors told; undelivered invitations and reminders are withdrawn."""
    from services import lifecycle

    ctx = cli_context()
    zone = ctx.zone

    async def preview() -> Any:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                return await lifecycle.close_preview(session, round_id)
            except (LookupError, lifecycle.LifecycleError) as error:
                fail(str(error))

    ahead = run_async(preview)
    question = (
        f"Close round {ahead.round_id} «{ahead.title}» now, before its deadline "
        f"{ahead.closes_at.astimezone(zone):%Y-%m-%d %H:%M}? "
        f"{counted(ahead.submitted, 'organisation')} submitted; "
        + (
            f"{counted(ahead.unfinished, 'half-done answer')} will be kept as incomplete "
            f"and {'its author' if ahead.unfinished == 1 else 'their authors'} told. "
            if ahead.unfinished
            else "nobody else has started. "
        )
        + "Nobody can answer after this, and it cannot be undone"
    )
    if not yes and not typer.confirm(question, err=True):
        raise typer.Exit(1)

    def describe(r: Any, res: Any, z: ZoneInfo) -> str:
        text = (
            f"round {r.id} closed; {counted(res.incomplete, 'half-done answer')} kept as incomplete"
        )
        if res.incomplete and res.notified:
            text += f", {counted(res.notified, 'author')} told"
        elif res.incomplete:
            who = "its author is" if res.incomplete == 1 else "their authors are"
            text += f"; {who} told when members may be messaged again (quiet hours)"
        return text + f"; {counted(res.withdrawn, 'undelivered message')} withdrawn"

    _change(
        ctx, round_id, as_json,
        lambda s, r, now, z: lifecycle.close_now(s, r, now, z, ctx.catalog, actor=ctx.actor()),
        describe, "round.close",
    )  # fmt: skip


def register_round_commands(rounds_app: typer.Typer) -> None:
    """Add the lifecycle commands to ``lyttepost rounds``."""
    for name, command in (
        ("status", rounds_status), ("history", rounds_history),
        ("reschedule", rounds_reschedule), ("extend", rounds_extend),
        ("pause", rounds_pause), ("resume", rounds_resume), ("close", rounds_close),
        ("cancel", rounds_cancel),
    ):  # fmt: skip
        rounds_app.command(name)(command)


# --- scheduler ------------------------------------------------------------------------------


@scheduler_app.command("status")
def scheduler_status(as_json: bool = JsonOption) -> None:
    """Which process runs the annual cycle, and the jobs it should be holding."""
    from scheduler.status import scheduler_status

    ctx = cli_context()
    zone = ctx.zone

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions:
            return await scheduler_status(sessions, ctx.catalog, zone, ctx.now)

    document = run_async(work)

    def human() -> None:
        holder = document["holder"]
        typer.echo(f"scheduler: {'run by ' + holder if holder else 'no process runs it now'}")
        for job in document["jobs"]:
            at = datetime.fromisoformat(job["at"]).astimezone(zone)
            typer.echo(f"  {at:%Y-%m-%d %H:%M}  {job['id']}")

    emit(document, as_json, human)

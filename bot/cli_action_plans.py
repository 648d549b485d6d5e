"""``lyttepost action-plans``: assess KS actions against the ten known priority criteria,
and plan who spreads their results, how and when (ADR 24). The same services as the
workspace (services/action_plans.py); every change is in the audit log as ``cli``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, TypeVar

import typer

from bot.cli_context import cli_context
from bot.cli_support import JsonOption, echo_lines, emit, fail, run_async

T = TypeVar("T")
# A database session as the services take it: bot/ names no SQLAlchemy type
# (tests/test_architecture.py), so commands pass it on untyped.
Session = Any

action_plans_app = typer.Typer(
    help="Known priority criteria and dissemination plans for KS actions.",
    no_args_is_help=True,
)
plan_steps_app = typer.Typer(
    help="An action's plan for spreading its results.", no_args_is_help=True
)
action_plans_app.add_typer(plan_steps_app, name="plan")


def _due(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"cannot read {text!r} as a date (YYYY-MM-DD)")


def _in_transaction(work: Callable[[Session, datetime], Awaitable[T]]) -> T:
    """Run ``work(session, now)`` in one transaction; a PlanError becomes one error line."""
    from services.action_plans import PlanError

    ctx = cli_context()

    async def run() -> T:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                return await work(session, ctx.now())
            except PlanError as error:
                fail(str(error))

    return run_async(run)


def _step_lines(step: dict[str, Any]) -> list[str]:
    who = step["staff_name"] or "nobody"
    if step["staff_name"] and not step["staff_active"]:
        who += " (deactivated)"
    state = (
        f"notice sent {step['notice_sent_at'][:10]}"
        if step["notice_sent_at"]
        else f"reminded {step['reminded_at'][:10]}"
        if step["reminded_at"]
        else "waiting"
    )
    lines = [f"step {step['id']}: due {step['due_on']}, {step['channel']}, {who} [{state}]"]
    if step["description"]:
        lines.append(f"    {step['description']}")
    return lines


@action_plans_app.command("assess")
def assess(
    action: int = typer.Argument(..., help="The action's id."),
    criterion: int = typer.Argument(..., help="The criterion's number, 1-10."),
    rating: str = typer.Argument(..., help="met, partly, not, or none to take it back."),
    why: str = typer.Option("", "--why", help="The reasoning members see (required unless 'not')."),
    as_json: bool = JsonOption,
) -> None:
    """Assess an action against one of KS's ten known priority criteria."""
    from services import action_plans, audit

    async def work(session: Session, now: datetime) -> dict[str, Any]:
        done = await action_plans.assess(
            session, action, criterion, rating, why, actor=audit.CLI, now=now
        )
        return {"action_id": action, **done.to_json()}

    result = _in_transaction(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"action {action}, criterion {criterion}: {result['rating_name']}"
            + (f" – {result['reasoning']}" if result["reasoning"] else "")
        ),
    )


@action_plans_app.command("assessment")
def assessment(
    action: int = typer.Argument(..., help="The action's id."), as_json: bool = JsonOption
) -> None:
    """An action against all ten criteria: rating and reasoning, or not assessed yet."""
    from services import action_plans

    async def work(session: Session, now: datetime) -> dict[str, Any]:
        return (await action_plans.assessment(session, action)).to_json()

    result = _in_transaction(work)

    def human() -> None:
        typer.echo(f"action {result['action_id']}: {result['title']}")
        for item in result["criteria"]:
            typer.echo(f"{item['criterion']:>2}. [{item['rating_name']}] {item['text']}")
            if item["reasoning"]:
                typer.echo(f"    {item['reasoning']}")

    emit(result, as_json, human)


@plan_steps_app.command("add")
def plan_add(
    action: int = typer.Argument(..., help="The action's id."),
    staff: int = typer.Option(..., "--staff", help="The responsible staff member's id."),
    channel: str = typer.Option(..., "--channel", help="How, e.g. 'nyhetsbrev'."),
    due: str = typer.Option(..., "--due", help="When (YYYY-MM-DD); the reminder comes then."),
    description: str = typer.Option("", "--description", help="What is to be spread."),
    as_json: bool = JsonOption,
) -> None:
    """Add a step to an action's dissemination plan."""
    from services import action_plans, audit

    due_on = _due(due)

    async def work(session: Session, now: datetime) -> dict[str, Any]:
        added = await action_plans.add_step(
            session, action, staff_id=staff, channel=channel, due_on=due_on,
            description=description, actor=audit.CLI, now=now,
        )  # fmt: skip
        return added.to_json()

    result = _in_transaction(work)
    emit(result, as_json, lambda: echo_lines(_step_lines(result)))


@plan_steps_app.command("edit")
def plan_edit(
    step: int = typer.Argument(..., help="The step's id."),
    staff: int | None = typer.Option(None, "--staff", help="A new responsible (staff id)."),
    channel: str | None = typer.Option(None, "--channel", help="A new channel."),
    due: str | None = typer.Option(None, "--due", help="A new due date (YYYY-MM-DD)."),
    description: str | None = typer.Option(None, "--description", help="A new description."),
    as_json: bool = JsonOption,
) -> None:
    """Change a step that is not done; a new responsible or date is reminded again."""
    from services import action_plans, audit

    due_on = _due(due) if due is not None else None

    async def work(session: Session, now: datetime) -> dict[str, Any]:
        edited = await action_plans.edit_step(
            session, step, staff_id=staff, channel=channel, due_on=due_on,
            description=description, actor=audit.CLI, now=now,
        )  # fmt: skip
        return edited.to_json()

    result = _in_transaction(work)
    emit(result, as_json, lambda: echo_lines(_step_lines(result)))


@plan_steps_app.command("remove")
def plan_remove(
    step: int = typer.Argument(..., help="The step's id."), as_json: bool = JsonOption
) -> None:
    """Remove a step that is not done."""
    from services import action_plans, audit

    async def work(session: Session, now: datetime) -> dict[str, Any]:
        removed = await action_plans.remove_step(session, step, actor=audit.CLI, now=now)
        return removed.to_json()

    result = _in_transaction(work)
    emit(result, as_json, lambda: typer.echo(f"step {result['id']} removed"))


@plan_steps_app.command("list")
def plan_list(
    action: int = typer.Argument(..., help="The action's id."), as_json: bool = JsonOption
) -> None:
    """An action's dissemination plan, by due date."""
    from services import action_plans

    async def work(session: Session, now: datetime) -> list[dict[str, Any]]:
        return [s.to_json() for s in await action_plans.plan(session, action)]

    result = _in_transaction(work)

    def human() -> None:
        if not result:
            typer.echo(f"action {action} has no dissemination plan yet")
        for item in result:
            echo_lines(_step_lines(item))

    emit(result, as_json, human)


@plan_steps_app.command("notify")
def plan_notify(
    step: int = typer.Argument(..., help="The step's id."),
    text: str = typer.Option(..., "--text", help="What the organisations are told."),
    as_json: bool = JsonOption,
) -> None:
    """Send the step's notice to the organisations whose needs are linked to the action,
    once each, through the paced outbox (a running server delivers it)."""
    from services import action_plans, audit

    async def work(session: Session, now: datetime) -> dict[str, Any]:
        sent = await action_plans.send_dissemination_notice(
            session, step, text, actor=audit.CLI, now=now
        )
        return sent.to_json()

    result = _in_transaction(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"step {step}: notice queued to {result['organisations']} organisation(s) "
            f"in {result['messages']} message(s)"
        ),
    )

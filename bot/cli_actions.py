"""``lyttepost actions``: KS's actions on what members said ("dere sa, vi gjorde", ADR 23).

Create, edit, list and show actions, set their status, and link them to needs, areas of a
round, or every need of a round carrying a tag, through the same services as the chat and
the workspace (``services/actions.py``). Linking a need and changing a status tell the
organisations concerned in their chat (through the outbox; the running bot sends).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from bot.cli_context import cli_context
from bot.cli_support import JsonOption, counted, echo_lines, emit, fail, run_async

actions_app = typer.Typer(
    help="KS's actions on members' needs: create, status, link to needs and areas.",
    no_args_is_help=True,
)

IdArgument = typer.Argument(..., help="The action's id (see lyttepost actions list).")
STATUS_HELP = "planned | in_progress | done | dropped (or planlagt, i gang, gjennomført, lagt bort)"
LINK_CONTEXT = {"allow_extra_args": True}  # --needs A B C: the values after the first come here


def _day(text: str | None, what: str) -> date | None:
    if text is None or text.strip().lower() in ("", "none", "-"):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{what}: cannot read {text!r} as a date (YYYY-MM-DD)")


def _needs(values: list[str]) -> list[Any]:
    from services.views_needs import NeedError, NeedKey

    tokens = [t for value in values for t in value.replace(",", " ").split()]
    try:
        return [NeedKey.parse(token) for token in tokens]
    except NeedError as error:
        fail(f"{error} (a need is RESPONSE:QUESTION, e.g. 12:omrader.helse.behov)")


def _round_and(value: str, what: str) -> tuple[int, str]:
    round_id, _, rest = value.partition(":")
    if not round_id.strip().isdigit() or not rest.strip():
        fail(
            f"--{what} is ROUND:{what.upper()}, e.g. 3:{'helse' if what == 'area' else 'Rekruttering'}"
        )
    return int(round_id), rest.strip()


def _summary_line(action: dict[str, Any]) -> str:
    unit = f", {action['responsible_unit']}" if action["responsible_unit"] else ""
    return (
        f"{action['id']:>4}  {action['status']:<11}  {action['title']}{unit}  "
        f"({counted(action['needs'], 'need')}, {counted(action['organisations'], 'organisation')}, "
        f"{counted(action['areas'], 'area')})"
    )


@actions_app.command("create")
def actions_create(
    title: str = typer.Argument(..., help="The action's title (members read it)."),
    description: str = typer.Option("", "--description", help="What KS does, in a few lines."),
    status: str = typer.Option("planned", "--status", help=STATUS_HELP),
    unit: str = typer.Option("", "--unit", help="The unit in KS responsible for it."),
    starts: str | None = typer.Option(None, "--starts", help="Start date, YYYY-MM-DD."),
    ends: str | None = typer.Option(None, "--ends", help="End date, YYYY-MM-DD."),
    as_json: bool = JsonOption,
) -> None:
    """Create an action; link needs and areas to it with ``lyttepost actions link``."""
    from services import audit
    from services.actions import ActionError, create_action

    starts_on, ends_on = _day(starts, "--starts"), _day(ends, "--ends")
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                action, _ = await create_action(
                    session, ctx.catalog, title=title, description=description,
                    status=status, responsible_unit=unit, starts_on=starts_on,
                    ends_on=ends_on, actor=audit.CLI, now=ctx.now(),
                )  # fmt: skip
            except ActionError as error:
                fail(str(error))
            return {"id": action.id, "title": action.title, "status": action.status}

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"action {result['id']} created: {result['title']} ({result['status']})"
        ),
    )


@actions_app.command("edit")
def actions_edit(
    action_id: int = IdArgument,
    title: str | None = typer.Option(None, "--title", help="A new title."),
    description: str | None = typer.Option(None, "--description", help="A new description."),
    unit: str | None = typer.Option(None, "--unit", help="The responsible unit."),
    starts: str | None = typer.Option(None, "--starts", help="Start date (none: clear it)."),
    ends: str | None = typer.Option(None, "--ends", help="End date (none: clear it)."),
    as_json: bool = JsonOption,
) -> None:
    """Change an action's title, description, unit or dates (its status: ``status``)."""
    from services import audit
    from services.actions import KEEP, ActionError, edit_action

    starts_on = KEEP if starts is None else _day(starts, "--starts")
    ends_on = KEEP if ends is None else _day(ends, "--ends")
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                action = await edit_action(
                    session, action_id,
                    title=KEEP if title is None else title,
                    description=KEEP if description is None else description,
                    responsible_unit=KEEP if unit is None else unit,
                    starts_on=starts_on, ends_on=ends_on, actor=audit.CLI, now=ctx.now(),
                )  # fmt: skip
            except ActionError as error:
                fail(str(error))
            return {"id": action.id, "title": action.title}

    result = run_async(work)
    emit(result, as_json, lambda: typer.echo(f"action {result['id']} saved: {result['title']}"))


@actions_app.command("list")
def actions_list(
    status: str | None = typer.Option(None, "--status", help="Only actions with this status."),
    as_json: bool = JsonOption,
) -> None:
    """Every action, newest first, with how many needs, organisations and areas it has."""
    from services.actions import ActionError, list_actions

    ctx = cli_context()

    async def work() -> list[dict[str, Any]]:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                return [a.to_json() for a in await list_actions(session, status)]
            except ActionError as error:
                fail(str(error))

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: echo_lines([_summary_line(a) for a in result] or ["no actions yet"]),
    )


@actions_app.command("show")
def actions_show(action_id: int = IdArgument, as_json: bool = JsonOption) -> None:
    """One action: its fields, areas, needs (with their organisations) and assessment."""
    from dialogs.action_texts import shorten
    from services.actions import ActionError, get_action

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                return (await get_action(session, ctx.catalog, action_id)).to_json()
            except ActionError as error:
                fail(str(error))

    result = run_async(work)

    def human() -> None:
        lines = [f"action {result['id']}: {result['title']} — {result['status']}"]
        if result["responsible_unit"]:
            lines.append(f"  unit: {result['responsible_unit']}")
        if result["starts_on"] or result["ends_on"]:
            lines.append(f"  dates: {result['starts_on'] or '?'} – {result['ends_on'] or '?'}")
        if result["description"]:
            lines.append(f"  {result['description']}")
        for area in result["areas"]:
            lines.append(
                f"  area: round {area['round_id']} ({area['round_title']}): "
                f"{area['area']} ({area['area_label']})"
            )
        lines.append(
            f"  {counted(len(result['needs']), 'need')} from "
            f"{counted(result['organisations'], 'organisation')}:"
        )
        for need in result["needs"]:
            text = f"«{shorten(need['text'], 80)}»" if need["text"] else "(text no longer kept)"
            lines.append(
                f"    {need['need']}  {need['org']} {need['org_name']}, round "
                f"{need['round_id']}, {need['area_label']}: {text}"
            )
        for rating in result["criteria"]:
            lines.append(
                f"  criterion {rating['criterion']}: {rating['rating']} {rating['reasoning']}".rstrip()
            )
        echo_lines(lines)

    emit(result, as_json, human)


@actions_app.command("status")
def actions_status(
    action_id: int = IdArgument,
    status: str = typer.Argument(..., help=STATUS_HELP),
    as_json: bool = JsonOption,
) -> None:
    """Set an action's status; the organisations whose needs it answers are told in their
    chat (once per status)."""
    from services import audit
    from services.actions import ActionError, set_status

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                change = await set_status(
                    session, ctx.catalog, action_id, status, actor=audit.CLI, now=ctx.now()
                )
            except ActionError as error:
                fail(str(error))
            return {
                "id": change.action_id, "before": change.before, "status": change.after,
                "changed": change.changed, "organisations_told": change.organisations_told,
            }  # fmt: skip

    result = run_async(work)

    def human() -> None:
        if not result["changed"]:
            typer.echo(f"action {result['id']} is already {result['status']}")
            return
        typer.echo(
            f"action {result['id']}: {result['before']} → {result['status']}; "
            f"{counted(result['organisations_told'], 'organisation')} told"
        )

    emit(result, as_json, human)


def _link(
    ctx_typer: typer.Context,
    action_id: int,
    needs: list[str],
    areas: list[str],
    tags: list[str],
    *,
    linking: bool,
) -> dict[str, Any]:
    """Link (or unlink) everything given, in one transaction: all of it, or nothing."""
    from services import actions, audit

    if ctx_typer.args and not needs:
        fail(f"unexpected argument {ctx_typer.args[0]!r}")
    keys = _needs([*needs, *ctx_typer.args])
    area_pairs = [_round_and(a, "area") for a in areas]
    tag_pairs = [_round_and(t, "tag") for t in tags]
    if not (keys or area_pairs or tag_pairs):
        fail("give --needs RESPONSE:QUESTION ..., --area ROUND:AREA or --tag ROUND:LABEL")
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        changed: dict[str, list[str]] = {"needs": [], "areas": [], "tags": []}
        unchanged: list[str] = []
        told = 0
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now, actor = ctx.now(), audit.CLI
            try:
                await actions.load_action(session, action_id)
                results = []
                if keys:
                    results.append(
                        (
                            "needs",
                            await actions.link_needs(
                                session, ctx.catalog, action_id, keys, actor=actor, now=now
                            )
                            if linking
                            else await actions.unlink_needs(
                                session, action_id, keys, actor=actor, now=now
                            ),
                        )
                    )
                for round_id, area in area_pairs:
                    results.append(
                        (
                            "areas",
                            await actions.link_area(
                                session, ctx.catalog, action_id, round_id, area,
                                actor=actor, now=now,
                            )
                            if linking
                            else await actions.unlink_area(
                                session, action_id, round_id, area, actor=actor, now=now
                            ),
                        )
                    )  # fmt: skip
                for round_id, label in tag_pairs:
                    results.append(
                        (
                            "tags",
                            await actions.link_tag(
                                session, ctx.catalog, action_id, round_id, label,
                                actor=actor, now=now,
                            )
                            if linking
                            else await actions.unlink_tag(
                                session, action_id, round_id, label, actor=actor, now=now
                            ),
                        )
                    )  # fmt: skip
            except actions.ActionError as error:
                fail(str(error))
            for kind, result in results:
                changed["needs" if kind == "tags" else kind] += result.changed
                unchanged += result.unchanged
                told += result.organisations_told
        return {
            "id": action_id,
            "needs": list(dict.fromkeys(changed["needs"])),
            "areas": changed["areas"],
            "unchanged": list(dict.fromkeys(unchanged)),
            "organisations_told": told,
        }

    return run_async(work)


def _link_lines(result: dict[str, Any], verb: str) -> list[str]:
    lines = [
        f"action {result['id']}: {verb} {counted(len(result['needs']), 'need')} and "
        f"{counted(len(result['areas']), 'area')}"
    ]
    if result["unchanged"]:
        lines.append(f"  already so: {', '.join(result['unchanged'])}")
    if result["organisations_told"]:
        lines.append(f"  {counted(result['organisations_told'], 'organisation')} told in chat")
    return lines


NeedsOption = typer.Option(
    [], "--needs", help="Needs as RESPONSE:QUESTION (several after one --needs, or repeated)."
)
AreaOption = typer.Option([], "--area", help="An area of a round: ROUND:AREA (e.g. 3:helse).")
TagOption = typer.Option([], "--tag", help="Every need of a round with a tag: ROUND:LABEL.")


@actions_app.command("link", context_settings=LINK_CONTEXT)
def actions_link(
    ctx: typer.Context,
    action_id: int = IdArgument,
    needs: list[str] = NeedsOption,
    area: list[str] = AreaOption,
    tag: list[str] = TagOption,
    as_json: bool = JsonOption,
) -> None:
    """Link needs, areas of a round, or every need of a round with a tag to an action.
    Organisations linked for the first time are told about the action in their chat."""
    result = _link(ctx, action_id, needs, area, tag, linking=True)
    emit(result, as_json, lambda: echo_lines(_link_lines(result, "linked")))


@actions_app.command("unlink", context_settings=LINK_CONTEXT)
def actions_unlink(
    ctx: typer.Context,
    action_id: int = IdArgument,
    needs: list[str] = NeedsOption,
    area: list[str] = AreaOption,
    tag: list[str] = TagOption,
    as_json: bool = JsonOption,
) -> None:
    """Take needs, areas or a tag's needs off an action (no one is told)."""
    result = _link(ctx, action_id, needs, area, tag, linking=False)
    emit(result, as_json, lambda: echo_lines(_link_lines(result, "unlinked")))

"""``lyttepost contacts replace`` and ``lyttepost rounds approval``: the organisation as
respondent (ADR 20), through the same services as the chat and the workspace; and
``lyttepost members import-attributes``, ``members facts`` and ``members language``:
facts about each member (services/organisation_facts.py), as the workspace's Medlemmer
page reads and edits them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

from bot.cli_context import cli_context
from bot.cli_support import JsonOption, counted, echo_lines, emit, fail, run_async


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


def _shown(value: int | str | None) -> str:
    return "(none)" if value is None else str(value)


def members_import_attributes(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The CSV file."),
    as_json: bool = JsonOption,
) -> None:
    """Import facts about members from CSV: column org (code) and any of population,
    kostra_group, region, language (nb, nn, se); separated by , or ; (UTF-8, BOM or
    not). All lines or none: every problem is one error line and nothing changes. A
    column the file lacks is left as it is; an empty cell clears the fact (language: nb)."""
    from services import audit
    from services.organisation_facts import decode_csv, import_facts

    try:
        raw = file.read_bytes()
    except OSError as error:
        fail(f"{file}: {error.strerror or error}")
    text = decode_csv(raw)
    if text is None:
        fail(f"{file}: not UTF-8 text (in Excel: save as 'CSV UTF-8')")
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            outcome = await import_facts(session, text, audit.CLI, ctx.now(), file.name)
            return {
                "columns": list(outcome.columns),
                "lines": outcome.lines,
                "updated": outcome.updated,
                "unchanged": outcome.unchanged,
                "changed": outcome.changed_per_column(),
                "changes": [
                    {"org": c.code, "name": c.name, "column": c.column, "before": c.before,
                     "after": c.after}
                    for c in outcome.changes
                ],
                "errors": [p.english for p in outcome.problems],
            }  # fmt: skip

    result = run_async(work)
    if result["errors"]:
        emit(
            result,
            as_json,
            lambda: echo_lines((f"error: {e}" for e in result["errors"]), err=True),
        )
        raise typer.Exit(1)

    def human() -> None:
        if not result["updated"]:
            typer.echo(
                f"nothing changed: {counted(result['lines'], 'organisation')} "
                "already had these facts"
            )
            return
        per_column = ", ".join(f"{column} {n}" for column, n in result["changed"].items() if n)
        typer.echo(
            f"{counted(result['updated'], 'organisation')} updated ({per_column}), "
            f"{result['unchanged']} unchanged"
        )
        by_org: dict[str, list[str]] = {}
        for change in result["changes"]:
            by_org.setdefault(f"{change['org']} {change['name']}", []).append(
                f"{change['column']} {_shown(change['before'])} -> {_shown(change['after'])}"
            )
        echo_lines(f"  {org}: {'; '.join(parts)}" for org, parts in by_org.items())

    emit(result, as_json, human)


def members_facts(
    org: str = typer.Argument(..., help="Kommunenummer (NNNN), fylkesnummer (NN) or name."),
    as_json: bool = JsonOption,
) -> None:
    """One organisation's facts: population, KOSTRA group, region, language."""
    from services.organisation_facts import LANGUAGES, FactsError, facts_of

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                found = await facts_of(session, org)
            except FactsError as error:
                fail(error.problems[0].english)
            return {
                "org": found.code, "name": found.name,
                "population": found.facts.population, "kostra_group": found.facts.kostra_group,
                "region": found.facts.region, "language": found.facts.language,
            }  # fmt: skip

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: echo_lines(
            [
                f"{result['org']} {result['name']}",
                f"  population:   {_shown(result['population'])}",
                f"  kostra_group: {_shown(result['kostra_group'])}",
                f"  region:       {_shown(result['region'])}",
                f"  language:     {result['language']} ({LANGUAGES.get(result['language'], '?')})",
            ]
        ),
    )


def members_language(
    org: str = typer.Argument(..., help="Kommunenummer (NNNN), fylkesnummer (NN) or name."),
    language: str | None = typer.Argument(
        None, help="nb (bokmål), nn (nynorsk) or se (nordsamisk); leave out to show it."
    ),
    as_json: bool = JsonOption,
) -> None:
    """The written language the organisation's members read, or set it (audited). A
    contact's own choice (/sprak in the chat) wins over it; those contacts are listed."""
    from services import audit
    from services.language_choice import own_choices
    from services.organisation_facts import LANGUAGES, FactsError, facts_of, set_language

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            before: str | None = None
            try:
                if language is None:
                    found = await facts_of(session, org)
                else:
                    found, change = await set_language(session, org, language, audit.CLI, ctx.now())
                    before = str(change.before) if change is not None else found.facts.language
            except FactsError as error:
                fail(error.problems[0].english)
            own = await own_choices(session, found.code)
            return {
                "org": found.code, "name": found.name, "language": found.facts.language,
                "before": before, "changed": before is not None and before != found.facts.language,
                "own_choices": [{"contact": i, "name": n, "language": lang} for i, n, lang in own],
            }  # fmt: skip

    result = run_async(work)

    def human() -> None:
        named = f"{result['language']} ({LANGUAGES.get(result['language'], '?')})"
        if result["before"] is None:
            typer.echo(f"{result['org']} {result['name']}: {named}")
        elif result["changed"]:
            typer.echo(f"{result['org']} {result['name']}: language {result['before']} -> {named}")
        else:
            typer.echo(f"{result['org']} {result['name']}: language already {named}")
        if result["own_choices"]:
            typer.echo(f"{counted(len(result['own_choices']), 'contact')} chose their own:")
            echo_lines(
                f"  {c['contact']} {c['name']}: {c['language']}" for c in result["own_choices"]
            )

    emit(result, as_json, human)


def register_members_commands(members_app: typer.Typer) -> None:
    """Add ``members import-attributes``, ``members facts`` and ``members language``."""
    members_app.command("import-attributes")(members_import_attributes)
    members_app.command("facts")(members_facts)
    members_app.command("language")(members_language)

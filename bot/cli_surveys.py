"""``lyttepost surveys``: check, register and export survey definitions.

A survey file may be YAML (``dialogs/surveys/*.yaml``) or an XLSForm workbook (.xlsx);
``add`` registers one from any path as the survey's newest version, in the database, so
no developer has to put it inside the installed package.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from bot.cli_context import cli_context
from bot.cli_support import JsonOption, counted, echo_lines, emit, fail, run_async

if TYPE_CHECKING:
    from services.surveys import SurveyUpload

surveys_app = typer.Typer(help="Survey definitions.", no_args_is_help=True)

FileArgument = typer.Argument(..., help="A survey file: YAML, or an XLSForm workbook (.xlsx).")


def _report(problems: list[Any], what: str) -> NoReturn:
    """Every problem on stderr, each with its line (or sheet, row and column), then exit 1."""
    for problem in problems:
        typer.echo(str(problem), err=True)
    fail(f"{counted(len(problems), 'problem')}; {what}")


def _read(file: Path, what: str) -> tuple[bytes, SurveyUpload]:
    """The file's bytes, read and checked, or its problems printed and exit 1."""
    from dialogs.definition import SurveyDefinitionError
    from services.surveys import read_upload

    try:
        data = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")
    try:
        return data, read_upload(data, str(file))
    except SurveyDefinitionError as error:
        _report(list(error.problems), what)


def _uses(row: dict[str, Any]) -> str:
    rounds = ", ".join(f"{count} {status}" for status, count in row["rounds"].items())
    parts = (["newest: rounds that open ask it"] if row["newest"] else []) + (
        [f"rounds: {rounds}"] if rounds else []
    )
    return f" – {'; '.join(parts)}" if parts else ""


@surveys_app.command("list")
def surveys_list(as_json: bool = JsonOption) -> None:
    """Survey versions in the database, and which are in use."""
    from services.surveys import survey_versions

    ctx = cli_context()

    async def work() -> list[dict[str, Any]]:
        async with ctx.sessions() as sessions, sessions() as session:
            return await survey_versions(session)

    rows = run_async(work)
    emit(
        rows,
        as_json,
        lambda: echo_lines(
            f"{r['key']} v{r['version']}: {r['title']} ({r['source']}){_uses(r)}" for r in rows
        ),
    )


@surveys_app.command("validate")
def surveys_validate(file: Path = FileArgument) -> None:
    """Check a survey file; every problem is reported with its line and field (YAML) or
    its sheet, row and column (XLSForm). Texts that lack a language are warnings: members
    who read it get those texts in bokmål."""
    _, upload = _read(file, "the file is not usable")
    survey = upload.survey
    typer.echo(
        f"{file}: OK – «{survey.title}» ({survey.key} v{survey.version}), "
        f"{counted(len(survey.questions), 'question')}"
    )
    echo_lines(f"warning: {line}" for line in upload.source.translation_report())


@surveys_app.command("add")
def surveys_add(file: Path = FileArgument, as_json: bool = JsonOption) -> None:
    """Register a survey file from any path as its survey's newest version.

    Nothing is registered if the file has any problem. Rounds that open from now on ask
    the new version; rounds already open keep theirs. The same content twice is one version.
    """
    from dialogs.definition import SurveyDefinitionError
    from services.audit import Actor
    from services.surveys import latest_version, register

    data, upload = _read(file, "nothing registered")
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                registered = await register(
                    session, data, str(file), actor=Actor(ctx.actor(), "cli"), now=ctx.now()
                )
            except SurveyDefinitionError as error:  # checked above; kept for the record
                _report(list(error.problems), "nothing registered")
            row = registered.version
            newest = await latest_version(session, row.key)
            return {
                "key": row.key, "version": row.version, "id": row.id, "title": row.title,
                "source": row.source_name, "created": registered.created,
                "format": upload.format, "questions": len(upload.survey.questions),
                "newest": newest is not None and newest.id == row.id,
                "newest_version": newest.version if newest is not None else row.version,
            }  # fmt: skip

    result = run_async(work)

    def human() -> None:
        name = f"{result['key']} v{result['version']}"
        if result["created"]:
            typer.echo(
                f"registered {name}: «{result['title']}», "
                f"{counted(result['questions'], 'question')}; rounds that open from now on ask it"
            )
        elif result["newest"]:
            typer.echo(f"already registered as {name}; nothing changed")
        else:
            typer.echo(
                f"already registered as {name}; nothing changed, and rounds that open ask "
                f"v{result['newest_version']} (change the file to register it as a new version)"
            )

    emit(result, as_json, human)


@surveys_app.command("export")
def surveys_export(
    key: str = typer.Argument(..., help="The survey's key, e.g. kvartalsvis-behov."),
    version: int | None = typer.Option(
        None, "--version", help="The version number (see surveys list); default: the newest."
    ),
    xlsx: Path = typer.Option(..., "--xlsx", help="Write the survey here as an XLSForm workbook."),
    as_json: bool = JsonOption,
) -> None:
    """Write a survey version as an XLSForm workbook, to edit in Excel and add again."""
    from dialogs.xlsform import XlsformUnsupported
    from services.surveys import export_xlsform

    ctx = cli_context()

    async def work() -> tuple[Any, bytes]:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                return await export_xlsform(session, key, version)
            except LookupError as error:
                fail(f"{error.args[0]}; see 'lyttepost surveys list'")
            except XlsformUnsupported as error:
                fail(str(error))

    row, data = run_async(work)
    try:
        xlsx.write_bytes(data)
    except OSError as error:
        fail(f"cannot write {xlsx}: {error.strerror or error}")
    result = {"key": row.key, "version": row.version, "file": str(xlsx), "bytes": len(data)}
    emit(result, as_json, lambda: typer.echo(f"wrote {xlsx} ({row.key} v{row.version})"))

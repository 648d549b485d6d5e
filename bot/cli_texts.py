"""``lyttepost texts``: the catalogues out to a translator's spreadsheet and back.

A thin door to ``services/texts_io.py``. ``apply_texts_dir`` layers TEXTS_DIR over the
packaged catalogues for every command (``lyttepost run`` included), so the bot, the
workspace and the scheduler speak the imported texts.
"""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli_support import JsonOption, echo_lines, emit, fail, settings
from bot.settings import Settings

texts_app = typer.Typer(
    help="Texts and languages: export for a translator, import the translation.",
    no_args_is_help=True,
)


def apply_texts_dir(config: Settings | None = None) -> None:
    """Use TEXTS_DIR (when set) over the packaged catalogues in this process.

    Quiet when the settings cannot be read: the command itself reports that.
    """
    from dialogs import catalogues, i18n

    if config is None:
        try:
            config = Settings()
        except Exception:  # invalid settings: the command says so
            return
    directory = config.texts_directory()
    if directory != catalogues.override_dir():
        catalogues.use_override_dir(directory)
        i18n.reload()


@texts_app.command("export")
def texts_export(
    file: Path = typer.Argument(..., help="The .xlsx file to write."),
    lang: str = typer.Option(..., "--lang", help="The language: nn, se or en."),
) -> None:
    """Every catalogue text with its bokmål source and context, for a translator."""
    from services import texts_io

    if lang not in texts_io.TRANSLATED:
        fail(f"--lang must be one of {', '.join(texts_io.TRANSLATED)}, not {lang!r}")
    data = texts_io.export_workbook(lang)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(data)
    found = texts_io.rows(lang)
    missing = sum(1 for row in found if not row.text)
    review = sum(1 for row in found if row.text and row.needs_review)
    typer.echo(
        f"wrote {file}: {len(found)} texts in {texts_io.LANGUAGE_NAMES[lang]} ({lang}), "
        f"{review} needing review, {missing} missing",
        err=True,
    )


@texts_app.command("import")
def texts_import(
    file: Path = typer.Argument(..., help="The translated .xlsx file."),
    lang: str | None = typer.Option(
        None, "--lang", help="Refuse the file unless it holds this language."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Read a translated spreadsheet back: every row is checked, all or nothing."""
    from services import texts_io

    config = settings(own_database=True)
    try:
        data = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")
    try:
        result = texts_io.import_texts(data, directory=config.texts_directory(), language=lang)
    except texts_io.TextsImportError as error:
        for problem in error.problems:
            typer.echo(f"error: {problem}", err=True)
        typer.echo("nothing was written", err=True)
        raise typer.Exit(1) from None
    except OSError as error:
        fail(f"cannot write the catalogues: {error}")
    emit(result.summary(), as_json, lambda: echo_lines(_report(result), err=True))


def _report(result: object) -> list[str]:
    from services.texts_io import RESTART_NOTE, ImportResult

    assert isinstance(result, ImportResult)
    lines = [
        f"imported {result.rows} {result.language} texts into {result.directory}: "
        f"{len(result.changed)} changed, {len(result.reviewed)} marked reviewed, "
        f"{len(result.flagged)} marked for review, {result.unchanged} unchanged"
    ]
    lines += [f"wrote {path}" for path in result.files]
    if result.files:
        lines.append(RESTART_NOTE)
    return lines


@texts_app.command("status")
def texts_status(as_json: bool = JsonOption) -> None:
    """Per language: how many texts, how many need review, how many are missing."""
    from dataclasses import asdict

    from services import texts_io

    found = texts_io.status()
    emit(
        [asdict(item) for item in found],
        as_json,
        lambda: echo_lines(
            f"{item.language} {item.name}: {item.texts} texts, "
            f"{item.needs_review} need review, {item.missing} missing"
            for item in found
        ),
    )

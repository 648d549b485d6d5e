"""What every ``lyttepost`` command shares: settings, errors, output, the event loop.

The database, clock and catalogue come from the CLI's bootstrap, ``bot/cli_context.py``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, date, datetime, time
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer

from bot.settings import Settings

T = TypeVar("T")

JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout.")


def settings(*, own_database: bool = False) -> Settings:
    """Settings from the environment, with a one-line error instead of a traceback.

    The database URL is checked here, so every command refuses one Lyttepost cannot use
    the same way before touching anything; ``own_database``: the command brings its own
    (the demo), so DATABASE_URL does not matter.
    """
    from pydantic import ValidationError

    from services.database import UnsupportedDatabaseUrl, check_url

    try:
        config = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']).upper() or 'settings'}: {item['msg']}"
            for item in error.errors()
        )
        fail(f"invalid configuration: {problems}")
    except Exception as error:  # an unreadable .env
        fail(f"invalid configuration: {str(error).splitlines()[0] if str(error) else error!r}")
    if own_database:
        return config
    try:
        check_url(config.database_url)
    except UnsupportedDatabaseUrl as error:
        fail(str(error))
    return config


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """``1 contact``, ``2 contacts``: a count with its noun in the right form (English)."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error to stderr and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def emit(document: Any, as_json: bool, human: Callable[[], None]) -> None:
    """Either exactly one JSON document on stdout, or the human rendering."""
    if as_json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
    else:
        human()


def echo_lines(lines: Iterable[str], *, err: bool = False) -> None:
    """Print each line: the human rendering ``emit`` runs (``lambda: echo_lines(...)``)."""
    for line in lines:
        typer.echo(line, err=err)


def configure_logging(level: str | None, config: Settings | None = None) -> None:
    """Logs go to stderr so ``--json`` output stays clean, redacted (see bot/logs.py).

    ``config`` supplies the secrets to mask; without it they are read from the settings,
    or from the raw environment when the settings are invalid (the command reports that).
    ``level`` None: WARNING, or LOG_LEVEL when it asks for DEBUG, WARNING or ERROR.
    """
    import os

    from bot import logs

    if config is None:
        try:
            config = Settings()
        except Exception:  # pydantic's ValidationError, bad .env: mask what the env holds
            config = None
    redactor = (
        logs.Redactor.from_settings(config)
        if config is not None
        else logs.Redactor.from_environment(os.environ)
    )
    if level is None:
        configured = config.log_level if config is not None else "INFO"
        level = "WARNING" if configured == "INFO" else configured
    log_format = config.log_format if config is not None else os.environ.get("LOG_FORMAT", "text")
    logs.configure_logging(level, redactor, log_format)


def run_async(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine, turning a dead database into a clear message."""
    from sqlalchemy.exc import SQLAlchemyError

    from services.database import UnsupportedDatabaseUrl
    from services.setup import SchemaNotReady

    try:
        return asyncio.run(work())
    except (SchemaNotReady, UnsupportedDatabaseUrl) as error:
        fail(str(error))
    except (SQLAlchemyError, OSError) as error:
        first = str(error).splitlines()[0][:300] if str(error) else ""
        hint = ""
        if "no such table" in first or "UndefinedTable" in first:
            hint = "; is the database set up? run 'lyttepost db upgrade'"
        fail(f"database error ({type(error).__name__}): {first}{hint}")


def parse_moment(text: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A date (``2026-12-15``; end of day for deadlines) or date-time; naive means Oslo time."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(23, 59) if end_of_day else time(8, 0))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"cannot read {text!r} as a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)

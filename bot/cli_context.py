"""The CLI's bootstrap: what a ``lyttepost`` command works with, built once per command.

A command calls ``cli_context()`` where it needs its settings (so a bad configuration
is reported at the same point as always) and takes everything else from it: the time
zone, the survey catalogue, the clock, who is acting, and the database. The server is
built by the composition root, ``bot/app.py``; both open the database through
``services/database.py`` (docs/decisions/0014).
"""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.cli_support import settings
from bot.settings import Settings

if TYPE_CHECKING:  # imported when used, so ``--help`` and file checks start fast
    from services.database import Database
    from services.surveys import SurveyCatalog
    from storage.sessions import Sessions


def utc_now() -> datetime:
    """The moment a command acts at: aware, in UTC, as everything is stored."""
    return datetime.now(UTC)


def _catalog() -> SurveyCatalog:
    from services.surveys import SurveyCatalog

    return SurveyCatalog()


@dataclass(frozen=True)
class CliContext:
    """One command's settings and what is built from them; tests may pass their own clock."""

    settings: Settings
    catalog: SurveyCatalog = field(default_factory=_catalog)
    clock: Callable[[], datetime] = utc_now

    @property
    def zone(self) -> ZoneInfo:
        """The zone dates are read and shown in (TIMEZONE; Oslo unless set otherwise).

        Looked up when a command needs it, so a command that shows no dates never fails
        on it."""
        return ZoneInfo(self.settings.timezone)

    def now(self) -> datetime:
        """The moment the command acts at (aware, UTC)."""
        return self.clock()

    def actor(self) -> str:
        """How the person at the terminal is named in a round's history and the privacy log."""
        try:
            return f"cli:{getpass.getuser()}"
        except (KeyError, OSError):
            return "cli"

    def database(self) -> AbstractAsyncContextManager[Database]:
        """The database for one ``run_async``: an engine belongs to the event loop that made
        it, and each ``run_async`` is a loop of its own."""
        from services.database import open_database

        return open_database(self.settings.database_url)

    @asynccontextmanager
    async def sessions(self) -> AsyncIterator[Sessions]:
        """``async with ctx.sessions() as sessions``: the sessions of ``database()``."""
        async with self.database() as database:
            yield database.sessions


def cli_context() -> CliContext:
    """The bootstrap of one command, from the environment (a one-line error if invalid)."""
    return CliContext(settings())

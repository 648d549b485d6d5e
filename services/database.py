"""The database as every entry point opens it: one engine and its sessions, closed together.

The server's composition root (``bot/app.py``) and each ``lyttepost`` command
(``bot/cli_context.py``) open it here, so nothing in ``bot/`` builds an engine of its
own (docs/decisions/0014). An async engine belongs to the event loop it was made in;
the CLI therefore opens one per ``asyncio.run`` and closes it at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import (
    Scrubbed,
    UnsupportedDatabaseUrl,
    checked_url,
    create_engine,
    scrub_files,
    session_factory,
)
from storage.sessions import Sessions

__all__ = ["Database", "Scrubbed", "UnsupportedDatabaseUrl", "check_url", "open_database"]


@dataclass(frozen=True)
class Database:
    """An engine and the sessions made from it."""

    engine: AsyncEngine
    sessions: Sessions

    @classmethod
    def connect(cls, url: str) -> Database:
        """An engine for ``url`` (nothing connects until a session is used)."""
        engine = create_engine(url)
        return cls(engine, session_factory(engine))

    async def scrub_files(self) -> Scrubbed:
        """After an erasure: rewrite SQLite's files so deleted data is gone from disk too."""
        return await scrub_files(self.engine)

    async def close(self) -> None:
        """Release every connection."""
        await self.engine.dispose()


@asynccontextmanager
async def open_database(url: str) -> AsyncIterator[Database]:
    """The database for one piece of work, closed when it ends."""
    database = Database.connect(url)
    try:
        yield database
    finally:
        await database.close()


def check_url(url: str) -> None:
    """``UnsupportedDatabaseUrl`` (saying which URLs work) for one Lyttepost cannot use."""
    checked_url(url)

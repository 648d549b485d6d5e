"""Database engine and sessions.

SQLite (the embedded default) gets foreign keys, WAL and a busy timeout on every
connection; PostgreSQL is used as it comes. Sessions never expire objects on commit,
because the async engine cannot lazy-load afterwards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./lyttepost.db"


def is_sqlite(url: str) -> bool:
    """Whether the URL points at SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# SQL errors and echoed statements never carry parameter values (members' texts, code
# hashes) into logs or tracebacks.
HIDE_PARAMETERS = True


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` with the per-backend settings Lyttepost relies on."""
    kwargs.setdefault("hide_parameters", HIDE_PARAMETERS)
    if is_sqlite(url):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def create_sync_engine(url: str, *, patient: bool = False, **kwargs: Any) -> Engine:
    """A synchronous engine on the same database, for libraries that need one (APScheduler).

    SQLite gets the same pragmas but a short busy timeout: these calls run on the event
    loop's thread, so waiting long for a lock would stall everything else. ``patient``
    keeps the usual ten seconds, for calls made from a worker thread.
    """
    kwargs.setdefault("hide_parameters", HIDE_PARAMETERS)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    sync = parsed.set(drivername=SYNC_DRIVERS.get(backend, backend))
    if backend == "sqlite":
        engine = sa_create_engine(sync, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if not patient:
            event.listen(engine, "connect", _short_busy_timeout)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa_create_engine(sync, **kwargs)


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=1000")
    cursor.close()

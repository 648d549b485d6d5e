"""Database engine and sessions.

SQLite (the embedded default) gets foreign keys, WAL, a busy timeout and secure delete
on every connection, and runs its calls on the event loop's thread
(storage/sqlite_inline.py); PostgreSQL is used as it comes. Sessions never expire objects on
commit, because the async engine cannot lazy-load afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event
from sqlalchemy.engine import URL, CursorResult, Engine, Result, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_inline import InlineConnection, inline_creator

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
SUPPORTED_URLS = (
    "sqlite+aiosqlite:///FILE (e.g. sqlite+aiosqlite:///./lyttepost.db) or "
    "postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE"
)


class UnsupportedDatabaseUrl(ValueError):
    """A DATABASE_URL Lyttepost cannot use; the message says which URLs it can."""


def affected_rows(result: Result[*tuple[Any, ...]]) -> int:
    """How many rows an UPDATE or DELETE matched.

    ``execute()`` is typed as returning a plain ``Result`` whatever the statement; for an
    UPDATE or DELETE it is a ``CursorResult``, the one that knows the count.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count on {type(result).__name__}: not an UPDATE or DELETE")
    return result.rowcount


def checked_url(url: str) -> URL:
    """The parsed URL if Lyttepost supports it, else ``UnsupportedDatabaseUrl``.

    Only the scheme is ever repeated in the message: the rest may hold a password.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise UnsupportedDatabaseUrl(
            f"DATABASE_URL is not a database URL; Lyttepost supports {SUPPORTED_URLS}"
        ) from None
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise UnsupportedDatabaseUrl(
            f"DATABASE_URL uses {parsed.drivername}://, which Lyttepost does not support; "
            f"use {SUPPORTED_URLS}"
        )
    return parsed


def is_sqlite(url: str) -> bool:
    """Whether the URL points at SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    if not isinstance(getattr(dbapi_connection, "driver_connection", None), InlineConnection):
        # An inline connection waits for locks on a worker thread instead (its own
        # ``patience``): a busy timeout here would stall the event loop.
        cursor.execute("PRAGMA busy_timeout=10000")
    # Deleted and overwritten content is zeroed in the file, so an erasure is real on disk
    # and not only in query results (docs/decisions/0011).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# SQL errors and echoed statements never carry parameter values (members' texts, code
# hashes) into logs or tracebacks.
HIDE_PARAMETERS = True


def _sqlite_file(url: str) -> str | None:
    """The file a plain SQLite URL names; None for memory databases and URLs with options
    (those keep aiosqlite as it comes)."""
    parsed = make_url(url)
    if parsed.query or not parsed.database or parsed.database == ":memory:":
        return None
    return parsed.database


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` with the per-backend settings Lyttepost relies on."""
    checked_url(url)
    kwargs.setdefault("hide_parameters", HIDE_PARAMETERS)
    if is_sqlite(url):
        path = _sqlite_file(url)
        if path is not None and "creator" not in kwargs:
            kwargs.setdefault("async_creator", inline_creator(path))
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


@dataclass(frozen=True)
class Scrubbed:
    """What ``scrub_files`` did: SQLite's file rewritten and its WAL emptied, or nothing."""

    backend: str
    vacuumed: bool = False
    wal_truncated: bool = False


async def scrub_files(engine: AsyncEngine) -> Scrubbed:
    """After an erasure: make sure deleted personal data is gone from SQLite's files too.

    ``secure_delete`` zeroes what is deleted from now on, but a database used before it
    was on can hold old copies in free space, and the WAL keeps old page images until a
    checkpoint. ``VACUUM`` rewrites the file from the live rows only;
    ``wal_checkpoint(TRUNCATE)`` moves the WAL into the file and cuts it to zero bytes.
    PostgreSQL is left alone: its files are not ours to rewrite (docs/decisions/0011 says
    what VACUUM there does and does not do).
    """
    if engine.dialect.name != "sqlite":
        return Scrubbed(engine.dialect.name)
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM")
        row = (await autocommit.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    busy = bool(row and row[0])
    return Scrubbed("sqlite", vacuumed=True, wal_truncated=not busy)

"""SQLite for the async engine without a thread hop per call (docs/decisions/0030).

aiosqlite runs every call (open a cursor, execute, fetch, close, commit) on a thread of
its own and hands the result back to the event loop: four round trips per statement,
about 0.35 ms of CPU each time, for statements SQLite itself answers in microseconds.
This module gives SQLAlchemy's aiosqlite dialect a connection with aiosqlite's interface
(through ``create_async_engine(async_creator=...)``, the documented hook) that runs each
call where it is made, on the event loop's thread.

Only waiting moves off the loop: the connection's own busy timeout is zero, so a
statement that finds the database locked by another connection (another process, or
another transaction of this one) fails at once, and is then run again on a worker thread
that may wait up to ``patience`` seconds for the lock. SQLite reports "busy" before a
statement changes anything, so running it again is safe. Everything else keeps SQLite's
and Python's semantics: the same ``sqlite3`` module, the same transaction handling.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

# SQLITE_BUSY, SQLITE_LOCKED: another connection holds the lock this call needs.
_LOCK_ERRORS = {5, 6}


def _is_lock_error(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _LOCK_ERRORS
    return "locked" in str(error)


class InlineCursor:
    """aiosqlite's cursor interface over a ``sqlite3.Cursor``."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection.sqlite.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        await self._connection.call(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        rows = list(parameters)  # a generator cannot be run twice if the first try is busy
        await self._connection.call(self._cursor.executemany, sql, rows)
        return self

    async def fetchone(self) -> Any:
        await self._connection.settled()
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        await self._connection.settled()
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        await self._connection.settled()
        return self._cursor.fetchall()

    async def close(self) -> None:
        await self._connection.settled()
        self._cursor.close()


class _InlineQueue:
    """Stands in for aiosqlite's call queue, which SQLAlchemy uses directly to set the
    isolation level: the function runs now and its future is resolved."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to whoever awaits the future
            if future is None:
                raise
            future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection:
    """aiosqlite's connection interface over a ``sqlite3.Connection``, run inline."""

    def __init__(self, sqlite: sqlite3.Connection, patience: float) -> None:
        self.sqlite: sqlite3.Connection | Any = sqlite
        self.patience = patience
        self._tx = _InlineQueue(self)
        self._waiting: asyncio.Future[Any] | None = None  # a worker thread using the connection
        self.busy_retries = 0  # statements that had to wait for a lock on a worker thread

    # SQLAlchemy's adapter reaches for these two aiosqlite attributes by name.
    @property
    def _conn(self) -> sqlite3.Connection:
        return self.sqlite

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self.sqlite

    @property
    def isolation_level(self) -> str | None:
        return self.sqlite.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self.sqlite.isolation_level = value

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function`` now; if the database is locked, wait for it on a worker thread."""
        await self.settled()
        try:
            return function(*args)
        except sqlite3.OperationalError as error:
            if not _is_lock_error(error) or self.patience <= 0:
                raise
        self.busy_retries += 1
        waiting = asyncio.get_running_loop().run_in_executor(
            None, functools.partial(self._patiently, function, *args)
        )
        self._waiting = waiting
        # Shielded: a caller that is cancelled (a timeout, a shutdown) leaves the thread
        # running with the connection; ``_settled`` makes everyone else wait for it, since
        # SQLite's connection must not be used or closed from two threads at once.
        return await asyncio.shield(waiting)

    async def settled(self) -> None:
        """Wait until no worker thread is using the connection."""
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            await asyncio.wait([waiting])

    def _patiently(self, function: Callable[..., Any], *args: Any) -> Any:
        milliseconds = int(self.patience * 1000)
        self.sqlite.execute(f"PRAGMA busy_timeout={milliseconds}")
        try:
            return function(*args)
        finally:
            self.sqlite.execute("PRAGMA busy_timeout=0")

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        cursor = self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        await self.call(self.sqlite.commit)

    async def rollback(self) -> None:
        await self.settled()
        self.sqlite.rollback()

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], deterministic: bool = False
    ) -> None:
        self.sqlite.create_function(name, num_params, func, deterministic=deterministic)

    async def close(self) -> None:
        await self.settled()
        self.stop()

    def stop(self) -> None:
        """Close now, or as soon as a worker thread is done with the connection (SQLAlchemy's
        forced termination may come while one waits for a lock)."""
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            waiting.add_done_callback(lambda _: self.stop())
            return
        if self.sqlite is not None:
            self.sqlite.close()
            self.sqlite = None


def inline_creator(path: str, patience: float = 10.0) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: connections to the file at ``path``."""

    async def connect() -> InlineConnection:
        sqlite = sqlite3.connect(path, timeout=0, check_same_thread=False)
        return InlineConnection(sqlite, patience)

    return connect

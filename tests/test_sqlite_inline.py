"""SQLite on the event loop's thread (storage/sqlite_inline.py, ADR 30): a statement that
finds the database locked waits on a worker thread, and nothing closes or reuses the
connection while that thread has it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import create_engine
from storage.sqlite_inline import InlineConnection, inline_creator


def _engine(path: Path, patience: float):
    return create_async_engine(
        f"sqlite+aiosqlite:///{path}", async_creator=inline_creator(str(path), patience)
    )


def _hold_the_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another connection (as another process would) holds the write lock for a while."""
    blocker = sqlite3.connect(path, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    thread = threading.Thread(target=lambda: (threading.Event().wait(seconds), blocker.rollback()))
    thread.start()
    return thread


async def _table(path: Path) -> None:
    engine = _engine(path, 1.0)
    async with engine.begin() as connection:
        await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        await connection.exec_driver_sql("CREATE TABLE notes (x INTEGER)")
    await engine.dispose()


async def test_a_write_that_finds_the_database_locked_waits_off_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    await _table(path)
    engine = _engine(path, 5.0)
    holder = _hold_the_write_lock(path, 0.5)
    ticks = 0

    async def loop_stays_free() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(loop_stays_free())
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes VALUES (1)"))
        driver = (await connection.get_raw_connection()).driver_connection
    ticker.cancel()
    holder.join()
    assert isinstance(driver, InlineConnection) and driver.busy_retries == 1
    assert ticks >= 20  # the loop ran on while the insert waited about 0.5 s
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar() == 1
    await engine.dispose()


async def test_a_cancelled_wait_leaves_the_connection_to_its_thread_until_done(
    tmp_path: Path,
) -> None:
    """Cancelling a caller (a timeout, a shutdown) while its statement waits for the lock
    on a worker thread: closing the connection then must wait for the thread (closing it
    under a running statement crashed the interpreter)."""
    path = tmp_path / "db.sqlite"
    await _table(path)
    engine = _engine(path, 5.0)
    holder = _hold_the_write_lock(path, 0.6)

    async def write() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (2)"))

    task = asyncio.create_task(write())
    await asyncio.sleep(0.2)  # the insert now waits on its thread
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await engine.dispose()  # closes the connection once the thread is done with it
    holder.join()
    check = create_engine(f"sqlite+aiosqlite:///{path}")
    async with check.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM notes"))).scalar()
    await check.dispose()
    assert count in (0, 1)  # rolled back or not: the interpreter is still here to say

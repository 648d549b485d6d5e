"""Alembic environment: async engines, batch mode for SQLite, APScheduler's table ignored."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.orm import Base

config = context.config
target_metadata = Base.metadata
IGNORED_TABLES = {"apscheduler_jobs"}  # APScheduler creates and owns it


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (type_ == "table" and name in IGNORED_TABLES)


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )


def _run_sync(connection: Connection) -> None:
    """Run the migrations; on SQLite with foreign keys off while they run.

    SQLite cannot alter a column, so batch mode copies the table and drops the old one;
    with foreign keys on, that DROP deletes the rows first and cascades (``answers``
    would lose every row when ``responses`` is rebuilt). Alembic's documented remedy is
    to switch enforcement off around the migrations (the pragma only takes effect
    outside a transaction, so it comes first) and check the references afterwards.
    """
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken references: {broken[:5]}")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        _configure(url=url)
        with context.begin_transaction():
            context.run_migrations()
        return
    assert url, "set sqlalchemy.url (lyttepost sets it from DATABASE_URL)"
    asyncio.run(_run_async(url))


run()

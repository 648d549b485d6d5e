"""Shared fixtures: every storage-touching test runs on SQLite and on PostgreSQL.

PostgreSQL comes from LYTTEPOST_TEST_POSTGRES_URL (default: the local server at
127.0.0.1:5432, database ``test``). Without it the PostgreSQL variants are skipped
locally with a loud reason, and *fail* in CI (CI=true): they are never skipped silently.
The schema is migrated once per session; each test starts from truncated tables with
the 371 members seeded again.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory
from storage.migrate import prepare_database, upgrade_database
from storage.orm import Base
from storage.seed import seed_members

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The PostgreSQL server the tests use."""
    return os.environ.get("LYTTEPOST_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


async def _reachable(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None
    except Exception as error:  # any failure: report why
        return f"{type(error).__name__}: {error}"
    finally:
        await engine.dispose()


_postgres_state: dict[str, object] = {}


async def _postgres_ready() -> str:
    """Reset the schema once per session and migrate it; skip/fail if unreachable."""
    url = postgres_url()
    if "error" not in _postgres_state:
        problem = await _reachable(url)
        _postgres_state["error"] = problem
        if problem is None:
            engine = create_engine(url)
            async with engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
            await engine.dispose()
            await upgrade_database(url)
    problem = _postgres_state["error"]
    if problem:
        message = f"PostgreSQL at {url} is unreachable ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI requires it")
        pytest.skip(message + "; set LYTTEPOST_TEST_POSTGRES_URL")
    return url


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await connection.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty-of-data database URL; PostgreSQL has its schema but no rows."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    url = await _postgres_ready()
    await _truncate(url)
    return url


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    """A database at the newest schema with the members seeded."""
    if database_url.startswith("sqlite"):
        await prepare_database(database_url)
    else:
        engine = create_engine(database_url)
        async with session_factory(engine)() as session, session.begin():
            await seed_members(session)
        await engine.dispose()
    return database_url


@pytest.fixture
async def sessions(migrated_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a migrated, seeded database (SQLite and PostgreSQL)."""
    engine = create_engine(migrated_url)
    yield session_factory(engine)
    await engine.dispose()

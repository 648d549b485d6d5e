"""Shared fixtures: every storage-touching test runs on SQLite and on PostgreSQL.

PostgreSQL comes from LYTTEPOST_TEST_POSTGRES_URL (default: the local server at
127.0.0.1:5432, database ``test``). Without it the PostgreSQL variants are skipped
locally with a loud reason, and *fail* in CI (CI=true): they are never skipped silently.
Each test run creates a database of its own on that server (``lyttepost_test_<pid>_<random>``,
dropped when the run ends), so two runs on one server never disturb each other. The
schema is migrated once per run; each test starts from truncated tables with the 371
members seeded again.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
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


def _run_database_url(server_url: str) -> str:
    """This run's own database on the server: a fresh name, so parallel runs never meet."""
    name = f"lyttepost_test_{os.getpid()}_{secrets.token_hex(4)}"
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _create_database(server_url: str, run_url: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{make_url(run_url).database}"'))
    finally:
        await engine.dispose()


async def _drop_database(server_url: str, run_url: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text(f'DROP DATABASE IF EXISTS "{make_url(run_url).database}" WITH (FORCE)')
            )
    finally:
        await engine.dispose()


async def _postgres_ready() -> str:
    """Create and migrate this run's database once; skip/fail if the server is unreachable."""
    server_url = postgres_url()
    if "error" not in _postgres_state:
        problem = await _reachable(server_url)
        _postgres_state["error"] = problem
        if problem is None:
            run_url = _run_database_url(server_url)
            await _create_database(server_url, run_url)
            _postgres_state["url"] = run_url
            await upgrade_database(run_url)
    problem = _postgres_state["error"]
    if problem:
        message = f"PostgreSQL at {server_url} is unreachable ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI requires it")
        pytest.skip(message + "; set LYTTEPOST_TEST_POSTGRES_URL")
    return str(_postgres_state["url"])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this run's database (the server keeps only the shared ``test`` database)."""
    run_url = _postgres_state.get("url")
    if isinstance(run_url, str):
        asyncio.run(_drop_database(postgres_url(), run_url))


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


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium for one browser test (tests/browser_support.py)."""
    from tests.browser_support import chromium

    async with chromium() as launched:
        yield launched

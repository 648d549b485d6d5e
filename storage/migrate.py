"""Programmatic Alembic: upgrade to head, read the current revision, prepare from nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url

from storage.db import create_engine, session_factory
from storage.seed import SeedResult, seed_members

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for this database, independent of the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def known_revision(revision: str) -> bool:
    """Whether this code has a migration called ``revision`` (a newer one may not)."""
    try:
        return (
            ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision)
            is not None
        )
    except CommandError:
        return False


def _ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


async def upgrade_database(url: str) -> None:
    """Migrate the database to head (env.py opens its own async engine)."""
    _ensure_sqlite_folder(url)
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


async def current_revision(url: str) -> str | None:
    """The database's revision, or None for an empty database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


async def prepare_database(url: str) -> SeedResult:
    """Upgrade, then seed the members; running it twice changes nothing."""
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await seed_members(session)
    finally:
        await engine.dispose()

"""Setting a database up from nothing (and checking it is set up before running).

Alembic (``storage/migrate.py``) is imported by the functions that migrate or compare
revisions: every CLI command imports this module for ``SchemaNotReady``, and most of
them never look at a revision.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from services.surveys import register_shipped_surveys
from storage.db import create_engine, session_factory
from storage.orm import Organisation


class SchemaNotReady(RuntimeError):
    """The database is not at the schema this code expects."""


async def setup_database(url: str) -> dict[str, Any]:
    """Migrate, seed members and register shipped surveys; running it again changes nothing."""
    from storage.migrate import current_revision, prepare_database

    seeded = await prepare_database(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            registered = await register_shipped_surveys(session)
            organisations = await session.scalar(select(func.count(Organisation.id)))
            surveys = [
                {"key": r.version.key, "version": r.version.version, "created": r.created}
                for r in registered
            ]
    finally:
        await engine.dispose()
    return {
        "revision": await current_revision(url),
        "organisations": organisations,
        "organisations_inserted": seeded.inserted,
        "organisations_updated": seeded.updated,
        "surveys": surveys,
    }


async def require_current_schema(url: str) -> None:
    """Refuse to run on a database that ``lyttepost db upgrade`` has not prepared."""
    from storage.migrate import current_revision, head_revision

    current = await current_revision(url)
    head = head_revision()
    if current != head:
        raise SchemaNotReady(
            f"database schema is at {current or 'nothing'}, this version needs {head}: "
            "run 'lyttepost db upgrade' first"
        )

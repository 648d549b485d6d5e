"""Portable "insert, ignoring rows that already exist" for SQLite and PostgreSQL.

Idempotency rests on unique keys (update ids, outbox dedupe keys); both backends
support ``ON CONFLICT DO NOTHING``, but through dialect-specific constructs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import FromClause, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignoring_conflicts(
    session: AsyncSession,
    table: FromClause,
    rows: Sequence[dict[str, Any]],
    conflict_columns: Sequence[str],
    returning: str | tuple[str, ...] | None = None,
) -> list[Any]:
    """Insert rows, skipping those that clash on ``conflict_columns``.

    ``table`` is a mapped class's ``__table__`` (typed ``FromClause``; it is a ``Table``).
    Returns the ``returning`` column of the rows actually inserted (empty without it), or
    a tuple per row when ``returning`` names several columns.
    """
    if not isinstance(table, Table):
        raise TypeError(f"cannot insert into {table!r}: not a table")
    if not rows:
        return []
    names = (returning,) if isinstance(returning, str) else (returning or ())
    statement = _statement(
        session.get_bind().dialect.name, table, tuple(conflict_columns), tuple(names)
    )
    if returning is None:
        await session.execute(statement, list(rows))
        return []
    # Several rows with RETURNING go through SQLAlchemy's "insertmanyvalues": one cached
    # statement, sent as multi-row INSERTs on both backends; clashing rows return nothing.
    result = await session.execute(statement, list(rows))
    if isinstance(returning, str):
        return list(result.scalars())
    return [tuple(row) for row in result]


@functools.cache
def _statement(
    dialect: str, table: Table, conflict_columns: tuple[str, ...], returning: tuple[str, ...]
) -> Any:
    """The INSERT … ON CONFLICT DO NOTHING statement, built once: statements are immutable,
    and building one costs more than SQLite takes to run it."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
    if returning:
        return statement.returning(*(table.c[name] for name in returning))
    return statement

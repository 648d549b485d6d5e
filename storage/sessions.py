"""The type of a session factory, for code that holds one and passes it on.

Adapters in ``bot/`` hand sessions to ``services/`` and ``storage/`` without querying
the database themselves; they name the type through this alias instead of importing
SQLAlchemy (tests/test_architecture.py keeps it so).
"""

from __future__ import annotations

from typing import TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Sessions: TypeAlias = async_sessionmaker[AsyncSession]

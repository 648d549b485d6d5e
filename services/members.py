"""The member registry as staff read it: the 371 organisations, by code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.orm import Organisation


async def list_members(session: AsyncSession, county: str | None = None) -> list[dict[str, Any]]:
    """Every member organisation in code order, or those of one county (``46``, ``3``: ``03``)."""
    statement = select(Organisation).order_by(Organisation.code)
    if county:
        statement = statement.where(Organisation.county_code == county.zfill(2))
    return [
        {"org": o.code, "name": o.name, "kind": o.kind, "county": o.county_code,
         "county_name": o.county_name}
        for o in await session.scalars(statement)
    ]  # fmt: skip

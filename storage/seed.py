"""Seeding the member registry from the project's own copy of SSB's classification.

Every municipality and every county authority is a KS member; Oslo is both and one
organisation (code ``0301``), so the registry holds 357 + 15 - 1 = 371 members.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.orm import Organisation

SEED_DIR = Path(__file__).resolve().parent / "seed"
OSLO_MUNICIPALITY = "0301"
OSLO_COUNTY = "03"


@dataclass(frozen=True)
class Member:
    """One member organisation as the reference data describes it."""

    code: str
    name: str
    kind: str
    county_code: str
    county_name: str


@dataclass(frozen=True)
class SeedResult:
    """What seeding changed."""

    inserted: int
    updated: int
    total: int


def _rows(name: str) -> list[dict[str, str]]:
    with (SEED_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def reference_members() -> list[Member]:
    """The 371 members, from ``storage/seed/kommuner.csv`` and ``fylker.csv``."""
    counties = {row["fylkesnummer"]: row["navn"] for row in _rows("fylker.csv")}
    members = [
        Member(
            code=row["kommunenummer"],
            name=row["navn"],
            kind="kommune_og_fylkeskommune"
            if row["kommunenummer"] == OSLO_MUNICIPALITY
            else "kommune",
            county_code=row["fylkesnummer"],
            county_name=counties.get(row["fylkesnummer"], row["fylke"]),
        )
        for row in _rows("kommuner.csv")
    ]
    members += [
        Member(
            code=code,
            name=f"{name} fylkeskommune",
            kind="fylkeskommune",
            county_code=code,
            county_name=name,
        )
        for code, name in counties.items()
        if code != OSLO_COUNTY
    ]
    return members


def resolve_org_code(code: str) -> str:
    """Canonical member code: ``03`` is Oslo's ``0301``; ``301`` is ``0301``."""
    code = code.strip()
    if code == OSLO_COUNTY:
        return OSLO_MUNICIPALITY
    if code.isdigit() and len(code) == 3:
        return code.zfill(4)
    return code


async def seed_members(session: AsyncSession) -> SeedResult:
    """Insert or correct every member; running it again changes nothing."""
    existing = {org.code: org for org in await session.scalars(select(Organisation))}
    inserted = updated = 0
    members = reference_members()
    for member in members:
        row = existing.get(member.code)
        if row is None:
            session.add(
                Organisation(
                    code=member.code,
                    name=member.name,
                    kind=member.kind,
                    county_code=member.county_code,
                    county_name=member.county_name,
                )  # fmt: skip
            )
            inserted += 1
            continue
        values = (member.name, member.kind, member.county_code, member.county_name)
        if (row.name, row.kind, row.county_code, row.county_name) != values:
            row.name, row.kind, row.county_code, row.county_name = values
            updated += 1
    await session.flush()
    return SeedResult(inserted=inserted, updated=updated, total=len(members))

"""Survey versions: shipped files are registered in the database, rounds pin a version.

A survey file edited after a round opened gets a new version (by content hash); the
round keeps answering the version it was opened with.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.definition import (
    definition_hash,
    load_survey_file,
    load_survey_text,
    shipped_survey_files,
)
from dialogs.model import Survey
from storage.orm import SurveyVersion


@dataclass(frozen=True)
class Registered:
    """Outcome of registering a file: the version row and whether it is new."""

    version: SurveyVersion
    created: bool


async def register_survey_file(session: AsyncSession, path: Path) -> Registered:
    """Store the file's content as a new version unless that exact content is stored."""
    survey = load_survey_file(path)  # validates; raises SurveyDefinitionError
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    digest = definition_hash(text)
    existing = await session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.key == survey.key, SurveyVersion.content_hash == digest
        )
    )
    if existing is not None:
        return Registered(existing, created=False)
    latest = await session.scalar(
        select(func.max(SurveyVersion.version)).where(SurveyVersion.key == survey.key)
    )
    row = SurveyVersion(
        key=survey.key,
        version=(latest or 0) + 1,
        content_hash=digest,
        source_name=path.name,
        definition=text,
        title=survey.title,
    )
    session.add(row)
    await session.flush()
    return Registered(row, created=True)


async def register_shipped_surveys(session: AsyncSession) -> list[Registered]:
    """Register every survey file shipped in ``dialogs/surveys``."""
    return [await register_survey_file(session, path) for path in shipped_survey_files()]


async def latest_version(session: AsyncSession, key: str) -> SurveyVersion | None:
    """The newest stored version of a survey."""
    return await session.scalar(
        select(SurveyVersion)
        .where(SurveyVersion.key == key)
        .order_by(SurveyVersion.version.desc())
        .limit(1)
    )


class SurveyCatalog:
    """Compiled surveys by version id, parsed once per process (versions never change)."""

    def __init__(self) -> None:
        self._cache: dict[int, Survey] = {}

    async def get(self, session: AsyncSession, version_id: int) -> Survey:
        """The compiled survey of a stored version."""
        cached = self._cache.get(version_id)
        if cached is not None:
            return cached
        row = await session.get(SurveyVersion, version_id)
        if row is None:
            raise LookupError(f"survey version {version_id} does not exist")
        survey = load_survey_text(row.definition, f"{row.source_name} (version {row.version})")
        self._cache[version_id] = survey
        return survey


async def survey_versions(session: AsyncSession) -> list[dict[str, Any]]:
    """Every stored version of every survey, by key and version."""
    rows = await session.scalars(
        select(SurveyVersion).order_by(SurveyVersion.key, SurveyVersion.version)
    )
    return [
        {"key": r.key, "version": r.version, "title": r.title, "source": r.source_name,
         "id": r.id, "created_at": r.created_at.isoformat()}
        for r in rows
    ]  # fmt: skip

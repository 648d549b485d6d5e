"""Survey versions: files are registered in the database, rounds pin a version.

A survey file edited after a round opened gets a new version (by content hash); the
round keeps answering the version it was opened with. A version's definition is kept in
the database as YAML text, whatever the author uploaded (a YAML file or an XLSForm
workbook, converted), so every process reads every version the same way and a version
registered from any path outlives restarts and package upgrades.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.definition import (
    SurveyDefinitionError,
    SurveyProblem,
    SurveySource,
    definition_hash,
    load_survey_source,
    load_survey_text,
    shipped_survey_files,
)
from dialogs.model import Survey
from dialogs.xlsform import load_xlsform
from reports.xlsform import survey_workbook
from services import audit
from storage.orm import Round, SurveyVersion

MAX_UPLOAD_BYTES = 5_000_000  # a survey file is a few kB; this bounds what a parser sees
SurveyFormat = Literal["yaml", "xlsform"]


@dataclass(frozen=True)
class Registered:
    """Outcome of registering a file: the version row and whether it is new."""

    version: SurveyVersion
    created: bool


@dataclass(frozen=True)
class SurveyUpload:
    """A survey file read and checked: the compiled survey and the YAML text to store."""

    source: SurveySource
    definition: str
    format: SurveyFormat

    @property
    def survey(self) -> Survey:
        return self.source.survey


def _problem(filename: str, message: str) -> SurveyDefinitionError:
    return SurveyDefinitionError([SurveyProblem(filename, None, "", message)])


def read_upload(data: bytes, filename: str) -> SurveyUpload:
    """Read a survey file's bytes: an XLSForm workbook (.xlsx) or YAML. Raises
    ``SurveyDefinitionError`` listing every problem with its line, or sheet, row and column."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise _problem(filename, f"the file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB")
    suffix = PurePath(filename).suffix.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":  # Excel 97-2003
        raise _problem(filename, "an old .xls workbook; save it from Excel as .xlsx")
    if suffix in (".xlsx", ".xlsm") or data.startswith(b"PK\x03\x04"):
        workbook = load_xlsform(data, filename)
        return SurveyUpload(workbook.source, workbook.definition, "xlsform")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _problem(filename, "not a YAML text file (UTF-8) or an .xlsx workbook") from None
    return SurveyUpload(load_survey_source(text, filename), text, "yaml")


def validate(data: bytes, filename: str) -> list[SurveyProblem] | Survey:
    """The compiled survey, or every problem found (for a page that shows them all)."""
    try:
        return read_upload(data, filename).survey
    except SurveyDefinitionError as error:
        return list(error.problems)


async def _store(session: AsyncSession, survey: Survey, text: str, source_name: str) -> Registered:
    """Store the definition as a new version unless that exact content is stored."""
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
        source_name=source_name[:200],
        definition=text,
        title=survey.title[:200],
    )
    session.add(row)
    await session.flush()
    return Registered(row, created=True)


async def register(
    session: AsyncSession, data: bytes, filename: str, *, actor: audit.Actor, now: datetime
) -> Registered:
    """Register a survey file (YAML or XLSForm) from anywhere as the survey's newest version;
    nothing is stored if it has any problem (``SurveyDefinitionError``). Rounds that open
    from now on use it; open rounds keep theirs. A file that asks exactly what the newest
    version asks (an export uploaded unchanged, say) is that version, not a new one."""
    upload = read_upload(data, filename)
    if load_survey_text(upload.definition, filename) != upload.survey:
        raise RuntimeError(f"{filename}: the stored form would not compile to the same survey")
    newest = await latest_version(session, upload.survey.key)
    if newest is not None and _version_source(newest).survey == upload.survey:
        return Registered(newest, created=False)
    registered = await _store(session, upload.survey, upload.definition, PurePath(filename).name)
    if registered.created:
        row = registered.version
        audit.record(
            session, actor, "survey.register", f"survey:{row.key}", now,
            version=row.version, version_id=row.id, source=row.source_name,
            format=upload.format, questions=len(upload.survey.questions),
        )  # fmt: skip
    return registered


async def register_survey_file(session: AsyncSession, path: Path) -> Registered:
    """Store a shipped file's content as a new version unless that exact content is stored."""
    data = await asyncio.to_thread(path.read_bytes)
    upload = read_upload(data, str(path))  # validates; raises SurveyDefinitionError
    return await _store(session, upload.survey, upload.definition, path.name)


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


async def find_version(
    session: AsyncSession, key: str, version: int | None = None
) -> SurveyVersion | None:
    """A stored version by key and number; the newest when ``version`` is None."""
    if version is None:
        return await latest_version(session, key)
    return await session.scalar(
        select(SurveyVersion).where(SurveyVersion.key == key, SurveyVersion.version == version)
    )


def _version_source(row: SurveyVersion) -> SurveySource:
    return load_survey_source(row.definition, f"{row.source_name} (version {row.version})")


async def export_xlsform(
    session: AsyncSession, key: str, version: int | None = None
) -> tuple[SurveyVersion, bytes]:
    """A stored version (the newest by default) as an XLSForm workbook, for editing in
    Excel and registering again. ``LookupError`` if there is no such version."""
    row = await find_version(session, key, version)
    if row is None:
        which = f"version {version} of " if version is not None else ""
        raise LookupError(f"no {which}survey {key!r}")
    return row, await asyncio.to_thread(lambda: survey_workbook(_version_source(row)))


class SurveyCatalog:
    """Compiled surveys by version id, parsed once per process (versions never change)."""

    def __init__(self) -> None:
        self._cache: dict[int, Survey] = {}

    async def get(
        self, session: AsyncSession, version_id: int, language: str | None = None
    ) -> Survey:
        """The compiled survey of a stored version; with ``language``, its texts in that
        language (``Survey.in_language``: what a member reading it is shown)."""
        cached = self._cache.get(version_id)
        if cached is not None:
            return cached.in_language(language) if language else cached
        row = await session.get(SurveyVersion, version_id)
        if row is None:
            raise LookupError(f"survey version {version_id} does not exist")
        survey = load_survey_text(row.definition, f"{row.source_name} (version {row.version})")
        self._cache[version_id] = survey
        return survey.in_language(language) if language else survey


async def survey_versions(session: AsyncSession) -> list[dict[str, Any]]:
    """Every stored version of every survey, by key and version, with what uses it:
    ``newest`` (rounds that open from now on ask it) and its rounds by status."""
    rows = list(
        await session.scalars(
            select(SurveyVersion).order_by(SurveyVersion.key, SurveyVersion.version)
        )
    )
    rounds: dict[int, Counter[str]] = {}
    for version_id, status, count in await session.execute(
        select(Round.survey_version_id, Round.status, func.count(Round.id)).group_by(
            Round.survey_version_id, Round.status
        )
    ):
        rounds.setdefault(version_id, Counter())[status] = count
    newest = {r.key: r.id for r in rows}  # ordered by version: the last one wins
    return [
        {"key": r.key, "version": r.version, "title": r.title, "source": r.source_name,
         "id": r.id, "created_at": r.created_at.isoformat(), "newest": newest[r.key] == r.id,
         "rounds": dict(sorted(rounds.get(r.id, Counter()).items()))}
        for r in rows
    ]  # fmt: skip

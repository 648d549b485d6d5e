"""A round's summary as a publication draft: the report built, its files stored, its text ready.

Staff then edit the text, preview it in their own chat and publish it (``services/
publications.py``). Members get the short text, the key charts (areas, where
cooperation is needed, what members want from KS) and the full report as documents.

``build_report`` reads the round (``services/report_data.py``) and has ``reports/`` write
the files in a worker thread, since drawing charts takes CPU time the event loop should
not wait on.

Languages (issue 15): the report KS staff use is bokmål. A summary draft also gets the
text and files in each other member language someone reads (``member_languages``): the
text in ``Publication.translations``, the files as attachments tagged with their
``language``, so each recipient gets the set in their language
(``services/publications.attachments_for``).
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import MEMBER_LANGUAGES, SOURCE, speaking, t
from dialogs.messages import Attachment
from reports.build import ReportFiles, write_report
from reports.summary import DEFAULT_MIN_GROUP
from services import publications
from services.actions import round_actions_section
from services.report_data import build_summary
from services.surveys import SurveyCatalog
from services.trend_data import build_trends
from storage.files import store_file
from storage.orm import Contact, Organisation, Publication, Round

KEY_CHARTS = 3  # the first charts in reading order: areas, cooperation, then choices
REPORT_NAME = "lyttepost-oppsummering-runde-{round_id}"


async def build_report(
    session: AsyncSession,
    catalog: SurveyCatalog,
    round_id: int,
    directory: Path,
    zone: ZoneInfo,
    *,
    min_group: int = DEFAULT_MIN_GROUP,
    language: str = SOURCE,
) -> ReportFiles:
    """Summarise a round, with its trends against earlier rounds of the survey key, and write
    its report into ``directory`` in ``language``; ``LookupError`` if no round."""
    summary = await build_summary(
        session, catalog, round_id, min_group=min_group, language=language
    )
    trends = await build_trends(session, catalog, round_id, language=language)
    actions = await round_actions_section(session, catalog, round_id, language)
    return await asyncio.to_thread(
        write_report, summary, directory, zone, trends, actions=actions, language=language
    )


async def member_languages(session: AsyncSession) -> list[str]:
    """The member languages anyone reads (an organisation's, or a contact's own choice),
    bokmål always first: the languages a summary is written in."""
    found: set[str | None] = set(await session.scalars(select(Organisation.language).distinct()))
    found |= set(await session.scalars(select(Contact.language).distinct()))
    return [language for language in MEMBER_LANGUAGES if language == SOURCE or language in found]


async def draft_summary(
    session: AsyncSession,
    round_id: int,
    zone: ZoneInfo,
    *,
    actor: str,
    now: datetime,
    catalog: SurveyCatalog | None = None,
    keep_files_in: Path | None = None,
) -> Publication:
    """Build the report of a closed round and make it a draft, ready to preview."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise LookupError(round_id)
    if round_.status != "closed":
        raise publications.PublicationError(
            f"runde {round_id} er ikke stengt ennå; oppsummeringen lages når svarene er endelige"
        )
    catalog = catalog or SurveyCatalog()
    languages = await member_languages(session)
    if keep_files_in is not None:
        return await _draft_in(session, catalog, round_, keep_files_in, zone, languages, actor, now)
    with tempfile.TemporaryDirectory(prefix="lyttepost-report-") as folder:
        return await _draft_in(session, catalog, round_, Path(folder), zone, languages, actor, now)


async def _draft_in(
    session: AsyncSession,
    catalog: SurveyCatalog,
    round_: Round,
    folder: Path,
    zone: ZoneInfo,
    languages: list[str],
    actor: str,
    now: datetime,
) -> Publication:
    """The report in each language (bokmål in ``folder``, the others in ``folder/<lang>``),
    and the draft made from them."""
    files = {
        language: await build_report(
            session, catalog, round_.id, folder if language == SOURCE else folder / language,
            zone, language=language,
        )
        for language in languages
    }  # fmt: skip
    return await _draft(session, round_, files, actor=actor, now=now)


async def report_files(
    session: AsyncSession,
    round_id: int,
    folder: Path,
    zone: ZoneInfo,
    *,
    catalog: SurveyCatalog | None = None,
) -> ReportFiles:
    """A round's report written to ``folder`` (text, charts, workbook, PDF), without a draft.

    ``LookupError`` for no such round. Unlike ``draft_summary`` it does not wait for the
    round to close: staff may look at the figures so far."""
    return await build_report(session, catalog or SurveyCatalog(), round_id, folder, zone)


def _suffixed(filename: str, language: str) -> str:
    """``01-areas.png`` for bokmål, ``01-areas-nn.png`` for nynorsk: staff tell them apart."""
    if language == SOURCE:
        return filename
    stem, dot, extension = filename.rpartition(".")
    return f"{stem}-{language}{dot}{extension}" if dot else f"{filename}-{language}"


async def _attachments(
    session: AsyncSession, round_: Round, files: ReportFiles, language: str
) -> list[Attachment]:
    """The key charts, the workbook and the PDF of one language, stored; captions in it."""
    name = REPORT_NAME.format(round_id=round_.id)
    attachments: list[Attachment] = []
    for chart in files.charts[:KEY_CHARTS]:
        filename = _suffixed(chart.path.name, language)
        file_id = await store_file(session, filename, chart.path.read_bytes())
        attachments.append(
            Attachment(kind="photo", file_id=file_id, filename=filename, caption=chart.title)
        )
    with speaking(language):
        documents = [(files.workbook, f"{name}.xlsx", t("publications.summary.workbook_caption"))]
        if files.pdf is not None:
            documents.append((files.pdf, f"{name}.pdf", t("publications.summary.pdf_caption")))
    for path, filename, caption in documents:
        filename = _suffixed(filename, language)
        file_id = await store_file(session, filename, path.read_bytes())
        attachments.append(
            Attachment(kind="document", file_id=file_id, filename=filename, caption=caption)
        )
    return attachments


async def _draft(
    session: AsyncSession,
    round_: Round,
    files: dict[str, ReportFiles],
    *,
    actor: str,
    now: datetime,
) -> Publication:
    """The draft: bokmål's text and files, and each other language's text as a translation
    and its files as attachments tagged with the language (only when there are others, so
    a bokmål-only summary is stored as before)."""
    texts = {
        language: report.summary_text.read_text(encoding="utf-8").strip()
        for language, report in files.items()
    }
    several = len(files) > 1
    attachments: list[Attachment] = []
    tags: list[str | None] = []
    for language, report in files.items():
        made = await _attachments(session, round_, report, language)
        attachments += made
        tags += [language if several else None] * len(made)
    with speaking(SOURCE):
        title = t("publications.summary.title", round=round_.title)
    publication = await publications.create(
        session, kind="summary", title=title, text=texts[SOURCE],
        actor=actor, now=now, round_id=round_.id, attachments=attachments,
    )  # fmt: skip
    if several:
        publication.attachments = [
            {**stored, "language": tag}
            for stored, tag in zip(publication.attachments, tags, strict=True)
        ]
        publication.translations = {lang: text for lang, text in texts.items() if lang != SOURCE}
        await session.flush()
    return publication

"""A round's summary as a publication draft: the report built, its files stored, its text ready.

Staff then edit the text, preview it in their own chat and publish it (``services/
publications.py``). Members get the short text, the key charts (areas, where
cooperation is needed, what members want from KS) and the full report as documents.

``build_report`` reads the round (``services/report_data.py``) and has ``reports/`` write
the files in a worker thread, since drawing charts takes CPU time the event loop should
not wait on.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import SOURCE, texts_for
from dialogs.messages import Attachment
from reports.build import ReportFiles, write_report
from reports.summary import DEFAULT_MIN_GROUP
from services import publications
from services.actions import round_actions_section
from services.report_data import build_summary
from services.surveys import SurveyCatalog
from services.trend_data import build_trends
from storage.files import store_file
from storage.orm import Publication, Round

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
) -> ReportFiles:
    """Summarise a round, with its trends against earlier rounds of the survey key, and write
    its report into ``directory``; ``LookupError`` if no round."""
    summary = await build_summary(session, catalog, round_id, min_group=min_group)
    trends = await build_trends(session, catalog, round_id)
    actions = await round_actions_section(session, catalog, round_id)
    return await asyncio.to_thread(write_report, summary, directory, zone, trends, actions=actions)


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
    if keep_files_in is not None:
        files = await build_report(session, catalog, round_id, keep_files_in, zone)
        return await _draft(session, round_, files, actor=actor, now=now)
    with tempfile.TemporaryDirectory(prefix="lyttepost-report-") as folder:
        files = await build_report(session, catalog, round_id, Path(folder), zone)
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


async def _draft(
    session: AsyncSession, round_: Round, files: ReportFiles, *, actor: str, now: datetime
) -> Publication:
    name = REPORT_NAME.format(round_id=round_.id)
    attachments: list[Attachment] = []
    for chart in files.charts[:KEY_CHARTS]:
        file_id = await store_file(session, chart.path.name, chart.path.read_bytes())
        attachments.append(
            Attachment(kind="photo", file_id=file_id, filename=chart.path.name, caption=chart.title)
        )
    # Stored in bokmål, the source; each recipient gets them in their language when sent
    # (services.publications.messages_of).
    source = texts_for(SOURCE)
    documents = [
        (files.workbook, f"{name}.xlsx", source.text("publications.summary.workbook_caption"))
    ]
    if files.pdf is not None:
        documents.append(
            (files.pdf, f"{name}.pdf", source.text("publications.summary.pdf_caption"))
        )
    for path, filename, caption in documents:
        file_id = await store_file(session, filename, path.read_bytes())
        attachments.append(
            Attachment(kind="document", file_id=file_id, filename=filename, caption=caption)
        )
    text = files.summary_text.read_text(encoding="utf-8").strip()
    return await publications.create(
        session, kind="summary",
        title=source.text("publications.summary.title", round=round_.title), text=text,
        actor=actor, now=now, round_id=round_.id, attachments=attachments,
    )  # fmt: skip

"""Write every file of a round's report into one folder, from its summary.

``services/summaries.py`` (``build_report``) reads the round from the database and calls
``write_report`` in a worker thread, since drawing charts takes CPU time the event loop
should not wait on; nothing here touches the database.

``language`` writes the files in that language (``dialogs.i18n.speaking`` around every
text, chart, sheet and page): the bokmål report is what KS staff use; a summary
publication also gets one set per member language (``member_reports``), each in its own
folder, for recipients who read nynorsk or Sámi. The summary given must then be made from
the survey in the same language, so that area names and labels match the fixed texts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from dialogs.i18n import SOURCE, speaking
from reports.actions_section import ActionsSection
from reports.charts import Chart, render_charts
from reports.summary import RoundSummary
from reports.text import summary_text
from reports.trend_charts import render_trend_charts
from reports.trends import Trends, mark_new_areas

SUMMARY_JSON = "summary.json"
SUMMARY_TEXT = "summary.txt"
WORKBOOK = "report.xlsx"
PDF = "report.pdf"


@dataclass(frozen=True)
class ReportFiles:
    """The files of one report."""

    directory: Path
    summary_json: Path
    summary_text: Path
    charts: tuple[Chart, ...]
    workbook: Path
    pdf: Path | None

    def paths(self) -> list[Path]:
        """Every file written, in a stable order."""
        files = [
            self.summary_json,
            self.summary_text,
            *(c.path for c in self.charts),
            self.workbook,
        ]
        return files + ([self.pdf] if self.pdf else [])


def write_summary_json(
    summary: RoundSummary,
    path: Path,
    trends: Trends | None = None,
    actions: ActionsSection | None = None,
) -> Path:
    """The summary as pretty-printed UTF-8 JSON; ``trends`` only when the key was used before,
    each need with ``new_area`` (``reports/trends.py``), and KS's ``actions`` when given."""
    content = mark_new_areas(summary.to_json(), trends)
    content |= {"trends": trends.to_json()} if trends is not None else {}
    if actions is not None:
        content["actions"] = actions.to_json()
    document = json.dumps(content, ensure_ascii=False, indent=2)
    path.write_text(document + "\n", encoding="utf-8")
    return path


def write_report(
    summary: RoundSummary,
    directory: Path,
    zone: ZoneInfo,
    trends: Trends | None = None,
    *,
    actions: ActionsSection | None = None,
    language: str = SOURCE,
) -> ReportFiles:
    """Write every file of the report for a summary (synchronous; no database).

    ``trends`` (``reports/trends.py``): the round against the earlier rounds of its survey
    key, if any; they go into summary.json, the text and change charts after the others.
    ``actions``: what KS does with the round so far, a section of the text (and so of the
    PDF) when there are any, and ``summary.json``'s ``actions`` key.
    ``language``: the language of every text in the files (bokmål by default)."""
    with speaking(language):
        return _write_report(summary, directory, zone, trends, actions)


def _write_report(
    summary: RoundSummary,
    directory: Path,
    zone: ZoneInfo,
    trends: Trends | None,
    actions: ActionsSection | None,
) -> ReportFiles:
    # ReportLab and openpyxl load here, not with this module: the running bot imports it
    # at start and may never build a report.
    from reports.pdf import write_pdf
    from reports.workbook import write_workbook

    directory.mkdir(parents=True, exist_ok=True)
    json_path = write_summary_json(summary, directory / SUMMARY_JSON, trends, actions)
    text = summary_text(summary, zone, trends)
    if actions is not None and actions.actions:
        text += "\n\n" + actions.text()
    text_path = directory / SUMMARY_TEXT
    text_path.write_text(text + "\n", encoding="utf-8")
    charts = render_charts(summary, directory)
    charts += render_trend_charts(trends, directory, first_index=len(charts) + 1)
    workbook = write_workbook(summary, directory / WORKBOOK, zone=zone)
    pdf = write_pdf(summary, directory / PDF, text=text, charts=charts, zone=zone)
    return ReportFiles(directory, json_path, text_path, tuple(charts), workbook, pdf)

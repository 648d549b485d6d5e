"""``if_skipped``: what a skip of an optional yes/no question stands for (the shipped naming
question: no), from the definition through the engine to the stored answer."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from dialogs.definition import load_survey_source
from dialogs.engine import StepContext, step
from dialogs.events import Begin, Pressed
from dialogs.state import ResponseState
from reports.xlsform import survey_workbook
from tests.report_fixtures import current_survey
from tests.test_definition import load, problems

CONTEXT = StepContext(org_name="Drammen", contact_name="Kari", closes="1. mars")
NAMING = """
- id: navngi
  type: yesno
  text: Kan KS vise navnet?
  required: false
  if_skipped: false
"""


def test_a_skip_is_stored_as_the_answer_it_stands_for() -> None:
    survey = load(NAMING)
    started = step(survey, ResponseState(), Begin(), CONTEXT)
    skipped = step(survey, started.state, Pressed("c:skip"), CONTEXT)
    assert skipped.state.answers == {"navngi": False}
    answered = skipped.messages[0]
    assert answered.edit_only and "Nei" in answered.text  # the old message shows the no
    assert "Nei" in skipped.messages[-1].text  # and so does the review


def test_without_if_skipped_a_skip_stays_unanswered() -> None:
    survey = load(NAMING.replace("  if_skipped: false\n", ""))
    started = step(survey, ResponseState(), Begin(), CONTEXT)
    assert step(survey, started.state, Pressed("c:skip"), CONTEXT).state.answers == {"navngi": None}


def test_if_skipped_belongs_on_an_optional_yes_no_question() -> None:
    required = problems(NAMING.replace("  required: false\n", ""))
    assert [(field, message) for _, field, message in required] == [
        ("questions[0].if_skipped", "if_skipped belongs on a yesno question with required: false")
    ]
    on_text = problems(NAMING.replace("type: yesno", "type: text"))
    assert any(field == "questions[0].if_skipped" for _, field, _ in on_text)


def test_the_shipped_naming_question_stores_a_skip_as_no() -> None:
    naming = next(q for q in current_survey().questions if q.consent_to_name is not None)
    assert naming.if_skipped is False and not naming.required


def test_if_skipped_is_a_column_of_the_xlsform() -> None:
    source = load_survey_source(
        "key: naming-test\nversion: 1\ntitle: T\nintro: Hei\nreceipt: Takk\nquestions:\n"
        + "\n".join("  " + line for line in NAMING.strip().splitlines()),
        "t.yaml",
    )
    book = load_workbook(BytesIO(survey_workbook(source)))
    rows = [[c.value for c in row] for row in book["survey"].iter_rows()]
    header = rows[0]
    row = dict(zip(header, next(r for r in rows if r[1] == "navngi"), strict=True))
    assert row["lyttepost::if_skipped"] == "no"

"""Ranking and matrix questions: the definition format and the engine (plain calls)."""

from __future__ import annotations

import pytest

from dialogs.answers import format_answer
from dialogs.engine import is_engine_payload
from dialogs.events import Begin, Event
from dialogs.messages import MAX_PAYLOAD_BYTES
from dialogs.state import ResponseState
from tests.engine_fixtures import control, last, payloads, press, run, say
from tests.test_definition import load, problems
from tests.type_fixtures import ranking_and_matrix_survey

SURVEY = ranking_and_matrix_survey()
THREE_AREAS: list[Event] = [
    Begin(),
    press("t:omrader:digitalisering"),
    press("t:omrader:klima"),
    press("t:omrader:helse"),
    press("n:omrader"),
]


def at_ranking() -> ResponseState:
    state, _ = run(SURVEY, THREE_AREAS)
    assert state.current == "rekkefolge"
    return state


def at_matrix() -> ResponseState:
    state, _ = run(SURVEY, [say("3 1")], at_ranking())
    assert state.current == "hast"
    return state


# -- the definition format ---------------------------------------------------------------


def test_ranking_and_matrix_take_their_options_from_a_multi_question() -> None:
    ranking = SURVEY.question("rekkefolge")
    matrix = SURVEY.question("hast")
    assert ranking is not None and matrix is not None
    assert ranking.options_from == "omrader" and matrix.options_from == "omrader"
    assert [o.value for o in ranking.options] == ["digitalisering", "klima", "helse", "skole"]
    assert [o.label for o in matrix.choices({"omrader": ["helse", "klima"]})] == [
        "Klima og miljø",
        "Helse og omsorg",
    ]
    top = SURVEY.question("kanaler")
    assert top is not None and top.rank_count == 2 and top.options_from is None


def test_every_ranking_and_matrix_mistake_is_reported_with_line_and_field() -> None:
    found = problems(
        """
        - {id: areas, type: multi, text: Which, options: [{value: a, label: A}, {value: b, label: B}]}
        - {id: one, type: ranking, text: Rank}
        - id: two
          type: ranking
          text: Rank
          options_from: areas
          options: [{value: a, label: A}, {value: b, label: B}]
        - {id: three, type: ranking, text: Rank, options_from: nothing}
        - {id: four, type: ranking, text: Rank, options_from: areas, rank_count: 3}
        - {id: five, type: matrix, text: Rate, rows_from: areas, scale_min: 1, scale_max: 10}
        - {id: six, type: matrix, text: Rate, options_from: areas}
        - {id: seven, type: scale, text: Rate, rows_from: areas}
        - {id: eight, type: matrix, text: Rate, rows: [{value: A B, label: X}]}
        - {id: nine, type: yesno, text: Ok, when: {question: five, at_least: 3}}
        - {id: ten, type: ranking, text: Rank, options: [{value: a, label: A}]}
        """
    )
    assert found == [
        (9, "questions[1].options", "a ranking question needs options or options_from"),
        (13, "questions[2].options_from", "give either options or options_from, not both"),
        (15, "questions[3].options_from", "'nothing' is not an earlier multi question"),
        (16, "questions[4].rank_count", "need 1 <= rank_count <= 2 (options of 'areas')"),
        (17, "questions[5].scale_max", "need scale_min < scale_max, at most 7 numbers (one keyboard row)"),
        (18, "questions[6].options_from", "a matrix question takes rows or rows_from, not options_from"),
        (18, "questions[6].rows", "a matrix question needs rows or rows_from"),
        (19, "questions[7].rows_from", "rows_from is for ranking and matrix questions"),
        (20, "questions[8].rows[0].value", "must be 1-20 of a-z, 0-9 and '_'"),
        (21, "questions[9].when", "'five' is matrix: a condition on it can only use 'answered'"),
        (22, "questions[10].options", "a ranking question needs at least 2 options"),
    ]  # fmt: skip


def test_a_ranking_or_matrix_whose_buttons_would_not_fit_telegram_is_refused() -> None:
    long_id, value = "a" * 30, "v" * 20
    found = problems(
        f"""
        - id: {long_id}
          type: multi
          text: Which
          options: [{{value: {value}, label: V}}, {{value: b, label: B}}]
          followups_each:
            - {{id: rate, type: matrix, text: Rate, rows: [{{value: {value}, label: V}}]}}
        """
    )
    assert len(found) == 1 and found[0][1] == "questions[0].followups_each[0].id"
    assert f"m:{long_id}.{value}.rate:{value}:5" in found[0][2]
    for question in SURVEY.questions:
        for message_payload in (
            f"m:{question.id}:{o.value}:{question.scale_max}" for o in question.options
        ):
            assert len(message_payload.encode()) <= MAX_PAYLOAD_BYTES


def test_conditions_may_ask_whether_an_option_is_in_a_ranking() -> None:
    survey = load(
        """
        - {id: rank, type: ranking, text: Rank, rank_count: 1, options: [{value: a, label: A}, {value: b, label: B}]}
        - {id: why, type: text, text: "Why A?", when: {question: rank, includes: a}}
        """
    )
    assert [q.id for q in survey.asked_questions({"rank": ["a"]})] == ["rank", "why"]
    assert [q.id for q in survey.asked_questions({"rank": ["b"]})] == ["rank"]


# -- payloads ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [("r:q:v", True), ("m:q:row:3", True), ("m:q:row", True), ("r:12", False), ("r:", False)],
)
def test_ranking_and_matrix_payloads_are_the_engines_and_round_starts_are_not(
    payload: str, expected: bool
) -> None:
    assert is_engine_payload(payload) is expected


# -- ranking -----------------------------------------------------------------------------


def test_a_ranking_by_buttons_picks_in_order_unpicks_and_places_the_last_itself() -> None:
    state, results = run(
        SURVEY,
        [press("r:rekkefolge:helse"), press("r:rekkefolge:klima"), press("r:rekkefolge:klima")],
        at_ranking(),
    )
    assert state.selection == ["helse", "digitalisering"]
    shown = last(results[0])
    assert shown.replaces == "q:rekkefolge" and "1. Helse og omsorg" in shown.text
    assert [b.label for b in shown.all_buttons()][:3] == [
        "▫️ Digitalisering",
        "▫️ Klima og miljø",
        "1. Helse og omsorg",
    ]
    # Two of three picked: the third place is not a choice.
    assert results[1].state.selection == ["helse", "klima", "digitalisering"]
    state, results = run(SURVEY, [press("r:rekkefolge:klima"), press("n:rekkefolge")], state)
    assert state.answers["rekkefolge"] == ["helse", "digitalisering", "klima"]
    assert state.current == "hast" and state.selection == []


def test_an_incomplete_ranking_is_answered_inside_the_question_with_its_buttons() -> None:
    state, results = run(SURVEY, [press("r:rekkefolge:helse"), press("n:rekkefolge")], at_ranking())
    reply = last(results[-1])
    assert reply.text.startswith("Velg 3 alternativer i rekkefølge")
    assert "r:rekkefolge:klima" in payloads(reply) and "n:rekkefolge" in payloads(reply)
    assert state.selection == ["helse"] and "rekkefolge" not in state.answers


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3 1 2", ["helse", "digitalisering", "klima"]),
        ("3 1", ["helse", "digitalisering", "klima"]),
        ("Klima og miljø, helse og omsorg, Digitalisering", ["klima", "helse", "digitalisering"]),
        ("klima > digitalisering", ["klima", "digitalisering", "helse"]),
    ],
)
def test_a_ranking_can_be_written_as_numbers_or_names(typed: str, expected: list[str]) -> None:
    state, _ = run(SURVEY, [say(typed)], at_ranking())
    assert state.answers["rekkefolge"] == expected


@pytest.mark.parametrize("typed", ["1 1 2", "4 1 2", "1", "Skole, Helse", "hei"])
def test_an_unusable_written_ranking_is_asked_again_with_the_buttons(typed: str) -> None:
    state, results = run(SURVEY, [say(typed)], at_ranking())
    reply = last(results[-1])
    assert reply.text.startswith("Skriv alle alternativene i rekkefølge")
    assert "r:rekkefolge:helse" in payloads(reply)
    assert "rekkefolge" not in state.answers


def test_a_top_two_ranking_refuses_a_third_pick_and_can_be_skipped() -> None:
    state, _ = run(SURVEY, [say("1 2 3"), say("1 1 1")], at_matrix())
    assert state.current == "kanaler"
    state, results = run(
        SURVEY,
        [press("r:kanaler:mote"), press("r:kanaler:chat"), press("r:kanaler:epost")],
        state,
    )
    assert last(results[-1]).text.startswith("Du har allerede valgt 2 alternativer")
    assert state.selection == ["mote", "chat"]
    done, _ = run(SURVEY, [press("n:kanaler")], state)
    assert done.answers["kanaler"] == ["mote", "chat"] and done.phase == "reviewing"
    skipped, _ = run(SURVEY, [control("skip")], state)
    assert skipped.answers["kanaler"] is None


def test_with_one_area_chosen_the_ranking_is_not_asked_but_the_matrix_is() -> None:
    state, results = run(SURVEY, [Begin(), press("t:omrader:skole"), press("n:omrader")])
    assert state.current == "hast"
    assert [q.id for q in SURVEY.asked_questions(state.answers)] == ["omrader", "hast", "kanaler"]
    assert payloads(last(results[-1]))[:6] == ["m:hast:skole"] + [
        f"m:hast:skole:{n}" for n in range(1, 6)
    ]


# -- matrix ------------------------------------------------------------------------------


def test_a_matrix_by_buttons_is_one_message_with_one_keyboard_row_per_row() -> None:
    state = at_matrix()
    _, results = run(SURVEY, [], state)
    state, results = run(
        SURVEY, [press("m:hast:klima:2"), press("m:hast:klima:4"), press("m:hast:helse:5")], state
    )
    shown = last(results[-1])
    assert shown.replaces == "q:hast" and shown.labelled_rows == (0, 1, 2)
    assert [b.label for b in shown.buttons[1]] == ["Klima og miljø", "1", "2", "3", "✓4", "5"]
    assert all(len(row) <= 8 for row in shown.buttons)
    assert "• Klima og miljø: 4" in shown.text and "• Digitalisering: –" in shown.text
    assert state.grid == {"klima": 4, "helse": 5}
    state, results = run(SURVEY, [press("n:hast")], state)
    reply = last(results[-1])
    assert reply.text.startswith("Mangler svar for: Digitalisering.")
    assert "m:hast:digitalisering:1" in payloads(reply)
    state, _ = run(SURVEY, [press("m:hast:digitalisering:3"), press("n:hast")], state)
    assert state.answers["hast"] == {"digitalisering": 3, "klima": 4, "helse": 5}
    assert state.current == "kanaler" and state.grid == {}


def test_a_matrix_row_label_explains_and_a_number_off_the_scale_is_unknown() -> None:
    state, results = run(
        SURVEY,
        [press("m:hast:klima"), press("m:hast:klima:9"), press("m:hast:skole:2")],
        at_matrix(),
    )
    assert last(results[0]).text.startswith(
        "Trykk et tall fra 1 til 5 på raden for Klima og miljø."
    )
    assert last(results[1]).text.startswith("Den knappen kjenner jeg ikke igjen.")
    assert last(results[2]).text.startswith("Den knappen kjenner jeg ikke igjen.")
    assert "m:hast:helse:5" in payloads(last(results[2])) and state.grid == {}


def test_a_matrix_can_be_written_in_row_order_or_row_by_row() -> None:
    state, _ = run(SURVEY, [say("4 5 2")], at_matrix())
    assert state.answers["hast"] == {"digitalisering": 4, "klima": 5, "helse": 2}
    state, results = run(
        SURVEY, [say("Digitalisering 4"), say("klima og miljø: 2, 3 1")], at_matrix()
    )
    first = last(results[0])
    assert first.replaces is None and "• Digitalisering: 4" in first.text
    assert results[0].state.grid == {"digitalisering": 4}
    assert state.answers["hast"] == {"digitalisering": 4, "klima": 2, "helse": 1}


@pytest.mark.parametrize("typed", ["4 5", "4 5 9", "Skole 3", "Digitalisering", "mye"])
def test_an_unusable_written_matrix_is_asked_again_with_the_keyboard(typed: str) -> None:
    state, results = run(SURVEY, [say(typed)], at_matrix())
    reply = last(results[-1])
    assert reply.text.startswith("Skriv 3 tall fra 1 til 5")
    assert "m:hast:klima:3" in payloads(reply) and "hast" not in state.answers


def test_half_a_matrix_survives_a_pause_and_a_json_round_trip() -> None:
    state, _ = run(SURVEY, [press("m:hast:helse:2"), control("pause")], at_matrix())
    stored = ResponseState.model_validate_json(state.model_dump_json())
    assert stored.grid == {"helse": 2}
    state, results = run(SURVEY, [Begin()], stored)
    assert "• Helse og omsorg: 2" in last(results[-1]).text and state.grid == {"helse": 2}


# -- edits and what is stored ------------------------------------------------------------


def test_changing_the_areas_asks_the_ranking_and_matrix_again_and_drops_stale_answers() -> None:
    state, _ = run(SURVEY, [say("3 1 2"), say("4 5 2"), control("skip")], at_ranking())
    assert state.phase == "reviewing"
    state, results = run(
        SURVEY, [press("e:omrader"), press("t:omrader:klima"), press("n:omrader")], state
    )
    # The old ranking held klima: it no longer fits, so it is asked again, started afresh;
    # the matrix keeps the rows still chosen.
    assert state.current == "rekkefolge" and state.selection == []
    state, results = run(SURVEY, [say("2 1")], state)
    assert state.current == "hast" and state.grid == {"digitalisering": 4, "helse": 2}
    state, _ = run(SURVEY, [press("n:hast"), control("submit")], state)
    assert state.phase == "submitted"
    assert state.answers["rekkefolge"] == ["helse", "digitalisering"]
    assert state.answers["hast"] == {"digitalisering": 4, "helse": 2}
    assert SURVEY.effective_answers(
        {"omrader": ["helse"], "rekkefolge": ["helse", "klima"], "hast": {"helse": 1, "klima": 2}}
    ) == {"omrader": ["helse"]}


def test_answers_read_as_an_ordered_list_and_rows_with_their_numbers() -> None:
    ranking, matrix = SURVEY.question("rekkefolge"), SURVEY.question("hast")
    assert ranking is not None and matrix is not None
    assert format_answer(ranking, ["helse", "klima"]) == "1. Helse og omsorg, 2. Klima og miljø"
    assert (
        format_answer(matrix, {"helse": 4, "klima": 2}) == "Helse og omsorg: 4; Klima og miljø: 2"
    )


# -- XLSForm -----------------------------------------------------------------------------

RANKINGS_ONLY = """\
key: rangering
version: 1
title: Rangering
intro: Hei
receipt: Takk
questions:
  - id: omrader
    type: multi
    text: Hvilke?
    options: [{value: a, label: Alfa}, {value: b, label: Beta}, {value: c, label: Gamma}]
  - {id: rekke, type: ranking, text: Ranger dem, options_from: omrader}
  - id: kanal
    type: ranking
    text: De to beste?
    rank_count: 2
    required: false
    options: [{value: x, label: X}, {value: y, label: Y}, {value: z, label: Z}]
  - {id: hvorfor, type: text, text: "Hvorfor X?", when: {question: kanal, includes: x}}
"""


def test_a_ranking_is_xlsform_rank_and_survives_the_round_trip() -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from dialogs.definition import load_survey_source
    from reports.xlsform import survey_workbook
    from tests.test_xlsform import roundtrip

    roundtrip(RANKINGS_ONLY)
    book = load_workbook(BytesIO(survey_workbook(load_survey_source(RANKINGS_ONLY, "r.yaml"))))
    rows = [[c.value for c in row] for row in book["survey"].iter_rows()]
    named = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[1]}
    assert named["rekke"]["type"] == "rank rekke"
    assert named["rekke"]["choice_filter"] == "selected(${omrader}, name)"
    assert named["kanal"]["type"] == "rank kanal" and named["kanal"]["lyttepost::rank_count"] == 2
    assert named["hvorfor"]["relevant"] == "selected(${kanal}, 'x')"


def test_a_matrix_has_no_xlsform_form_and_the_export_says_so() -> None:
    from dialogs.definition import load_survey_source
    from dialogs.xlsform import XlsformUnsupported
    from reports.xlsform import survey_workbook
    from tests.type_fixtures import RANKING_AND_MATRIX

    source = load_survey_source(RANKING_AND_MATRIX.read_text(encoding="utf-8"), "m.yaml")
    with pytest.raises(XlsformUnsupported, match="'hast' is a matrix.*keep this survey as YAML"):
        survey_workbook(source)


def test_a_bad_rank_filter_is_reported_at_its_sheet_row_and_column() -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from dialogs.definition import SurveyDefinitionError, load_survey_source
    from dialogs.xlsform import load_xlsform
    from reports.xlsform import survey_workbook

    book = load_workbook(BytesIO(survey_workbook(load_survey_source(RANKINGS_ONLY, "r.yaml"))))
    sheet = book["survey"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "rekke")
    row[header.index("choice_filter")].value = "name != 'a'"
    row[header.index("lyttepost::rank_count")].value = "to"
    data = BytesIO()
    book.save(data)
    with pytest.raises(SurveyDefinitionError) as caught:
        load_xlsform(data.getvalue(), "r.xlsx")
    assert str(caught.value).splitlines() == [
        "r.xlsx: sheet survey, row 3, column choice_filter: the only filter is "
        "selected(${question}, name): rank what was chosen there",
        "r.xlsx: sheet survey, row 3, column lyttepost::rank_count: write a whole number",
    ]


def test_the_export_gives_a_matrix_one_number_column_per_row() -> None:
    from services.export import render

    documents = [{"org": "3301", "org_name": "Drammen", "county": "Buskerud", "contact_id": 1,
                  "contact_name": "Kari", "status": "submitted", "started_at": None,
                  "submitted_at": None,
                  "answers": [{"question": "omrader", "value": ["klima", "helse"]},
                              {"question": "rekkefolge", "value": ["helse", "klima"]},
                              {"question": "hast", "value": {"klima": 2, "helse": 5}}]}]  # fmt: skip
    lines = render(SURVEY, documents, "csv").decode().splitlines()
    header = lines[0].split(",")
    assert header[8:] == ["omrader", "rekkefolge", "hast.digitalisering", "hast.klima",
                          "hast.helse", "hast.skole", "kanaler",
                          "uendret_siden_forrige_runde"]  # fmt: skip
    assert lines[1].endswith('"1. Helse og omsorg, 2. Klima og miljø",,2,5,,,')


# -- the console and the demo's answerer --------------------------------------------------


def test_the_console_shows_a_matrix_as_one_numbered_line_per_row() -> None:
    from bot import console

    state = at_matrix()
    _, results = run(SURVEY, [press("m:hast:klima:3")], state)
    message = last(results[-1])
    shown = console.render(message)
    assert "Klima og miljø:   [6] 1   [7] 2   [8] ✓3   [9] 4   [10] 5" in shown
    numbered = console._numbered(message)
    assert numbered[7].payload == "m:hast:klima:3" and numbered[15].payload == "n:hast"


def test_the_demo_answerer_gets_through_rankings_and_matrices() -> None:
    from bot.console_session import choose_answer, middle

    state, results = run(SURVEY, [Begin()])
    for _ in range(40):
        if state.phase == "reviewing":
            break
        message = last(results[-1])
        payload = choose_answer([(b.label, b.payload) for b in message.all_buttons()], middle)
        assert payload is not None
        state, results = run(SURVEY, [press(payload)], state)
    assert state.phase == "reviewing"
    assert SURVEY.question("hast") is not None
    assert set(state.answers["hast"]) == set(state.answers["omrader"])  # type: ignore[arg-type]
    assert len(state.answers["kanaler"]) == 2  # type: ignore[arg-type]


def test_a_ranking_whose_buttons_would_not_fit_telegram_is_refused() -> None:
    long_id, value = "a" * 30, "v" * 20
    found = problems(
        f"""
        - id: {long_id}
          type: multi
          text: Which
          options: [{{value: {value}, label: V}}, {{value: b, label: B}}]
          followups_each:
            - {{id: rangering1, type: ranking, text: Rank, options: [{{value: {value}, label: V}}, {{value: b, label: B}}]}}
        """
    )
    # once per option of the multi question (each compiles its own copy of the ranking)
    assert [field for _, field, _ in found] == ["questions[0].followups_each[0].id"] * 2
    assert f"r:{long_id}.{value}.rangering1:{value}" in found[0][2]
    assert "longer than 64 bytes" in found[0][2]

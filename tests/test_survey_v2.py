"""The shipped survey, version 3 of the file (the third revision KS asked for): what it
says, what it asks, how long it is, and that a member who reads only the newest message
gets through it with a counter that never jumps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from dialogs.definition import load_survey_file, shipped_survey_files
from dialogs.engine import step
from dialogs.events import Begin, Event, Pressed, TextEntered
from dialogs.messages import OutgoingMessage
from dialogs.model import Survey
from dialogs.privacy import retention_text
from dialogs.progress import remaining
from dialogs.state import ResponseState
from reports.summary import (
    OrgFacts,
    ResponseFacts,
    RoundInfo,
    consent_question,
    needs_of,
    summarise,
)
from services.surveys import SurveyCatalog, register_shipped_surveys, register_survey_file
from tests.engine_fixtures import CONTEXT
from tests.report_fixtures import PREVIOUS_SURVEY
from tests.shipped_walk import Member

SURVEY = load_survey_file(shipped_survey_files()[0])
CLOSES = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
AREAS = [o.value for o in SURVEY.question("omrader").options]  # type: ignore[union-attr]


def walk(
    member: Member, limit: int = 60, survey: Survey = SURVEY
) -> tuple[ResponseState, list[OutgoingMessage]]:
    """Answer from the newest message only, until submitted."""
    state = ResponseState()
    result = step(survey, state, Begin(), CONTEXT)
    sent = list(result.messages)
    for _ in range(limit):
        newest = result.messages[-1]
        kind, value = member.next_move(newest.text, [b.payload for b in newest.all_buttons()])
        event: Event = Pressed(value) if kind == "press" else TextEntered(value)
        result = step(survey, result.state, event, CONTEXT)
        sent += result.messages
        if result.submitted:
            return result.state, sent
    raise AssertionError(f"stuck after {limit} steps on {result.messages[-1].text!r}")


def test_the_opening_says_how_long_who_sees_how_long_kept_and_how_to_pause() -> None:
    intro = " ".join(step(SURVEY, ResponseState(), Begin(), CONTEXT).messages[0].text.split())
    assert "omtrent fem minutter" in intro
    assert "ansatte i KS" in intro and "med navnet Drammen kommune" in intro
    assert "Andre medlemmer ser bare tall" in intro and "sier ja til det" in intro
    assert "slettes en fast tid (se /personvern) etter at runden er stengt" in intro
    assert "/personvern" in intro
    assert "Pause" in intro and "/svar" in intro


def test_annet_is_a_seventh_area_with_its_own_free_text() -> None:
    areas = SURVEY.question("omrader")
    assert areas is not None and len(areas.options) == 7 and areas.options[-1].value == "annet"
    need = SURVEY.question("omrader.annet.behov")
    assert need is not None and need.type == "text" and need.text.startswith("Annet")


def test_who_is_needed_is_one_single_choice() -> None:
    question = SURVEY.question("omrader.helse.losning")
    assert question is not None and question.type == "single"
    assert [o.value for o in question.options] == ["alene", "naboer", "ks", "staten"]
    assert not [q for q in SURVEY.questions if q.template in ("alene", "hvem")]


def test_satisfaction_is_about_the_last_quarter() -> None:
    question = SURVEY.question("fornoyd")
    assert question is not None and "siste kvartalet" in question.text


def test_naming_covers_every_free_text_and_skipping_it_is_no() -> None:
    assert consent_question(SURVEY) == ("navngi", "free_text")
    state, _ = walk(Member(("helse",), skip_naming=True))
    assert state.phase == "submitted"
    assert state.answers["navngi"] is False  # a skip is stored as no (if_skipped)
    naming = SURVEY.question("navngi")
    assert naming is not None and "hopper over" in naming.text


@pytest.mark.parametrize(
    "areas",
    [
        ("digitalisering",),
        ("okonomi", "helse"),
        ("digitalisering", "okonomi", "struktur"),
        ("oppvekst", "arbeidsgiver", "annet"),
        ("helse",),
    ],
)
def test_a_member_reading_only_the_newest_message_gets_through(areas: tuple[str, ...]) -> None:
    member = Member(areas)
    state, _ = walk(member)
    assert state.phase == "submitted"
    assert state.answers["omrader"] == [a for a in AREAS if a in areas]
    positions = [p for p, _ in member.seen]
    estimates = [e for _, e in member.seen]
    assert positions == list(range(1, len(positions) + 1))  # one more per new question
    assert estimates == sorted(estimates, reverse=True), member.seen  # never jumps up
    if len(areas) == 3:
        assert len(positions) <= 15
        assert estimates[0] == 14  # the first question's estimate is the three-area path


def test_three_areas_make_at_most_fifteen_questions_on_the_common_path() -> None:
    answers = {"omrader": ["digitalisering", "okonomi", "struktur"], "fornoyd": 4}
    asked = [q for q in SURVEY.asked_questions(answers) if q.id != "fornoyd_hvorfor"]
    assert len(asked) == 15


def test_the_estimate_before_choosing_areas_is_never_below_what_follows() -> None:
    first = SURVEY.questions[0]
    before = remaining(SURVEY, {}, first)
    for count in (1, 2, 3):
        chosen = {"omrader": AREAS[:count]}
        assert remaining(SURVEY, chosen, first) <= before


def test_reports_read_the_single_choice_as_alone_or_who_is_needed() -> None:
    org = OrgFacts("3005", "Drammen kommune", "33", "Buskerud")
    answers = {
        "omrader": ["helse", "annet"],
        "omrader.helse.behov": "Flere sykepleiere",
        "omrader.helse.haster": 4,
        "omrader.helse.losning": "naboer",
        "omrader.annet.behov": "Beredskap ved flom",
        "omrader.annet.haster": 2,
        "omrader.annet.losning": "alene",
        "fra_ks": ["kunnskap"], "fornoyd": 4, "kontakt": True, "navngi": None,
    }  # fmt: skip
    response = ResponseFacts(org, "submitted", answers)
    helse, annet = needs_of(SURVEY, response)
    assert (helse.area, helse.can_solve_alone, helse.help_from) == (
        "helse", False, ("Med nabokommuner eller regionen",)
    )  # fmt: skip
    assert (annet.area, annet.can_solve_alone, annet.help_from) == ("annet", True, ())
    assert helse.org_name is None  # the naming question was skipped: no name
    info = RoundInfo(1, "Runde", "closed", CLOSES)
    summary = summarise(SURVEY, info, [response], [org], min_group=1)
    (group,) = summary.area_groups
    by_area = {a.value: a for a in group.areas}
    assert (by_area["helse"].needs_cooperation, by_area["annet"].needs_cooperation) == (1, 0)
    assert "Vi kan løse det alene" not in group.help_from_labels
    assert {o.label: o.count for o in by_area["helse"].help_from}[
        "Med nabokommuner eller regionen"
    ] == 1
    shown = {q.id for q in summary.questions}
    assert not any(".losning" in question_id for question_id in shown)


async def test_rounds_on_the_previous_version_keep_it_after_the_new_file_is_registered(
    sessions,
) -> None:
    """A database that registered the previous file (a deployment before this revision)
    gets the revised file as a new version; the old one stays, verbatim, for its rounds."""
    async with sessions.begin() as session:
        old = (await register_survey_file(session, PREVIOUS_SURVEY)).version
        (new,) = await register_shipped_surveys(session)
        assert new.created and new.version.version == old.version + 1
        assert (await register_shipped_surveys(session))[0].version.id == new.version.id
        assert old.definition == PREVIOUS_SURVEY.read_text(encoding="utf-8")
        old_id, new_id = old.id, new.version.id
    async with sessions() as session:
        catalog = SurveyCatalog()
        before, after = await catalog.get(session, old_id), await catalog.get(session, new_id)
    assert before.question("omrader.helse.alene") is not None
    assert before.question("omrader.helse.losning") is None
    assert after == SURVEY and after.question("omrader.helse.alene") is None


def test_the_opening_states_the_rounds_retention() -> None:
    context = replace(CONTEXT, retention=retention_text(18))
    intro = " ".join(step(SURVEY, ResponseState(), Begin(), context).messages[0].text.split())
    assert "slettes 18 måneder etter at runden er stengt" in intro

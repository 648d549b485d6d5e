"""The engine keeps the chat free of scrolling: an answered question's message is edited
to show the answer without buttons, the review too once submitted, and the counter shows
the position and a stable estimate of what is left (``dialogs/progress.py``)."""

from __future__ import annotations

import pytest

from dialogs import texts
from dialogs.definition import load_survey_file, shipped_survey_files
from dialogs.messages import OutgoingMessage, one_call_each
from dialogs.progress import position, remaining, typical_selection
from dialogs.state import ResponseState
from tests.engine_fixtures import begun, control, full_survey, press, run, say
from tests.report_fixtures import PREVIOUS_SURVEY
from tests.shipped_walk import Member
from tests.test_survey_v2 import walk

SURVEY = full_survey()


def edits(messages: list[OutgoingMessage]) -> list[OutgoingMessage]:
    return [m for m in messages if m.edit_only]


def test_a_pressed_answer_edits_the_question_before_the_next_one_comes() -> None:
    state = begun(SURVEY)
    state, results = run(SURVEY, [press("t:areas:helse"), press("n:areas")], state)
    toggled, (answered, following) = results[0].messages, results[1].messages
    # A toggle is an ordinary replacement with buttons; never edit_only.
    assert [(m.replaces, m.edit_only, bool(m.buttons)) for m in toggled] == [
        ("q:areas", False, True)
    ]
    assert answered == OutgoingMessage(
        text="Hvilke områder er viktigst for Drammen kommune nå?\n\n✓ Svar: Helse og omsorg",
        replaces="q:areas",
        edit_only=True,
    )
    assert following.key == "q:why_helse" and following.replaces is None


def test_a_typed_answer_and_a_skip_edit_the_question_too() -> None:
    state, results = run(
        SURVEY,
        [
            press("t:areas:helse"), press("n:areas"), say("Flere sykepleiere"),
            press("a:urgency:4"), press("a:help:nei"), control("skip"),
        ],
        begun(SURVEY),
    )  # fmt: skip
    typed = edits(results[2].messages)
    assert [m.text for m in typed] == [
        "Hva trenger Drammen kommune mest innen helse og omsorg?\n\n✓ Svar: Flere sykepleiere"
    ]
    assert edits(results[4].messages)[0].text.endswith("✓ Svar: Nei")
    skipped = edits(results[5].messages)
    assert skipped[0].replaces == "q:staff" and skipped[0].text.endswith(texts.ANSWER_SKIPPED)


def test_input_the_engine_cannot_use_edits_nothing() -> None:
    state = begun(SURVEY)
    for event in (say("tja"), press("a:areas:helse"), press("t:areas:nope")):
        result = run(SURVEY, [event], state)[1][0]
        assert edits(result.messages) == [] and result.messages[-1].buttons


def test_a_question_reopened_from_the_review_is_shown_anew_and_edited_once_answered() -> None:
    walked = [
        press("t:areas:helse"), press("n:areas"), say("Flere sykepleiere"), press("a:urgency:4"),
        press("a:help:ja"), press("a:help_kind:kurs"), say("1 000"), say("12,5"), control("skip"),
    ]  # fmt: skip
    state, _ = run(SURVEY, walked, begun(SURVEY))
    assert state.phase == "reviewing"
    reopened = run(SURVEY, [press("e:urgency")], state)[1][0]
    (question,) = reopened.messages
    assert question.key == "q:urgency" and question.replaces is None and question.buttons
    assert question.text.startswith("Spørsmål 3 · snart ferdig\n")  # nothing else is missing
    done = run(SURVEY, [press("a:urgency:2")], reopened.state)[1][0]
    answered, review = done.messages
    assert answered.edit_only and answered.text.endswith("✓ Svar: 2")
    assert review.key == "review" and review.buttons


def test_submitting_takes_the_buttons_off_the_review() -> None:
    walked = [
        press("t:areas:helse"), press("n:areas"), say("Flere sykepleiere"), press("a:urgency:4"),
        press("a:help:nei"), say("1 000"), say("12,5"), control("skip"), control("submit"),
    ]  # fmt: skip
    state, results = run(SURVEY, walked, begun(SURVEY))
    assert state.phase == "submitted"
    review, receipt = results[-1].messages
    assert review.replaces == "review" and review.edit_only and review.buttons == ()
    assert review.text.startswith(texts.REVIEW_HEADER)
    assert review.text.endswith(f"\n\n{texts.REVIEW_SUBMITTED}")
    assert texts.REVIEW_READY not in review.text
    assert receipt.text == "Takk! Svaret for Drammen kommune er sendt inn."


def test_an_edit_is_one_platform_call_however_long() -> None:
    long_edit = OutgoingMessage(text="x" * 5000, replaces="q:a", edit_only=True)
    (part,) = one_call_each(long_edit, "telegram")
    assert part.edit_only and len(part.text) == 4096


def test_the_estimate_is_pure_and_counts_a_typical_selection_before_the_answer() -> None:
    areas = SURVEY.questions[0]
    assert typical_selection(areas) == 3  # max_select
    assert remaining(SURVEY, {}, areas) == 7  # 3 of 4 areas have 2 follow-ups: 1.5, + 5
    assert remaining(SURVEY, {"areas": ["helse", "skole"]}, areas) == 7
    assert remaining(SURVEY, {"areas": ["klima"]}, areas) == 5
    assert position(SURVEY, {"areas": ["helse"]}, SURVEY.questions[1]) == 2
    urgency = SURVEY.question("urgency")
    assert urgency is not None
    answered_after = {"areas": ["helse"], "why_helse": "x", "help": True, "staff": 1}
    assert remaining(SURVEY, answered_after, urgency, unanswered_only=True) == 3


@pytest.mark.parametrize("skip_naming", [False, True])
@pytest.mark.parametrize("count", range(1, 4))
def test_estimates_never_rise_along_whole_walks_of_both_shipped_versions(
    count: int, skip_naming: bool
) -> None:
    current = load_survey_file(shipped_survey_files()[0])
    previous = load_survey_file(PREVIOUS_SURVEY)
    for survey in (current, previous):
        values = [o.value for o in survey.questions[0].options]
        for start in range(len(values) - count + 1):
            member = Member(tuple(values[start : start + count]), skip_naming=skip_naming)
            state, _ = walk(member, survey=survey)
            assert state.phase == "submitted"
            estimates = [e for _, e in member.seen]
            assert estimates == sorted(estimates, reverse=True), (survey.version, member.seen)
            positions = [p for p, _ in member.seen]
            assert positions == list(range(1, len(positions) + 1))


def test_a_fresh_state_starts_at_one() -> None:
    survey = load_survey_file(shipped_survey_files()[0])
    assert position(survey, ResponseState().answers, survey.questions[0]) == 1

"""Changing and reusing answers through the services, on both databases: /svar after
submission reopens the response while the round is open (the submitted version stays in
force until it is sent in again, and every submission is kept), and a second round of
the same survey offers last round's answers as "still true?"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dialogs import texts
from services import lifecycle
from services.export import UNCHANGED_COLUMN, render, round_export
from services.response_rate import round_progress
from services.responses import erase_free_text, versions
from services.surveys import SurveyCatalog
from storage.orm import Answer, Contact, Response, Round
from tests.test_conversation import (
    Harness,
    Member,
    open_new_round,
    submit_shortest_path,
    text_of,
)
from tests.test_conversation import world as conversation_world

world = conversation_world  # the fixture, under the name the tests ask for

HASTER = "omrader.helse.haster"
BEHOV = "omrader.helse.behov"


async def registered(harness: Harness, code: str, address: str = "100") -> Member:
    member = Member(harness, address)
    await member.say(f"/start {code}")
    return member


async def response_of(harness: Harness, round_id: int) -> tuple[Response, dict]:
    async with harness.sessions() as session:
        response = await session.scalar(select(Response).where(Response.round_id == round_id))
        answers = {
            a.question_id: a.value
            for a in await session.scalars(select(Answer).where(Answer.response_id == response.id))
        }
    return response, answers


async def test_svar_after_submission_reopens_and_resubmitting_replaces_the_answers(
    world,
) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    round_id = await open_new_round(harness)
    receipt = await submit_shortest_path(kari, round_id)
    assert "Dere kan endre svarene til" in receipt and "/svar" in receipt
    first, _ = await response_of(harness, round_id)
    harness.clock.now += timedelta(hours=1)

    reopened = await kari.say("/svar")
    assert "du kan endre det til" in reopened[0].text
    assert "ingen åpne" not in text_of(reopened)
    assert f"e:{HASTER}" in kari.buttons() and "c:submit" in kari.buttons()
    await kari.press(f"e:{HASTER}")
    review = await kari.press(f"a:{HASTER}:2")
    assert "Her er svarene dine" in text_of(review)

    # Not sent in yet: the submitted version is what counts, everywhere.
    response, answers = await response_of(harness, round_id)
    assert response.status == "submitted" and response.submitted_at == first.submitted_at
    assert answers[HASTER] == 5 and response.state["answers"][HASTER] == 5
    assert response.draft is not None and response.draft["answers"][HASTER] == 2
    async with harness.sessions() as session:
        progress = await round_progress(session, round_id)
        _, documents = await round_export(session, SurveyCatalog(), round_id)
    assert progress.total.submitted == 1
    assert {a["question"]: a["value"] for a in documents[0]["answers"]}[HASTER] == 5
    assert "ikke midt i" not in text_of(await kari.say("/status"))

    harness.clock.now += timedelta(minutes=5)
    receipt = (await kari.press("c:submit"))[-1].text  # after the review, edited
    assert receipt.startswith(texts.CHANGES_SUBMITTED) and "Dere kan endre svarene til" in receipt
    response, answers = await response_of(harness, round_id)
    assert response.status == "submitted" and response.draft is None
    assert answers[HASTER] == 2 and response.state["answers"][HASTER] == 2
    assert response.submitted_at == harness.clock.now
    async with harness.sessions() as session:
        kept = await versions(session, response.id)
    assert [(v.number, v.answers[HASTER], v.contact_id) for v in kept] == [
        (1, 5, response.contact_id),
        (2, 2, response.contact_id),
    ]
    assert kept[0].submitted_at == first.submitted_at


async def test_a_reopened_response_pauses_and_resumes_with_svar(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    round_id = await open_new_round(harness)
    await submit_shortest_path(kari, round_id)
    await kari.say("/svar")
    await kari.press(f"e:{HASTER}")
    assert "pause" in text_of(await kari.press("c:pause"))
    resumed = text_of(await kari.say("/svar"))
    assert "Velkommen tilbake" in resumed and f"a:{HASTER}:1" in kari.buttons()
    await kari.press(f"a:{HASTER}:3")
    assert texts.CHANGES_SUBMITTED in text_of(await kari.press("c:submit"))
    _, answers = await response_of(harness, round_id)
    assert answers[HASTER] == 3


async def test_closing_while_reopened_keeps_the_submitted_version(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    round_id = await open_new_round(harness, days=1)
    await submit_shortest_path(kari, round_id)
    await kari.say("/svar")
    await kari.press(f"e:{HASTER}")
    await kari.press(f"a:{HASTER}:1")
    harness.clock.now += timedelta(days=2)
    told = text_of(await kari.press("c:submit"))
    assert "endringene ble ikke sendt inn" in told
    response, answers = await response_of(harness, round_id)
    assert response.status == "submitted" and response.draft is None
    assert answers[HASTER] == 5 and response.state["phase"] == "submitted"


async def test_the_round_closing_drops_changes_never_sent_in(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    round_id = await open_new_round(harness)
    await submit_shortest_path(kari, round_id)
    await kari.say("/svar")
    await kari.press(f"e:{HASTER}")
    async with harness.sessions() as session, session.begin():
        round_ = await session.get(Round, round_id)
        incomplete = await lifecycle.close_round(
            session, round_, harness.clock.now, SurveyCatalog(), actor="test"
        )
    assert incomplete == 0
    response, answers = await response_of(harness, round_id)
    assert response.status == "submitted" and response.draft is None and answers[HASTER] == 5


async def test_changes_off_the_svar_says_so_politely(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    round_id = await open_new_round(harness, edits=False)
    receipt = await submit_shortest_path(kari, round_id)
    assert "endre svarene" not in receipt
    (notice,) = await kari.say("/svar")
    assert "kan svaret ikke endres" in notice.text and "ingen åpne" not in notice.text
    old_button = text_of(await kari.press(f"e:{HASTER}"))  # from the review before sending
    assert "allerede sendt inn" in old_button and "/svar" not in old_button
    response, _ = await response_of(harness, round_id)
    assert response.draft is None


async def test_a_colleague_is_told_who_sent_it_in_before_anything_moves(world) -> None:
    """/svar by a colleague only says who sent it in and offers «Endre»; the response stays
    Kari's until that press (tests/test_organisation_respondent.py follows the press)."""
    harness, code_kari, code_per = world
    kari = await registered(harness, code_kari)
    per = await registered(harness, code_per, "200")
    round_id = await open_new_round(harness)
    await submit_shortest_path(kari, round_id)
    (told,) = await per.say("/svar")
    assert "Kari Nordmann sendte det inn" in told.text
    response, _ = await response_of(harness, round_id)
    assert [b.payload for b in told.all_buttons()] == [f"org:change:{response.id}"]
    assert response.draft is None and response.status == "submitted"
    async with harness.sessions() as session:
        kari_id = await session.scalar(select(Contact.id).where(Contact.name == "Kari Nordmann"))
    assert response.contact_id == kari_id


async def test_erasing_free_text_reaches_drafts_and_every_version(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    round_id = await open_new_round(harness)
    await submit_shortest_path(kari, round_id)
    await kari.say("/svar")
    await kari.press(f"e:{BEHOV}")
    await kari.say("Flere helsesykepleiere")
    await kari.press("c:submit")
    await kari.say("/svar")  # a draft again, holding the text
    async with harness.sessions() as session, session.begin():
        response = await session.scalar(select(Response).where(Response.round_id == round_id))
        round_ = await session.get(Round, round_id)
        survey = await SurveyCatalog().get(session, round_.survey_version_id)
        await erase_free_text(session, response, survey)
    async with harness.sessions() as session:
        response = await session.scalar(select(Response).where(Response.round_id == round_id))
        kept = await versions(session, response.id)
    assert len(kept) == 2 and all(BEHOV not in v.answers for v in kept)
    assert BEHOV not in response.state["answers"] and BEHOV not in response.draft["answers"]


# -- still true? -------------------------------------------------------------------------


async def test_a_second_round_offers_last_rounds_answers_and_reports_them_unchanged(
    world,
) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    first = await open_new_round(harness, days=1)
    await submit_shortest_path(kari, first)
    harness.clock.now += timedelta(days=2)  # the first round is over
    second = await open_new_round(harness)
    await harness.collect("100")

    started = await kari.press(f"r:{second}")
    assert texts.STILL_TRUE_INTRO in text_of(started)
    assert "Sist svarte dere: Helse og omsorg" in started[-1].text
    presses = 1
    while "c:submit" not in kari.buttons():
        keep = next(p for p in kari.buttons() if p.startswith(("k:", "c:skip")))
        shown = text_of(await kari.press(keep))
        presses += 1
        if keep == "k:omrader":
            assert "Sist skrev dere: «Flere sykepleiere»" in shown
            assert "det viktigste behovet" in shown
    assert texts.CHANGES_SUBMITTED not in text_of(await kari.press("c:submit"))
    presses += 1
    # 9 questions asked (one area) and the optional last one skipped, as in round 1:
    # start, 9 presses and submit, all on the last message's buttons.
    assert presses == 11

    response, answers = await response_of(harness, second)
    assert response.status == "submitted"
    assert answers[BEHOV] == "Flere sykepleiere" and answers[HASTER] == 5
    assert BEHOV in response.state["kept"] and response.state["previous"][HASTER] == 5
    async with harness.sessions() as session:
        survey, documents = await round_export(session, SurveyCatalog(), second)
        _, before = await round_export(session, SurveyCatalog(), first)
    flags = {a["question"]: a["unchanged"] for a in documents[0]["answers"]}
    assert flags[BEHOV] and flags[HASTER]
    table = render(survey, documents, "csv").decode().splitlines()
    assert table[0].endswith(UNCHANGED_COLUMN) and table[1].endswith(",ja")
    assert render(survey, before, "csv").decode().splitlines()[1].endswith(",")  # no round before
    # In JSON too, a first round's answers are neither unchanged nor new: there is no "before".
    assert {a["unchanged"] for a in before[0]["answers"]} == {None}


async def test_a_changed_need_is_reported_as_new(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    first = await open_new_round(harness, days=1)
    await submit_shortest_path(kari, first)
    harness.clock.now += timedelta(days=2)
    second = await open_new_round(harness)
    await kari.press(f"r:{second}")
    await kari.press("k:omrader")
    next_prompt = await kari.say("Flere helsefagarbeidere")  # typing on the prompt answers it
    assert "Sist svarte dere: 5" in next_prompt[-1].text and f"k:{HASTER}" in kari.buttons()
    async with harness.sessions() as session:
        response = await session.scalar(select(Response).where(Response.round_id == second))
    assert response.state["answers"][BEHOV] == "Flere helsefagarbeidere"
    assert response.state["kept"] == ["omrader"]
    async with harness.sessions() as session:
        _, documents = await round_export(session, SurveyCatalog(), second)
    flags = {a["question"]: a["unchanged"] for a in documents[0]["answers"]}
    assert flags == {"omrader": True, BEHOV: False}


async def test_the_first_round_has_nothing_to_offer(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    started = await kari.press(f"r:{await open_new_round(harness)}")
    assert texts.STILL_TRUE_INTRO not in text_of(started)
    assert not any(p.startswith("k:") for p in kari.buttons())


async def test_erasing_a_person_unlinks_every_version_they_sent_in(world) -> None:
    from services.privacy import erase_contact

    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    round_id = await open_new_round(harness)
    await submit_shortest_path(kari, round_id)
    await kari.say("/svar")
    await kari.press("c:submit")  # sent in again, unchanged: version 2
    response, _ = await response_of(harness, round_id)
    author = response.contact_id
    async with harness.sessions() as session, session.begin():
        await erase_contact(session, SurveyCatalog(), author, harness.clock.now, actor="test")
    async with harness.sessions() as session:
        kept = await versions(session, response.id)
    assert [(v.number, v.contact_id) for v in kept] == [(1, None), (2, None)]
    assert all(BEHOV not in v.answers and HASTER in v.answers for v in kept)


async def test_after_the_round_closes_nothing_offers_changes(world) -> None:
    harness, code_kari, _ = world
    kari = await registered(harness, code_kari)
    round_id = await open_new_round(harness, days=1)
    await submit_shortest_path(kari, round_id)
    harness.clock.now += timedelta(days=2)
    (told,) = await kari.press(f"e:{HASTER}")  # the review's old button
    assert "allerede sendt inn" in told.text and "/svar" not in told.text
    response, _ = await response_of(harness, round_id)
    assert response.draft is None

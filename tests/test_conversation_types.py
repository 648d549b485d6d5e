"""A ranking and a matrix through the conversation use case on both databases: partial
progress stored between steps, answers mirrored to the answers table as a list and a dict."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.lifecycle import open_round
from services.rounds import Audience, create_round
from services.surveys import latest_version, register_survey_file
from storage.orm import Answer, Response
from tests import test_conversation
from tests.test_conversation import Member, text_of
from tests.type_fixtures import RANKING_AND_MATRIX

world = test_conversation.world  # the same fixture: two contacts of Drammen with codes


async def open_types_round(harness) -> int:
    async with harness.sessions() as session, session.begin():
        await register_survey_file(session, RANKING_AND_MATRIX)
        version = await latest_version(session, "rangering-og-matrise")
        round_ = await create_round(
            session,
            survey_version_id=version.id,
            title="Prioriteringer",
            audience=Audience(org_codes=("3301",)),
            opens_at=harness.clock.now,
            closes_at=harness.clock.now + timedelta(days=14),
        )
        await open_round(
            session, round_, harness.clock.now, harness.conversation.zone, actor="test"
        )
        return round_.id


async def stored(harness) -> tuple[dict, dict]:
    async with harness.sessions() as session:
        response = await session.scalar(select(Response))
        answers = {a.question_id: a.value for a in await session.scalars(select(Answer))}
    return response.state, answers


async def test_a_ranking_and_a_matrix_are_answered_paused_resumed_and_stored(world) -> None:
    harness, code_kari, _ = world
    kari = Member(harness, "100")
    await kari.say(f"/start {code_kari}")
    round_id = await open_types_round(harness)
    await harness.collect("100")
    await kari.press(f"r:{round_id}")
    for area in ("digitalisering", "klima", "helse"):
        await kari.press(f"t:omrader:{area}")
    await kari.press("n:omrader")

    # Ranking: the picks so far are kept in the stored state, in order.
    await kari.press("r:rekkefolge:klima")
    state, _ = await stored(harness)
    assert state["selection"] == ["klima"]
    await kari.say("2 3 1")  # a written ranking replaces the picks
    # Matrix: two cells by button, a pause, and /svar days later shows them again.
    await kari.press("m:hast:digitalisering:2")
    await kari.press("m:hast:helse:4")
    await kari.say("/pause")
    state, answers = await stored(harness)
    assert state["grid"] == {"digitalisering": 2, "helse": 4} and state["phase"] == "paused"
    assert answers["rekkefolge"] == ["klima", "helse", "digitalisering"]
    harness.clock.now += timedelta(days=3)
    resumed = text_of(await kari.say("/svar"))
    assert "• Digitalisering: 2" in resumed and "• Klima og miljø: –" in resumed
    assert "m:hast:klima:5" in kari.buttons()
    # Writing the missing row completes the matrix.
    await kari.say("Klima og miljø 5")
    await kari.press("c:skip")  # the optional top-2 ranking
    assert "c:submit" in kari.buttons()
    receipt = text_of(await kari.press("c:submit"))
    assert "Takk" in receipt
    state, answers = await stored(harness)
    assert answers["hast"] == {"digitalisering": 2, "klima": 5, "helse": 4}
    assert answers["rekkefolge"] == ["klima", "helse", "digitalisering"]
    assert answers["kanaler"] is None and state["grid"] == {}
    status = text_of(await kari.say("/status"))
    assert "1. Klima og miljø, 2. Helse og omsorg, 3. Digitalisering" in status
    assert "Digitalisering: 2; Klima og miljø: 5; Helse og omsorg: 4" in status

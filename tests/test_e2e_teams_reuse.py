"""End to end on Teams: a submitted answer changed with /svar while the round is open,
and a second round of the same survey walked through with "Ja, fortsatt riktig" on the
Adaptive Cards. The real ``lyttepost run`` process against the Bot Connector stand-in."""

from __future__ import annotations

import asyncio
import json

from bot.console_session import choose_answer, middle
from tests.e2e_support import Deployment
from tests.teams_standin import TeamsStandIn
from tests.test_e2e_teams import CONV, act, cli, last_card, payloads, register
from tests.test_e2e_teams import deployment as teams_deployment
from tests.test_e2e_teams import pytestmark as pytestmark  # e2e
from tests.test_e2e_teams import stand_ins as teams_stand_ins

deployment, stand_ins = teams_deployment, teams_stand_ins  # the fixtures

# Under two minutes at some 5 seconds a press: the unchanged walk must take at most 20.
MOST_PRESSES = 20


def buttons(teams: TeamsStandIn) -> list[str]:
    return [p for _, p in payloads(last_card(teams))]


def said(teams: TeamsStandIn, since: int) -> str:
    """Everything the bot sent from activity ``since`` on: texts and card texts."""
    return " ".join(
        " ".join([m.text or "", *m.card_texts]) for m in teams.messages_for(CONV)[since:]
    )


async def submit(teams: TeamsStandIn, payload: str) -> None:
    await act(teams, lambda: teams.user_submits(CONV, {"payload": payload}))


async def start_round(deployment: Deployment, teams: TeamsStandIn, words: str) -> int:
    """Create a round for Drammen and press Start on its invitation; waits for ``words``."""
    count = len(teams.messages_for(CONV))
    created = await cli(deployment, "rounds", "create", "--survey", "kvartalsvis-behov",
                        "--closes", "2099-12-31", "--orgs", "3301")  # fmt: skip
    invitation = await teams.wait_for_activity(
        CONV, lambda m: any("Start" in t for t, _ in m.actions), timeout=15, after_count=count
    )
    count = len(teams.messages_for(CONV))
    await act(teams, lambda: teams.user_submits(CONV, invitation.action_data("Start")))
    await teams.wait_for_activity(
        CONV, lambda m: words in " ".join([m.text or "", *m.card_texts]), 15, count
    )
    await asyncio.sleep(0.3)
    return int(created["id"])


async def export(deployment: Deployment, round_id: int) -> dict:
    result = await asyncio.to_thread(
        deployment.cli, "export", "--round", str(round_id), "--format", "json"
    )
    (response,) = json.loads(result.stdout)
    return response


async def test_change_after_submit_and_a_still_true_round_in_teams(
    deployment: Deployment, stand_ins
) -> None:
    teams, _ = stand_ins
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.start)
    await register(teams, deployment, "3301", "Kari Nordmann")

    first = await start_round(deployment, teams, "Spørsmål 1")
    for _ in range(60):
        if "c:submit" in buttons(teams):
            break
        choice = choose_answer(payloads(last_card(teams)), middle)
        if choice is None:
            await act(teams, lambda: teams.user_sends_text(CONV, "Felles digitale løsninger."))
        else:
            await submit(teams, choice)
    else:
        raise AssertionError("never reached the review")
    count = len(teams.messages_for(CONV))
    await submit(teams, "c:submit")
    assert "Dere kan endre svarene til" in said(teams, count)

    # /svar after submission: the review with "Endre", never "nothing open".
    count = len(teams.messages_for(CONV))
    await act(teams, lambda: teams.user_sends_text(CONV, "/svar"))
    await asyncio.sleep(0.3)
    assert "du kan endre det til" in said(teams, count) and "ingen åpne" not in said(teams, count)
    assert "e:fornoyd" in buttons(teams) and "c:submit" in buttons(teams)
    await submit(teams, "e:fornoyd")
    await submit(teams, "a:fornoyd:5")
    assert "c:submit" in buttons(teams)
    count = len(teams.messages_for(CONV))
    await submit(teams, "c:submit")
    assert "Endringene er sendt inn" in said(teams, count)
    answers = {a["question"]: a["value"] for a in (await export(deployment, first))["answers"]}
    assert answers["fornoyd"] == 5

    # The next round of the same survey: last round's answers, one press each.
    second = await start_round(deployment, teams, "Sist svarte dere")
    assert "k:omrader" in buttons(teams)
    # «Endre» turns the prompt into the ordinary question, last round's choice ticked;
    # «Neste» as it is gives the same answer (still "unchanged since last round").
    await submit(teams, "x:omrader")
    assert "n:omrader" in buttons(teams)
    assert any("☑" in title for title, _ in payloads(last_card(teams)))
    count = len(teams.messages_for(CONV))
    await submit(teams, "n:omrader")
    await teams.wait_for_activity(
        CONV, lambda m: "Sist skrev dere" in " ".join([m.text or "", *m.card_texts]), 15, count
    )
    await asyncio.sleep(0.3)
    presses = 3
    for _ in range(40):
        pairs = buttons(teams)
        if "c:submit" in pairs:
            break
        await submit(teams, next(p for p in pairs if p.startswith("k:") or p == "c:skip"))
        presses += 1
    count = len(teams.messages_for(CONV))
    await submit(teams, "c:submit")
    presses += 1
    assert "Takk" in said(teams, count)
    assert presses <= MOST_PRESSES
    response = await export(deployment, second)
    assert response["status"] == "submitted"
    kept = [a for a in response["answers"] if a["value"] is not None]
    assert kept and all(a["unchanged"] for a in kept)
    assert {a["question"]: a["value"] for a in response["answers"]} == answers
    assert teams.errors == []

"""End to end on Microsoft Teams: the real ``lyttepost run`` process against a Bot Connector
stand-in (local mode, as with the Bot Framework Emulator), next to the Telegram stand-in.

A chief executive opens the app, registers with the invitation code, gets the round's
invitation proactively, answers the whole survey on Adaptive Cards (a card answered once
cannot be answered again), submits and gets the receipt. A broadcast reaches a mixed
audience on Teams and Telegram; Teams' throttling is honoured; removing the app makes the
chat unreachable; with credentials configured, unauthenticated requests are refused.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.console_session import choose_answer, middle
from tests.e2e_support import Deployment
from tests.shipped_walk import Member
from tests.teams_standin import TeamsStandIn
from tests.telegram_standin import TelegramStandIn

pytestmark = pytest.mark.e2e

CONV = "a:1kari-teams"
TELEGRAM_CHAT = 515151


@pytest.fixture
async def stand_ins() -> AsyncIterator[tuple[TeamsStandIn, TelegramStandIn]]:
    async with TeamsStandIn() as teams, TelegramStandIn() as telegram:
        yield teams, telegram


@pytest.fixture
def deployment(tmp_path: Path, stand_ins) -> Deployment:
    teams, telegram = stand_ins
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url=telegram.base_url,
        workdir=tmp_path,
        extra_env={
            "TEAMS_ENABLED": "true",
            "TEAMS_CHAT_BURST": "20",
            "TEAMS_CHAT_RATE_PER_SECOND": "20",
        },
    )
    teams.bot_endpoint = f"http://127.0.0.1:{deployment.http_port}/api/messages"
    yield deployment
    deployment.stop()


async def cli(deployment: Deployment, *args: str):
    return await asyncio.to_thread(deployment.cli_json, *args)


async def act(teams: TeamsStandIn, action, conversation: str = CONV) -> None:
    """Do something as the member and wait until the bot has sent or edited something."""
    since = time.monotonic()
    status = await action()
    assert status in (200, 201, 202), status
    await teams.wait_for_change(conversation, since, within=15)
    await asyncio.sleep(0.3)  # let a multi-message reply finish


def last_card(teams: TeamsStandIn, conversation: str = CONV):
    return next(m for m in reversed(teams.messages_for(conversation)) if m.actions)


def last_words(teams: TeamsStandIn, conversation: str) -> str:
    """What the bot said last in a conversation: its text and its card's text."""
    message = teams.messages_for(conversation)[-1]
    return " ".join([message.text or "", *message.card_texts])


def payloads(message) -> list[tuple[str, str]]:
    return [(title, data["payload"]) for title, data in message.actions]


async def register(
    teams: TeamsStandIn,
    deployment: Deployment,
    org: str,
    name: str,
    conversation: str = CONV,
    user_id: str = "29:kari",
) -> int:
    contact = await cli(
        deployment, "contacts", "add", "--org", org, "--name", name, "--role", "radmann"
    )
    code = (await cli(deployment, "invites", "create", "--contact", str(contact["id"])))[0]["code"]
    await act(
        teams, lambda: _first(teams.install(conversation, user_id=user_id, name=name)), conversation
    )
    assert "invitasjonskoden" in teams.messages_for(conversation)[-1].text
    await act(teams, lambda: teams.user_sends_text(conversation, code), conversation)
    assert any("Velkommen" in (m.text or "") for m in teams.messages_for(conversation))
    return int(contact["id"])


async def _first(statuses):
    return (await statuses)[0]


async def test_a_chief_executive_answers_the_survey_in_teams(deployment, stand_ins) -> None:
    teams, _ = stand_ins
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.start)
    assert "LOCAL MODE" in deployment.log()
    await register(teams, deployment, "3301", "Kari Nordmann")
    assert len([m for m in teams.messages_for(CONV) if "invitasjonskoden" in (m.text or "")]) == 1

    created = await cli(deployment, "rounds", "create", "--survey", "kvartalsvis-behov",
                        "--closes", "2099-12-31", "--orgs", "3301")  # fmt: skip
    invitation = await teams.wait_for_activity(
        CONV, lambda m: any("Start" in t for t, _ in m.actions), timeout=15
    )
    assert "Svarfrist" in " ".join(invitation.card_texts)
    start = invitation.action_data("Start")
    await act(teams, lambda: teams.user_submits(CONV, start))
    first_question = last_card(teams)
    first_payloads = payloads(first_question)

    for _ in range(60):
        card = last_card(teams)
        pairs = payloads(card)
        if any(p == "c:submit" for _, p in pairs):
            break
        choice = choose_answer(pairs, middle)
        if choice is None:
            await act(teams, lambda: teams.user_sends_text(CONV, "Felles digitale løsninger."))
        else:
            await act(teams, lambda c=choice: teams.user_submits(CONV, {"payload": c}))
    else:
        raise AssertionError("never reached the review")

    # An old card pressed again changes nothing: the engine says it belongs to an earlier question.
    stale = next(p for _, p in first_payloads if p.startswith("t:"))
    await act(teams, lambda: teams.user_submits(CONV, {"payload": stale}))
    assert "tidligere spørsmål" in last_words(teams, CONV)

    await act(teams, lambda: teams.user_submits(CONV, {"payload": "c:submit"}))
    assert "Takk" in last_words(teams, CONV)
    # The review card is still on screen: pressing "Send inn" again submits nothing twice.
    await act(teams, lambda: teams.user_submits(CONV, {"payload": "c:submit"}))
    assert "allerede sendt inn" in last_words(teams, CONV)
    exported = await cli(deployment, "rounds", "status", str(created["id"]))
    assert exported["submitted"] == 1
    exported_rows = await asyncio.to_thread(
        deployment.cli, "export", "--round", str(created["id"]), "--format", "json"
    )
    assert len(json.loads(exported_rows.stdout)) == 1  # one response, submitted once
    assert teams.duplicates() == [] and teams.errors == []


async def test_reading_only_the_newest_card_gets_through_and_answered_cards_lose_actions(
    deployment, stand_ins
) -> None:
    """A member who acts only on the newest activity reaches the receipt; each answered
    question's card is updated in place to its text and answer, without actions, and so
    is the review after submitting."""
    teams, _ = stand_ins
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.start)
    await register(teams, deployment, "3301", "Kari Nordmann")
    await cli(deployment, "rounds", "create", "--survey", "kvartalsvis-behov",
              "--closes", "2099-12-31", "--orgs", "3301")  # fmt: skip
    invitation = await teams.wait_for_activity(
        CONV, lambda m: any("Start" in t for t, _ in m.actions), timeout=15
    )
    await act(teams, lambda: teams.user_submits(CONV, invitation.action_data("Start")))

    member = Member(("helse", "struktur", "annet"))
    questions: list[str] = []
    for _ in range(60):
        newest = teams.last_activity(CONV)
        assert newest is not None and newest.actions, newest
        text = "\n".join([newest.text or "", *newest.card_texts])
        kind, value = member.next_move(text, [p for _, p in payloads(newest)])
        if "Spørsmål" in text:
            questions.append(newest.activity_id)
        if kind == "press":
            await act(teams, lambda v=value: teams.user_submits(CONV, {"payload": v}))
        else:
            await act(teams, lambda v=value: teams.user_sends_text(CONV, v))
        if value == "c:submit":
            break
    else:
        raise AssertionError("never submitted")
    assert "Takk" in last_words(teams, CONV)

    positions = [p for p, _ in member.seen]
    estimates = [e for _, e in member.seen]
    assert positions == list(range(1, len(positions) + 1)) and len(positions) <= 15
    assert estimates == sorted(estimates, reverse=True)
    for activity_id in dict.fromkeys(questions):
        activity = teams.find_activity(CONV, activity_id)
        assert activity is not None and activity.actions == [], activity.text
        shown = " ".join([activity.text or "", *activity.card_texts])
        assert "✓ Svar:" in shown or "✓ Hoppet over" in shown
        assert activity.edits  # updated in place, not sent again
    review = next(
        m
        for m in teams.messages_for(CONV)
        if "Her er svarene" in " ".join([m.text or "", *m.card_texts])
    )
    assert review.actions == [] and "✓ Sendt inn." in (review.text or "")
    assert teams.duplicates() == [] and teams.errors == []


async def test_a_broadcast_reaches_teams_and_telegram_and_removal_is_honoured(
    deployment, stand_ins
) -> None:
    teams, telegram = stand_ins
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.start)
    await register(teams, deployment, "3301", "Kari Nordmann")
    ola = await cli(
        deployment, "contacts", "add", "--org", "4601", "--name", "Ola", "--role", "radmann"
    )
    code = (await cli(deployment, "invites", "create", "--contact", str(ola["id"])))[0]["code"]
    telegram.user_sends_text(TELEGRAM_CHAT, f"/start {code}")
    await telegram.wait_for_message(TELEGRAM_CHAT, lambda m: "Velkommen" in m.text, timeout=15)

    teams.fail_next(1, 429, retry_after=1)  # Teams throttles the first send: retried, once
    draft = await cli(
        deployment, "broadcast", "create", "--to", "all", "--text", "Samling i Bergen 12. mars."
    )
    assert draft["recipients"] == 2
    await asyncio.to_thread(
        deployment.cli, "publications", "send", str(draft["id"]), "--yes", "--no-wait"
    )
    await teams.wait_for_activity(CONV, lambda m: (m.text or "").startswith("Samling"), timeout=20)
    await telegram.wait_for_message(
        TELEGRAM_CHAT, lambda m: m.text.startswith("Samling"), timeout=20
    )
    assert sum((m.text or "").startswith("Samling") for m in teams.messages_for(CONV)) == 1
    assert teams.stats.rejected_429 >= 1

    await teams.uninstall(CONV)
    second = await cli(deployment, "broadcast", "create", "--to", "all", "--text", "Andre melding.")
    assert second["recipients"] == 1 and second["unreachable"] == 1  # Teams chat is gone


async def test_with_credentials_unauthenticated_requests_are_refused(tmp_path: Path) -> None:
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=tmp_path,
        extra_env={
            "TEAMS_ENABLED": "true",
            "MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001",
            "MICROSOFT_APP_PASSWORD": "not-a-real-secret",
            "TELEGRAM_BOT_TOKEN": "",
        },
    )
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    try:
        await asyncio.to_thread(deployment.start)
        assert "LOCAL MODE" not in deployment.log()
        url = f"http://127.0.0.1:{deployment.http_port}/api/messages"
        body = {"type": "message", "id": "1", "text": "/hjelp", "channelId": "msteams",
                "serviceUrl": "http://127.0.0.1:9/", "conversation": {"id": "a:x"},
                "from": {"id": "29:u"}, "recipient": {"id": "28:b"}}  # fmt: skip
        async with aiohttp.ClientSession() as client:
            async with client.post(url, json=body) as response:
                assert response.status == 401
            async with client.post(
                url, json=body, headers={"Authorization": "Bearer not.a.jwt"}
            ) as response:
                assert response.status == 401
            async with client.post(
                url, data=b"{}", headers={"Content-Type": "text/plain"}
            ) as response:
                assert response.status == 415
        assert "Traceback" not in deployment.log()
    finally:
        deployment.stop()


async def test_admin_commands_work_in_teams_with_the_same_authorization(
    deployment, stand_ins
) -> None:
    teams, _ = stand_ins
    admin_chat, member_chat = CONV, "a:1per-teams"
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.start)
    await register(teams, deployment, "3301", "Kari Nordmann")
    await register(teams, deployment, "4601", "Per Hansen", member_chat, "29:per")
    # Kari is KS staff too: an admin account, bound to her Teams chat with a staff code.
    staff = await cli(deployment, "staff", "add", "--name", "Kari Nordmann",
                      "--email", "kari@ks.no", "--role", "admin")  # fmt: skip
    code = await cli(deployment, "staff", "code", "--email", "kari@ks.no")
    await act(teams, lambda: teams.user_sends_text(admin_chat, f"/start {code['code']}"))
    assert "koblet til KS-kontoen din" in last_words(teams, admin_chat)
    planned = await cli(deployment, "rounds", "create", "--survey", "kvartalsvis-behov",
                        "--opens", "2099-01-04", "--closes", "2099-01-29", "--orgs", "3301")  # fmt: skip
    round_id = str(planned["id"])

    # A member without a staff account: politely refused, in Teams as on Telegram, and logged.
    await act(teams, lambda: teams.user_sends_text(member_chat, "/runder"), member_chat)
    assert "bare for administratorer" in last_words(teams, member_chat)
    # Pressing an admin's button by hand (a forged card submit) is refused just the same.
    forged = {"payload": f"adm:cancel:{round_id}"}
    await act(teams, lambda: teams.user_submits(member_chat, forged), member_chat)
    assert "bare for administratorer" in last_words(teams, member_chat)
    assert "no staff account" in deployment.log()

    # The admin lists the rounds and cancels one on its confirmation card.
    await act(teams, lambda: teams.user_sends_text(admin_chat, "/runder"))
    assert f"{round_id}. " in last_words(teams, admin_chat)
    await act(teams, lambda: teams.user_sends_text(admin_chat, f"/avlys {round_id}"))
    confirm = last_card(teams, admin_chat)
    assert [payload for _, payload in payloads(confirm)] == [f"adm:cancel:{round_id}", "adm:keep"]
    await act(teams, lambda: teams.user_submits(admin_chat, {"payload": f"adm:cancel:{round_id}"}))
    assert "er avlyst" in last_words(teams, admin_chat)
    history = await cli(deployment, "rounds", "history", round_id)
    assert any(event["actor"] == f"staff:{staff['id']}" for event in history)
    audit = await cli(deployment, "audit", "--staff", "kari@ks.no", "--action", "round.cancel")
    assert [(e["door"], e["target"]) for e in audit] == [("chat", f"round:{round_id}")]
    status = await cli(deployment, "rounds", "list")
    assert next(r for r in status if str(r["id"]) == round_id)["status"] == "cancelled"

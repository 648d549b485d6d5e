"""End to end: the real ``lyttepost run`` process against the Telegram Bot API stand-in.

A chief executive registers with a code, gets the invitation when the round opens,
answers the shipped survey with buttons and text, survives a SIGKILL of the bot in the
middle, submits, checks /status, and the admin exports the response.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.console_session import choose_answer, middle
from tests.e2e_support import Deployment
from tests.shipped_walk import Member
from tests.telegram_standin import TelegramStandIn

pytestmark = pytest.mark.e2e

CHAT = 424242
NEED = "Vi trenger felles digitale løsninger for innbyggerdialog."


@pytest.fixture
async def standin() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn() as server:
        yield server


@pytest.fixture
def deployment(tmp_path: Path, standin: TelegramStandIn) -> Deployment:
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url=standin.base_url,
        workdir=tmp_path,
    )
    yield deployment
    deployment.stop()


async def cli(deployment: Deployment, *args: str):
    return await asyncio.to_thread(deployment.cli_json, *args)


async def reply_to(standin: TelegramStandIn, action, *, within: float = 15.0):
    """Do something as the member and wait until the bot has answered (new message or edit)."""
    before = [
        (m.message_id, m.text, tuple(map(tuple, m.buttons))) for m in standin.messages_for(CHAT)
    ]
    action()
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
        now = [
            (m.message_id, m.text, tuple(map(tuple, m.buttons))) for m in standin.messages_for(CHAT)
        ]
        if now != before:
            return await settled(standin)
    raise AssertionError("the bot did not answer in time")


def snapshot(standin: TelegramStandIn) -> list[tuple[int, str, tuple]]:
    return [
        (m.message_id, m.text, tuple(map(tuple, m.buttons))) for m in standin.messages_for(CHAT)
    ]


async def settled(standin: TelegramStandIn, quiet: float = 0.3, longest: float = 2.5):
    """The chat once a multi-message reply (an edit, then the next question, paced per
    chat) has finished: quiet, and the newest message has buttons, or quiet for long."""
    last, still = snapshot(standin), 0.0
    while True:
        await asyncio.sleep(0.1)
        now = snapshot(standin)
        still = still + 0.1 if now == last else 0.0
        last = now
        newest = standin.last_message(CHAT)
        if (still >= quiet and newest is not None and newest.buttons) or still >= longest:
            return standin.messages_for(CHAT)


def last_with_buttons(standin: TelegramStandIn):
    return next(m for m in reversed(standin.messages_for(CHAT)) if m.buttons)


def press(standin: TelegramStandIn, message, data: str):
    return lambda: standin.user_presses(CHAT, message.message_id, data)


def say(standin: TelegramStandIn, text: str):
    return lambda: standin.user_sends_text(CHAT, text, first_name="Kari")


async def answer_current_question(standin: TelegramStandIn) -> None:
    """Answer whatever question is on screen the way a member would."""
    message = last_with_buttons(standin)
    payload = choose_answer([b for row in message.buttons for b in row], middle)
    if payload is None:
        await reply_to(standin, say(standin, NEED))
    else:
        await reply_to(standin, press(standin, message, payload))


async def test_a_chief_executive_answers_the_survey_end_to_end(
    deployment: Deployment, standin: TelegramStandIn
) -> None:
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    contact = await cli(
        deployment,
        "contacts",
        "add",
        "--org",
        "3301",
        "--name",
        "Kari Nordmann",
        "--role",
        "kommunedirektor",
        "--email",
        "kari@example.no",
    )
    invites = await cli(deployment, "invites", "create", "--contact", str(contact["id"]))
    code = invites[0]["code"]
    assert invites[0]["link"] == f"https://t.me/lyttepost_test_bot?start={code}"

    await asyncio.to_thread(deployment.start)

    # Wrong code, then the deep link's /start CODE.
    messages = await reply_to(standin, say(standin, "/start WRONGCODE9"))
    assert "kjenner jeg ikke igjen" in messages[-1].text
    messages = await reply_to(standin, say(standin, f"/start {code}"))
    assert any("Kari Nordmann" in m.text and "Drammen" in m.text for m in messages)

    # The round opens: the registered contact is invited at once.
    closes = (date.today() + timedelta(days=14)).isoformat()
    count = len(standin.messages_for(CHAT))
    created = await cli(
        deployment,
        "rounds",
        "create",
        "--survey",
        "kvartalsvis-behov",
        "--closes",
        closes,
        "--orgs",
        "3301",
    )
    assert created["invitations_queued"] == 1
    invitation = await standin.wait_for_message(
        CHAT, lambda m: "Svarfrist" in m.text, timeout=15, after_count=count
    )
    start = next(data for row in invitation.buttons for _, data in row if data.startswith("r:"))
    await reply_to(standin, press(standin, invitation, start))

    # Answer half the survey, then kill the bot without warning.
    for _ in range(5):
        await answer_current_question(standin)
    on_screen = last_with_buttons(standin).text
    await asyncio.to_thread(deployment.kill)
    await asyncio.to_thread(deployment.start)

    # /svar shows exactly the question that was on screen.
    messages = await reply_to(standin, say(standin, "/svar"))
    assert last_with_buttons(standin).text.split("\n", 1)[0] == on_screen.split("\n", 1)[0]

    for _ in range(40):
        message = last_with_buttons(standin)
        if any(data == "c:submit" for row in message.buttons for _, data in row):
            break
        await answer_current_question(standin)
    else:
        raise AssertionError("never reached the review")
    messages = await reply_to(standin, press(standin, message, "c:submit"))
    receipt = messages[-1].text
    assert "Takk" in receipt or "takk" in receipt

    messages = await reply_to(standin, say(standin, "/status"))
    assert "Sendt inn" in messages[-1].text

    exported = json.loads(
        (
            await asyncio.to_thread(
                deployment.cli, "export", "--round", str(created["id"]), "--format", "json"
            )
        ).stdout
    )
    assert len(exported) == 1
    response = exported[0]
    assert response["org"] == "3301" and response["org_name"] == "Drammen"
    assert response["status"] == "submitted" and response["submitted_at"]
    answers = {a["question"]: a["value"] for a in response["answers"]}
    assert len(answers["omrader"]) == 2
    needs = [value for key, value in answers.items() if key.endswith(".behov")]
    assert needs == [NEED, NEED]


async def test_webhook_mode_refuses_forged_requests_and_ignores_redelivery(
    tmp_path: Path, standin: TelegramStandIn
) -> None:
    """Webhook: the secret header is required; a redelivered update is answered once."""
    import aiohttp

    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
        api_base_url=standin.base_url,
        workdir=tmp_path,
    )
    deployment.extra_env = {
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{deployment.http_port}/telegram/hook",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret_token-1",
        "HTTP_HOST": "127.0.0.1",
    }
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    try:
        await asyncio.to_thread(deployment.start)
        for _ in range(100):
            if standin.webhook_url:
                break
            await asyncio.sleep(0.05)
        assert standin.webhook_url == deployment.extra_env["TELEGRAM_WEBHOOK_URL"]
        update = {
            "update_id": 5000,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": CHAT, "type": "private"},
                "from": {"id": CHAT, "is_bot": False, "first_name": "K"},
                "text": "/hjelp",
            },
        }
        async with aiohttp.ClientSession() as client:
            url = standin.webhook_url
            async with client.post(url, json=update) as response:
                assert response.status == 401
            async with client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            ) as response:
                assert response.status == 401
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_token-1"}
            for _ in range(2):  # Telegram redelivers when it did not see our 200 in time
                async with client.post(url, json=update, headers=headers) as response:
                    assert response.status == 200
            async with client.post(url, data=b"not json", headers=headers) as response:
                assert response.status == 400
            malformed = {"update_id": 5001, "message": "garbage"}
            async with client.post(url, json=malformed, headers=headers) as response:
                assert response.status == 200
        first = await standin.wait_for_message(CHAT, timeout=15)
        assert "ikke registrert" in first.text
        standin.user_sends_text(CHAT, "/start")  # pushed through the webhook by the stand-in
        await standin.wait_for_message(CHAT, lambda m: "invitasjonskoden" in m.text, timeout=15)
        await asyncio.sleep(1.0)
        assert len(standin.messages_for(CHAT)) == 2  # the redelivered /hjelp was answered once
    finally:
        await asyncio.to_thread(deployment.stop)


async def test_polling_survives_malformed_updates(
    deployment: Deployment, standin: TelegramStandIn
) -> None:
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(deployment.start)
    standin.inject_raw_update({"message": {"chat": "not a chat"}})
    standin.inject_raw_update({"edited_message": {"text": "x"}})
    standin.inject_raw_update({"callback_query": {"id": "1", "data": "a:b:c"}})
    standin.user_sends_text(CHAT, "/start")
    message = await standin.wait_for_message(CHAT, timeout=15)
    assert "invitasjonskoden" in message.text
    assert deployment.process is not None and deployment.process.poll() is None


async def test_a_member_reading_only_the_newest_message_gets_through_and_old_keyboards_go(
    deployment: Deployment, standin: TelegramStandIn
) -> None:
    """Pressing only what the newest message offers reaches the receipt; every answered
    question is edited to show its answer without a keyboard, the review too."""
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    contact = await cli(deployment, "contacts", "add", "--org", "3301", "--name",
                        "Kari Nordmann", "--role", "kommunedirektor")  # fmt: skip
    code = (await cli(deployment, "invites", "create", "--contact", str(contact["id"])))[0]["code"]
    await asyncio.to_thread(deployment.start)
    await reply_to(standin, say(standin, f"/start {code}"))
    count = len(standin.messages_for(CHAT))
    closes = (date.today() + timedelta(days=14)).isoformat()
    await cli(deployment, "rounds", "create", "--survey", "kvartalsvis-behov", "--closes",
              closes, "--orgs", "3301")  # fmt: skip
    invitation = await standin.wait_for_message(
        CHAT, lambda m: "Svarfrist" in m.text, timeout=15, after_count=count
    )
    start = next(data for row in invitation.buttons for _, data in row if data.startswith("r:"))
    await reply_to(standin, press(standin, invitation, start))

    member = Member(("digitalisering", "okonomi", "annet"))
    questions: list[int] = []
    for _ in range(60):
        newest = standin.last_message(CHAT)
        assert newest is not None and newest.buttons, newest
        payloads = [data for row in newest.buttons for _, data in row]
        kind, value = member.next_move(newest.text, payloads)
        if newest.text.startswith("Spørsmål"):
            questions.append(newest.message_id)
        action = press(standin, newest, value) if kind == "press" else say(standin, value)
        await reply_to(standin, action)
        if value == "c:submit":
            break
    else:
        raise AssertionError("never submitted")
    assert "Takk" in standin.last_message(CHAT).text

    positions = [p for p, _ in member.seen]
    estimates = [e for _, e in member.seen]
    assert positions == list(range(1, len(positions) + 1)) and len(positions) <= 15
    assert estimates == sorted(estimates, reverse=True)
    for message_id in dict.fromkeys(questions):
        message = standin.find_message(CHAT, message_id)
        assert message is not None and message.buttons == [], message.text
        assert "✓ Svar:" in message.text or "✓ Hoppet over" in message.text
        assert message.edits  # edited in place, not sent again
    review = next(m for m in standin.messages_for(CHAT) if m.text.startswith("Her er svarene"))
    assert review.buttons == [] and review.text.endswith("✓ Sendt inn.")
    assert standin.duplicates() == []

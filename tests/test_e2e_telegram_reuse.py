"""End to end in Telegram: a submitted answer changed with /svar while the round is open,
and a second round of the same survey walked through with "Ja, fortsatt riktig".

The real ``lyttepost run`` process against the Telegram Bot API stand-in, reading only
the last message with buttons, as a member does.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

from tests.e2e_support import Deployment
from tests.telegram_standin import TelegramStandIn
from tests.test_e2e_telegram import (
    CHAT,
    answer_current_question,
    cli,
    last_with_buttons,
    press,
    reply_to,
    say,
)
from tests.test_e2e_telegram import deployment as telegram_deployment
from tests.test_e2e_telegram import pytestmark as pytestmark  # e2e
from tests.test_e2e_telegram import standin as telegram_standin

deployment, standin = telegram_deployment, telegram_standin  # the fixtures

# Under two minutes at some 5 seconds a press: the unchanged walk must take at most 20.
MOST_PRESSES = 20


def buttons(message) -> list[str]:
    return [data for row in message.buttons for _, data in row]


async def expect(standin: TelegramStandIn, action, words: str):
    """Do something as the member and wait for a new message containing ``words``."""
    count = len(standin.messages_for(CHAT))
    action()
    return await standin.wait_for_message(
        CHAT, lambda m: words in m.text, timeout=15, after_count=count
    )


async def open_round(
    deployment: Deployment, standin: TelegramStandIn, words: str
) -> tuple[int, str]:
    """Create a round for Drammen and press the invitation's start button; waits for a
    message containing ``words``. Returns the round's id and the start payload."""
    count = len(standin.messages_for(CHAT))
    closes = (date.today() + timedelta(days=14)).isoformat()
    created = await cli(deployment, "rounds", "create", "--survey", "kvartalsvis-behov",
                        "--closes", closes, "--orgs", "3301")  # fmt: skip
    invitation = await standin.wait_for_message(
        CHAT, lambda m: "Svarfrist" in m.text and m.buttons, timeout=15, after_count=count
    )
    await expect(standin, press(standin, invitation, f"r:{created['id']}"), words)
    await asyncio.sleep(0.3)  # the rest of the reply
    return int(created["id"]), f"r:{created['id']}"


async def export(deployment: Deployment, round_id: int) -> dict:
    result = await asyncio.to_thread(
        deployment.cli, "export", "--round", str(round_id), "--format", "json"
    )
    (response,) = json.loads(result.stdout)
    return response


async def test_change_after_submit_and_a_still_true_round_in_telegram(
    deployment: Deployment,
    standin: TelegramStandIn,
) -> None:
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    contact = await cli(deployment, "contacts", "add", "--org", "3301", "--name",
                        "Kari Nordmann", "--role", "kommunedirektor")  # fmt: skip
    code = (await cli(deployment, "invites", "create", "--contact", str(contact["id"])))[0]["code"]
    await asyncio.to_thread(deployment.start)
    await reply_to(standin, say(standin, f"/start {code}"))

    first, _ = await open_round(deployment, standin, "Spørsmål 1")
    for _ in range(40):
        if "c:submit" in buttons(last_with_buttons(standin)):
            break
        await answer_current_question(standin)
    await asyncio.sleep(0.5)  # the review may still be on its way
    review = last_with_buttons(standin)
    assert "c:submit" in buttons(review), review.text
    await expect(standin, press(standin, review, "c:submit"), "Dere kan endre svarene til")

    # /svar after submission: the review with "Endre", never "nothing open".
    count = len(standin.messages_for(CHAT))
    await expect(standin, say(standin, "/svar"), "du kan endre det til")
    review = await standin.wait_for_message(CHAT, lambda m: bool(m.buttons), 15, count)
    assert "ingen åpne" not in " ".join(m.text for m in standin.messages_for(CHAT)[count:])
    assert "e:fornoyd" in buttons(review) and "c:submit" in buttons(review)
    await reply_to(standin, press(standin, review, "e:fornoyd"))
    await reply_to(standin, press(standin, last_with_buttons(standin), "a:fornoyd:5"))
    assert (await export(deployment, first))["answers"]  # still the submitted version
    await expect(standin, press(standin, last_with_buttons(standin), "c:submit"), "Endringene")
    answers = {a["question"]: a["value"] for a in (await export(deployment, first))["answers"]}
    assert answers["fornoyd"] == 5

    # The next round of the same survey: last round's answers, one press each.
    second, _ = await open_round(deployment, standin, "Sist svarte dere")
    prompt = last_with_buttons(standin)
    assert "Sist svarte dere" in prompt.text and "k:omrader" in buttons(prompt)
    # «Endre» turns the prompt into the ordinary question, last round's choice ticked;
    # «Neste» as it is gives the same answer (still "unchanged since last round").
    await reply_to(standin, press(standin, prompt, "x:omrader"))
    question = last_with_buttons(standin)
    assert "n:omrader" in buttons(question) and "☑" in str(question.buttons)
    await expect(standin, press(standin, question, "n:omrader"), "Sist skrev dere")
    await asyncio.sleep(0.3)
    presses = 3
    while "c:submit" not in buttons(last_with_buttons(standin)):
        message = last_with_buttons(standin)
        keep = next(p for p in buttons(message) if p.startswith("k:") or p == "c:skip")
        await reply_to(standin, press(standin, message, keep))
        presses += 1
    await expect(standin, press(standin, last_with_buttons(standin), "c:submit"), "Takk")
    presses += 1
    assert presses <= MOST_PRESSES
    response = await export(deployment, second)
    assert response["status"] == "submitted"
    kept = [a for a in response["answers"] if a["value"] is not None]
    assert kept and all(a["unchanged"] for a in kept)
    assert {a["question"]: a["value"] for a in response["answers"]} == answers

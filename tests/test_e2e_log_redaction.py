"""End to end: at LOG_LEVEL=DEBUG the real process's log holds no secret and no text.

``lyttepost run`` talks to the Bot API stand-in at DEBUG, where python-telegram-bot logs
every request and update and httpx every URL (with the bot token in it). A member
registers with a code and answers a survey question with a distinctive free text
(polling), then the process restarts in webhook mode (its secret is sent to Telegram).
The whole log, and the stderr of the CLI commands, is then searched for every secret,
the code and the text. With LOG_MESSAGE_TEXTS=true the text appears, the code does not.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.console_session import choose_answer, middle
from tests.e2e_support import TOKEN, Deployment
from tests.telegram_standin import TelegramStandIn

pytestmark = pytest.mark.e2e

CHAT = 515151
FREE_TEXT = "Kvitkløverhagen trenger sju nye sykepleiere"
WEBHOOK_SECRET = "Webhook_Secret-7f3a9c"
APP_PASSWORD = "App~Password.8e2b"
FILE_LINK_SECRET = "FileLinkSecret-41d0e6"
DATABASE_PASSWORD = "Pg-Passw0rd-Secret"


def deployment_for(tmp_path: Path, standin: TelegramStandIn, database_url: str) -> Deployment:
    if not database_url.startswith("sqlite"):
        # Trust authentication ignores it, but it is in DATABASE_URL like in production.
        database_url = (
            make_url(database_url)
            .set(password=DATABASE_PASSWORD)
            .render_as_string(hide_password=False)
        )
    return Deployment(
        database_url=database_url,
        api_base_url=standin.base_url,
        workdir=tmp_path,
        extra_env={
            "LOG_LEVEL": "DEBUG",
            "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
            "FILE_LINK_SECRET": FILE_LINK_SECRET,
            "PUBLIC_BASE_URL": "https://lyttepost.example.no",
        },
    )


async def register(deployment: Deployment, standin: TelegramStandIn, stderr: list[str]) -> str:
    """Contact, code, and the member's /start CODE through the running process."""
    stderr.append((await asyncio.to_thread(deployment.cli, "db", "upgrade")).stderr)
    added = await asyncio.to_thread(
        deployment.cli, "contacts", "add", "--org", "3301", "--name", "Kari Nordmann",
        "--role", "kommunedirektor", "--json",
    )  # fmt: skip
    stderr.append(added.stderr)
    created = await asyncio.to_thread(
        deployment.cli, "invites", "create", "--contact", str(json.loads(added.stdout)["id"]),
        "--json",
    )  # fmt: skip
    stderr.append(created.stderr)
    code = json.loads(created.stdout)[0]["code"]
    await asyncio.to_thread(deployment.start)
    standin.user_sends_text(CHAT, f"/start {code}", first_name="Kari")
    await standin.wait_for_message(CHAT, lambda m: "Velkommen" in m.text, timeout=20)
    return code


async def answer_with_free_text(deployment: Deployment, standin: TelegramStandIn) -> None:
    """Open a round, start it, and answer until a question wants text: type FREE_TEXT."""
    count = len(standin.messages_for(CHAT))
    await asyncio.to_thread(
        deployment.cli, "rounds", "create", "--survey", "kvartalsvis-behov",
        "--closes", "2099-12-31", "--orgs", "3301",
    )  # fmt: skip
    invitation = await standin.wait_for_message(
        CHAT, lambda m: any(d.startswith("r:") for _, d in sum(m.buttons, [])), 20, count
    )
    start = next(d for _, d in sum(invitation.buttons, []) if d.startswith("r:"))
    for _ in range(10):
        count = len(standin.messages_for(CHAT))
        changed = [(m.message_id, m.text, str(m.buttons)) for m in standin.messages_for(CHAT)]
        if start:
            standin.user_presses(CHAT, invitation.message_id, start)
            start = ""
        else:
            question = next(m for m in reversed(standin.messages_for(CHAT)) if m.buttons)
            payload = choose_answer([b for row in question.buttons for b in row], middle)
            if payload is None:
                standin.user_sends_text(CHAT, FREE_TEXT, first_name="Kari")
                await standin.wait_for_message(
                    CHAT, lambda m: "haster" in m.text.lower() or m.buttons, 20, count
                )
                return
            standin.user_presses(CHAT, question.message_id, payload)
        await standin.wait_until(
            lambda before=changed: (
                [(m.message_id, m.text, str(m.buttons)) for m in standin.messages_for(CHAT)]
                != before
            ),
            timeout=20,
        )
        # An answer edits the question, then the next one follows (paced per chat).
        await standin.wait_until(
            lambda: bool((newest := standin.last_message(CHAT)) and newest.buttons), timeout=20
        )
        await asyncio.sleep(0.3)
    raise AssertionError("never reached a question that wants typed text")


async def test_a_debug_log_holds_no_secret_code_or_member_text(
    tmp_path: Path, database_url: str
) -> None:
    stderr: list[str] = []
    async with TelegramStandIn() as standin:
        deployment = deployment_for(tmp_path, standin, database_url)
        try:
            code = await register(deployment, standin, stderr)
            await answer_with_free_text(deployment, standin)
            await asyncio.to_thread(deployment.stop)
            # Webhook mode: the secret goes to Telegram in setWebhook (logged at DEBUG).
            deployment.extra_env |= {
                "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{deployment.http_port}/telegram/hook",
                "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
            await asyncio.to_thread(deployment.start)
            await standin.wait_until(lambda: standin.webhook_url is not None, timeout=20)
            count = len(standin.messages_for(CHAT))
            standin.user_sends_text(CHAT, f"/start {code}", first_name="Kari")
            await standin.wait_for_message(CHAT, timeout=20, after_count=count)
        finally:
            await asyncio.to_thread(deployment.stop)
        assert standin.calls_to("setWebhook")[-1].params["secret_token"] == WEBHOOK_SECRET
    log = deployment.log() + "\n".join(stderr)
    secrets = {
        "bot token": TOKEN,
        "token's secret half": TOKEN.split(":")[1],
        "webhook secret": WEBHOOK_SECRET,
        "app password": APP_PASSWORD,
        "file link secret": FILE_LINK_SECRET,
        "database password": DATABASE_PASSWORD,
        "invitation code": code,
        "member's free text": FREE_TEXT,
        "part of the free text": "Kvitkløverhagen",
        "member's name": "'first_name': 'Kari'",
    }
    leaked = [name for name, secret in secrets.items() if secret in log]
    assert leaked == [], leaked
    # ... in a log that is the real thing: DEBUG lines of requests, updates and URLs.
    assert "getUpdates" in log and "sendMessage" in log and "HTTP Request: POST" in log
    assert "/bot[token]/" in log and "'text': '[text]'" in log


async def test_with_log_message_texts_the_text_appears_but_never_the_code(
    tmp_path: Path,
) -> None:
    stderr: list[str] = []
    async with TelegramStandIn() as standin:
        deployment = deployment_for(tmp_path, standin, f"sqlite+aiosqlite:///{tmp_path / 'l.db'}")
        deployment.extra_env["LOG_MESSAGE_TEXTS"] = "true"
        try:
            code = await register(deployment, standin, stderr)
            count = len(standin.messages_for(CHAT))
            standin.user_sends_text(CHAT, FREE_TEXT, first_name="Kari")
            await standin.wait_for_message(CHAT, timeout=20, after_count=count)
        finally:
            await asyncio.to_thread(deployment.stop)
    log = deployment.log() + "\n".join(stderr)
    assert code not in log and TOKEN not in log and FILE_LINK_SECRET not in log
    assert FREE_TEXT in log
    assert "/start [code]" in log

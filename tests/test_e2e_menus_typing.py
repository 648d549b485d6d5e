"""End to end, in both channels: the real web app (``build_runtime`` + ``web_app``) against
the Telegram Bot API stand-in and the Teams stand-ins.

Telegram gets the members' menu at start (default scope), a staff chat its own menu
(chat scope) once a staff code binds it, and a member who chooses nynorsk the members'
menu in nynorsk (chat scope) at once; a reply made slow by a test hook (the
conversation's handler waits, production code does not) is preceded by "typing…" in
Telegram and by a typing activity in Teams, and a fast one is not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Runtime, build_runtime, web_app
from bot.settings import Settings
from services import admins
from services.command_menus import default_menu, staff_menu
from services.conversation import Conversation
from services.inbound import Inbound
from services.staff import add_staff
from storage.orm import utcnow
from tests.bokmal_words import bokmal_words
from tests.e2e_support import Deployment, bind_contacts
from tests.login_standin import LoginStandIn
from tests.teams_standin import TeamsStandIn
from tests.telegram_standin import TelegramStandIn
from tests.workspace_support import workspace_site

pytestmark = pytest.mark.e2e

CHAT = 737373
MEMBER_CHAT = 747474
SLOW_TEXT = "/hjelp"
SLOW_SECONDS = 2.0


def slow_replies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's hook: the conversation takes a while over /hjelp (nothing else)."""
    handle: Callable[..., Awaitable[None]] = Conversation.handle

    async def slow(self: Conversation, session: AsyncSession, event: Inbound, row: int) -> None:
        if event.text == SLOW_TEXT:
            await asyncio.sleep(SLOW_SECONDS)
        await handle(self, session, event, row)

    monkeypatch.setattr(Conversation, "handle", slow)


@pytest.fixture
async def telegram(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[TelegramStandIn, Runtime]]:
    slow_replies(monkeypatch)
    async with TelegramStandIn() as standin:
        settings = Settings(
            _env_file=None, database_url=migrated_url, telegram_bot_token="123:TEST",
            telegram_api_base_url=standin.base_url, telegram_bot_username="lyttepost_test_bot",
            scheduler_enabled=False,
        )  # fmt: skip
        runtime = build_runtime(settings)
        async with TestClient(TestServer(web_app(runtime))):
            yield standin, runtime


def commands_of(call: Any) -> list[str]:
    return [command["command"] for command in call.params["commands"]]


async def test_telegram_gets_the_default_menu_at_start_and_a_staff_chat_its_own(
    telegram: tuple[TelegramStandIn, Runtime],
) -> None:
    standin, runtime = telegram
    first = await standin.wait_for_call("setMyCommands", timeout=10)
    assert first.params["scope"] == {"type": "default"} and "language_code" not in first.params
    assert commands_of(first) == [c.name for c in default_menu()]

    async with runtime.sessions() as session, session.begin():
        staff = await add_staff(session, "Anne Admin", "anne@ks.no", "admin", utcnow())
        code = (await admins.issue_chat_code(session, staff, utcnow())).secret
    standin.user_sends_text(CHAT, f"/start {code}", first_name="Anne")
    welcome = await standin.wait_for_message(CHAT, timeout=10)
    assert "koblet til KS-kontoen din" in welcome.text
    scoped = await standin.wait_for_call(
        "setMyCommands", lambda call: call.params.get("scope", {}).get("type") == "chat", 10
    )
    assert scoped.params["scope"] == {"type": "chat", "chat_id": CHAT}
    assert commands_of(scoped) == [c.name for c in staff_menu("admin", member=False)]
    assert "lukk" in commands_of(scoped) and "svar" not in commands_of(scoped)


async def test_telegram_gives_a_member_who_chooses_nynorsk_a_menu_in_nynorsk(
    telegram: tuple[TelegramStandIn, Runtime], migrated_url: str
) -> None:
    standin, _ = telegram
    await standin.wait_for_call("setMyCommands", timeout=10)  # the default, in bokmål
    (member,) = list(await bind_contacts(migrated_url, 1, MEMBER_CHAT))  # its chat id

    standin.user_sends_text(MEMBER_CHAT, "/sprak nn")
    await standin.wait_for_message(
        MEMBER_CHAT, lambda m: m.text.startswith("No les du Lyttepost på nynorsk."), timeout=10
    )
    scoped = await standin.wait_for_call(
        "setMyCommands", lambda call: call.params.get("scope", {}).get("type") == "chat", 10
    )
    assert scoped.params["scope"] == {"type": "chat", "chat_id": member}
    assert commands_of(scoped) == [c.name for c in default_menu()]
    lines = {c["command"]: c["description"] for c in scoped.params["commands"]}
    assert lines["status"] == "Sjå kva du har svart, og når runden stengjer"
    assert bokmal_words(" ".join(lines.values())) == []

    standin.user_sends_text(MEMBER_CHAT, "/sprak bokmål")  # back to the default menu
    removed = await standin.wait_for_call("deleteMyCommands", timeout=10)
    assert removed.params["scope"] == {"type": "chat", "chat_id": member}


async def test_an_organisation_set_to_nynorsk_in_the_workspace_gives_its_chats_the_menu_at_once(
    migrated_url: str,
) -> None:
    """The workspace pokes the menus (the periodic look is a minute away)."""
    async with TelegramStandIn() as standin, workspace_site(migrated_url, telegram=standin) as site:
        await standin.wait_for_call("setMyCommands", timeout=10)
        ((member, code),) = (await bind_contacts(migrated_url, 1, MEMBER_CHAT)).items()
        admin = await site.signed_in("Ada", "ada@ks.no", "admin")
        token = await admin.csrf(f"/medlemmer/{code}")
        saved = await admin.post(
            f"/medlemmer/{code}/fakta",
            {"csrf_token": token, "innbyggere": "", "kostra": "", "region": "", "sprak": "nn"},
        )
        assert saved.status == 303
        scoped = await standin.wait_for_call(
            "setMyCommands", lambda call: call.params.get("scope", {}).get("type") == "chat", 10
        )
        assert scoped.params["scope"] == {"type": "chat", "chat_id": member}
        assert scoped.params["commands"][0]["description"].endswith("frå KS: start KODE")


async def test_telegram_shows_typing_before_a_slow_reply_and_not_before_a_fast_one(
    telegram: tuple[TelegramStandIn, Runtime],
) -> None:
    standin, _ = telegram
    standin.user_sends_text(CHAT, "/personvern")  # fast
    fast = await standin.wait_for_message(CHAT, timeout=10)
    await asyncio.sleep(1.0)
    assert standin.chat_actions == []

    standin.user_sends_text(CHAT, SLOW_TEXT)
    slow = await standin.wait_for_message(
        CHAT, lambda m: m.message_id != fast.message_id, timeout=10
    )
    assert [(chat, action) for chat, action, _ in standin.chat_actions] == [(CHAT, "typing")]
    assert standin.chat_actions[0][2] < slow.sent_at


@pytest.fixture
async def teams(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TeamsStandIn]:
    slow_replies(monkeypatch)
    async with LoginStandIn() as login, TeamsStandIn(bot_app_id=login.app_id) as standin:
        settings = Settings(
            _env_file=None, database_url=migrated_url, teams_enabled=True,
            microsoft_app_id=login.app_id, microsoft_app_password=login.app_password,
            teams_openid_metadata_url=login.metadata_url, microsoft_login_url=login.login_url,
            teams_auth_timeout_seconds=1, scheduler_enabled=False,
        )  # fmt: skip
        runtime = build_runtime(settings, with_telegram=False)
        async with TestClient(TestServer(web_app(runtime))) as client:
            standin.bot_endpoint = str(client.make_url("/api/messages"))
            standin.bot_authorization = login.authorization(login.app_id, standin.service_url)
            for _ in range(100):
                health = await (await client.get("/healthz")).json()
                if health.get("teams_keys"):
                    break
                await asyncio.sleep(0.05)
            yield standin


async def test_teams_gets_a_typing_activity_before_a_slow_reply(teams: TeamsStandIn) -> None:
    conversation = "a:kari-typing"
    assert await teams.user_sends_text(conversation, "/personvern") in (200, 201)
    fast = await teams.wait_for_activity(conversation, timeout=10)
    await asyncio.sleep(1.0)
    assert teams.typing == []

    assert await teams.user_sends_text(conversation, SLOW_TEXT) in (200, 201)
    await teams.wait_until(lambda: len(teams.messages_for(conversation)) >= 2, timeout=10)
    slow = teams.messages_for(conversation)[-1]
    assert slow.activity_id != fast.activity_id
    assert [chat for chat, _ in teams.typing] == [conversation]
    assert teams.typing[0][1] < slow.sent_at


# --- the real ``lyttepost run`` process ----------------------------------------------------


async def test_the_real_process_sets_the_menus_and_deactivation_takes_the_staff_menu_away(
    tmp_path: Path,
) -> None:
    """As deployed: the default menu at start, a staff chat's own after ``/start CODE``
    (the code from ``lyttepost staff code``), and after ``lyttepost staff deactivate`` the
    chat's menu is removed again when the process is restarted (its start-up sweep)."""
    async with TelegramStandIn() as standin:
        deployment = Deployment(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
            api_base_url=standin.base_url,
            workdir=tmp_path,
        )
        try:
            await asyncio.to_thread(deployment.cli, "db", "upgrade")
            await asyncio.to_thread(
                deployment.cli_json, "staff", "add", "--name", "Anne Admin",
                "--email", "anne@ks.no", "--role", "admin",
            )  # fmt: skip
            code = (
                await asyncio.to_thread(
                    deployment.cli_json, "staff", "code", "--email", "anne@ks.no"
                )
            )["code"]
            await asyncio.to_thread(deployment.start)
            first = await standin.wait_for_call("setMyCommands", timeout=20)
            assert first.params["scope"] == {"type": "default"}

            standin.user_sends_text(CHAT, f"/start {code}", first_name="Anne")
            scoped = await standin.wait_for_call(
                "setMyCommands", lambda call: call.params.get("scope", {}).get("type") == "chat", 20
            )
            assert scoped.params["scope"] == {"type": "chat", "chat_id": CHAT}
            assert "lukk" in commands_of(scoped)

            await asyncio.to_thread(deployment.stop)
            await asyncio.to_thread(
                deployment.cli_json, "staff", "deactivate", "--email", "anne@ks.no"
            )
            await asyncio.to_thread(deployment.start)
            removed = await standin.wait_for_call("deleteMyCommands", timeout=20)
            assert removed.params["scope"] == {"type": "chat", "chat_id": CHAT}
        finally:
            await asyncio.to_thread(deployment.stop)

"""The HTTP intake refuses what it must, never answers 500, and writes nothing it refused.

The real web app (``build_runtime`` + ``web_app``) with Teams credentials configured,
its tokens checked against the sign-in stand-in, sending to the Bot Connector stand-in;
and with a Telegram webhook against the Bot API stand-in. Each bad request gets a
deliberate 4xx, one WARNING line and no traceback, and leaves no row behind; invoke
activities get an invoke response; what is ignored on purpose is counted in /healthz.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import build_runtime, web_app
from bot.settings import Settings
from storage.orm import Chat, Contact, InboundEvent, Organisation
from tests.e2e_support import free_port
from tests.login_standin import LoginStandIn, forgeries
from tests.teams_standin import TeamsStandIn
from tests.telegram_standin import TelegramStandIn

SECRET = "webhook-secret_42"


@dataclass
class Site:
    client: TestClient
    runtime: object
    login: LoginStandIn | None = None
    teams: TeamsStandIn | None = None
    telegram: TelegramStandIn | None = None

    async def rows(self) -> int:
        async with self.runtime.sessions() as session:  # type: ignore[attr-defined]
            return int(await session.scalar(select(func.count()).select_from(InboundEvent)) or 0)

    async def health(self) -> dict:
        response = await self.client.get("/healthz")
        assert response.status == 200
        return await response.json()


async def _register(site: Site, channel: str, address: str, name: str, reference=None) -> None:
    """A member who redeemed their code: a contact with a chat on the channel."""
    async with site.runtime.sessions() as session, session.begin():  # type: ignore[attr-defined]
        org = await session.scalar(select(Organisation.id).where(Organisation.code == "3301"))
        contact = Contact(organisation_id=org, name=name, role="radmann")
        session.add(contact)
        await session.flush()
        session.add(Chat(channel=channel, address=address, user_id=address, contact_id=contact.id,
                         conversation_ref=reference, last_seen_at=datetime.now(UTC)))  # fmt: skip


@pytest.fixture
async def teams_site(migrated_url: str) -> AsyncIterator[Site]:
    """The web app with Teams credentials; the signing keys already fetched."""
    async with LoginStandIn() as login, TeamsStandIn(bot_app_id=login.app_id) as teams:
        settings = Settings(
            _env_file=None, database_url=migrated_url, teams_enabled=True,
            microsoft_app_id=login.app_id, microsoft_app_password=login.app_password,
            teams_openid_metadata_url=login.metadata_url, microsoft_login_url=login.login_url,
            teams_auth_timeout_seconds=1, scheduler_enabled=False,
            teams_chat_rate_per_second=50, teams_chat_burst=50,
        )  # fmt: skip
        runtime = build_runtime(settings, with_telegram=False)
        async with TestClient(TestServer(web_app(runtime))) as client:
            teams.bot_endpoint = str(client.make_url("/api/messages"))
            teams.bot_authorization = login.authorization(login.app_id, teams.service_url)
            site = Site(client, runtime, login=login, teams=teams)
            for _ in range(100):
                if (await site.health()).get("teams_keys"):
                    break
                await asyncio.sleep(0.05)
            yield site


def _bot_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("bot.") and r.levelno >= logging.WARNING]


async def _refused(
    site: Site, caplog, expected: int, data: bytes, headers: dict[str, str], path: str
) -> None:
    """POST and check: the status, one WARNING line and nothing worse, no row written."""
    rows = await site.rows()
    caplog.clear()
    response = await site.client.post(path, data=io.BytesIO(data), headers=headers)
    text = await response.text()
    assert response.status == expected, (response.status, text, caplog.text)
    warnings = _bot_warnings(caplog)
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING, caplog.text
    assert not any(r.exc_info for r in caplog.records) and "Traceback" not in caplog.text
    assert await site.rows() == rows


async def test_forged_tokens_and_bad_bodies_are_refused_on_teams(teams_site: Site, caplog) -> None:
    site, login, teams = teams_site, teams_site.login, teams_site.teams
    assert login is not None and teams is not None
    conversation = "a:forged"
    activity = teams.activity_from_user(conversation, "message", text="/start")
    body = json.dumps(activity).encode()
    json_type = {"Content-Type": "application/json"}
    caplog.set_level(logging.INFO)

    for name, token in forgeries(login, login.app_id, teams.service_url).items():
        if name == "non-ascii":
            continue  # aiohttp's client cannot put it in a header; covered in test_teams_auth
        headers = {**json_type, "Authorization": f"Bearer {token}"}
        await _refused(site, caplog, 401, body, headers, "/api/messages")
    await _refused(site, caplog, 401, body, json_type, "/api/messages")  # no token at all

    valid = {**json_type, "Authorization": login.authorization(login.app_id, teams.service_url)}
    bad_bodies = {
        413: json.dumps({**activity, "text": "x" * (1024 * 1024)}).encode(),
        400: b"[" * 100_000 + b"]" * 100_000,  # nested too deep to read
    }
    for status, data in bad_bodies.items():
        await _refused(site, caplog, status, data, valid, "/api/messages")
    for data in (
        b"\xff\xfe{not utf-8",
        b"[]",
        json.dumps({**activity, "type": None}).encode(),
        json.dumps({**activity, "channelId": "webchat"}).encode(),  # valid token, not Teams
        json.dumps({**activity, "conversation": None}).encode(),
        json.dumps({**activity, "timestamp": "in a while"}).encode(),
    ):
        await _refused(site, caplog, 400, data, valid, "/api/messages")

    # A token for another serviceUrl does not carry an activity to this one.
    elsewhere = login.authorization(login.app_id, "https://smba.trafficmanager.net/emea/")
    await _refused(
        site, caplog, 401, body, {**json_type, "Authorization": elsewhere}, "/api/messages"
    )

    # And after all that, a registered member is answered, with the bot's own token.
    await _register(
        site, "teams", conversation, "Kari Nordmann", teams.conversation_reference(conversation)
    )
    assert await teams.user_sends_text(conversation, "/start") == 201
    reply = await teams.wait_for_activity(conversation, timeout=10)
    assert "Kari Nordmann" in (reply.text or "")
    assert reply.authorization == f"Bearer {login.issued[-1]}"
    assert login.token_requests[-1].tenant == "botframework.com"


async def test_without_signing_keys_teams_gets_503_and_everything_else_runs(
    migrated_url: str, caplog
) -> None:
    async with LoginStandIn() as login, TeamsStandIn(bot_app_id=login.app_id) as teams:
        login.hang("metadata")
        settings = Settings(
            _env_file=None, database_url=migrated_url, teams_enabled=True,
            microsoft_app_id=login.app_id, microsoft_app_password=login.app_password,
            teams_openid_metadata_url=login.metadata_url, microsoft_login_url=login.login_url,
            teams_auth_timeout_seconds=0.5, scheduler_enabled=False,
        )  # fmt: skip
        runtime = build_runtime(settings, with_telegram=False)
        async with TestClient(TestServer(web_app(runtime))) as client:
            site = Site(client, runtime, login=login, teams=teams)
            teams.bot_endpoint = str(client.make_url("/api/messages"))
            teams.bot_authorization = login.authorization(login.app_id, teams.service_url)
            await _register(
                site, "teams", "a:kari", "Kari Nordmann", teams.conversation_reference("a:kari")
            )
            started = time.monotonic()
            response = await client.post(
                "/api/messages", json=teams.activity_from_user("a:kari", "typing"),
                headers={"Authorization": teams.bot_authorization},
            )  # fmt: skip
            assert response.status == 503 and response.headers["Retry-After"] == "5"
            assert await teams.user_sends_text("a:kari", "/start") == 503
            health = await site.health()
            assert time.monotonic() - started < 0.5
            assert health["status"] == "ok" and health["teams_keys"] is False
            assert await site.rows() == 0
            await asyncio.sleep(0.7)  # the first fetch gives up after its 0.5 s timeout
            assert (await site.health())["teams_keys"] is False
            login.heal()  # Microsoft answers again: the background fetch gets the keys
            for _ in range(100):
                if (await site.health())["teams_keys"]:
                    break
                await asyncio.sleep(0.05)
            assert await teams.redeliver() == 201  # Teams retried: now it goes through
            reply = await teams.wait_for_activity("a:kari", timeout=10)
            assert "Kari Nordmann" in (reply.text or "")
    assert "cannot fetch the Bot Framework signing keys" in caplog.text


async def test_invoke_activities_get_an_invoke_response(teams_site: Site) -> None:
    teams = teams_site.teams
    assert teams is not None
    await _register(teams_site, "teams", "a:inv", "Ola", teams.conversation_reference("a:inv"))
    execute = teams.activity_from_user(
        "a:inv", "invoke",
        value={"action": {"type": "Action.Execute", "verb": "answer",
                          "data": {"payload": "c:overview"}}, "trigger": "manual"},
    )  # fmt: skip
    execute["name"] = "adaptiveCard/action"  # (the helper's name= is the member's name)
    response = await teams_site.client.post(
        "/api/messages", json=execute, headers={"Authorization": teams.bot_authorization or ""}
    )
    assert response.status == 200
    assert await response.json() == {
        "statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": "Mottatt."
    }  # fmt: skip
    assert await teams_site.rows() == 1  # the press was recorded like a card's submit
    other = {**teams.activity_from_user("a:inv", "invoke", value={}), "name": "task/fetch"}
    response = await teams_site.client.post(
        "/api/messages", json=other, headers={"Authorization": teams.bot_authorization or ""}
    )
    assert response.status == 200 and await response.json() == {}
    assert (await teams_site.health())["ignored"]["teams"]["invoke:task/fetch"] == 1


async def test_activities_ignored_on_purpose_are_counted_and_logged(
    teams_site: Site, caplog
) -> None:
    teams = teams_site.teams
    assert teams is not None
    caplog.set_level(logging.DEBUG, logger="bot.ignored")
    group = {
        "id": "19:group@thread.v2",
        "conversationType": "groupChat",
        "tenantId": teams.tenant_id,
    }
    channel = {"id": "19:general@thread.skype", "conversationType": "channel", "isGroup": True}
    ignored = [
        teams.activity_from_user("a:x", "typing"),
        teams.activity_from_user("a:x", "messageReaction", reactionsAdded=[{"type": "like"}]),
        {
            **teams.activity_from_user("a:x", "event"),
            "name": "application/vnd.microsoft.meetingStart",
        },
        teams.activity_from_user("a:x", "message", text="hei alle", conversation=group),
        teams.activity_from_user("a:x", "message", text="hei kanal", conversation=channel),
        teams.activity_from_user("a:x", "installationUpdate", action="add"),
    ]
    for activity in ignored:
        assert await teams.post_activity(activity) == 201
    counts = (await teams_site.health())["ignored"]["teams"]
    assert counts == {
        "typing": 1, "messageReaction": 1, "event": 1, "message in groupChat": 1,
        "message in channel": 1, "installationUpdate:add": 1,
    }  # fmt: skip
    assert "teams: ignored messageReaction" in caplog.text
    assert await teams_site.rows() == 0


async def test_two_members_with_the_same_activity_id_are_both_answered(teams_site: Site) -> None:
    """Teams activity ids are unique per conversation only: the same id in two members'
    chats is two messages, both recorded and both answered."""
    teams = teams_site.teams
    assert teams is not None
    for conversation, name in (("a:kari", "Kari Nordmann"), ("a:per", "Per Hansen")):
        await _register(
            teams_site, "teams", conversation, name, teams.conversation_reference(conversation)
        )
    same_id = "1712345678901"
    for conversation in ("a:kari", "a:per"):
        activity = teams.activity_from_user(conversation, "message", text="/start", id=same_id)
        assert await teams.post_activity(activity) == 201
    kari = await teams.wait_for_activity("a:kari", timeout=10)
    per = await teams.wait_for_activity("a:per", timeout=10)
    assert "Kari Nordmann" in (kari.text or "") and "Per Hansen" in (per.text or "")
    assert await teams_site.rows() == 2
    assert await teams.redeliver() == 201  # Teams' resend of the second: still one row
    assert await teams_site.rows() == 2


# --- Telegram webhook ----------------------------------------------------------------------


@pytest.fixture
async def telegram_site(migrated_url: str) -> AsyncIterator[Site]:
    async with TelegramStandIn() as telegram:
        port = free_port()
        settings = Settings(
            _env_file=None, database_url=migrated_url, telegram_bot_token="123:TEST",
            telegram_api_base_url=telegram.base_url, telegram_bot_username="lyttepost_test_bot",
            telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
            telegram_webhook_secret=SECRET, scheduler_enabled=False,
        )  # fmt: skip
        runtime = build_runtime(settings)
        async with TestClient(TestServer(web_app(runtime), port=port)) as client:
            yield Site(client, runtime, telegram=telegram)


async def _raw_post(port: int, path: str, headers: list[bytes], body: bytes) -> int:
    """An HTTP request written byte by byte (clients refuse to send some header bytes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"POST {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close",
            b"Content-Type: application/json", f"Content-Length: {len(body)}".encode(), *headers]  # fmt: skip
    writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


async def test_the_telegram_webhook_refuses_bad_requests(telegram_site: Site, caplog) -> None:
    site, telegram = telegram_site, telegram_site.telegram
    assert telegram is not None
    caplog.set_level(logging.INFO)
    path = "/telegram/webhook"
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/start",
              "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "is_bot": False, "first_name": "K"}}}  # fmt: skip
    secret = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}

    # Invalid bytes in the secret header: 401, like any wrong secret.
    port = site.client.server.port
    assert port is not None
    rows = await site.rows()
    caplog.clear()
    for value in (b"\xff\xfe\x80", "hemmelig-æøå".encode(), SECRET.encode() + b"\xc3"):
        status = await _raw_post(
            port, path, [b"X-Telegram-Bot-Api-Secret-Token: " + value], json.dumps(update).encode()
        )
        assert status == 401
    assert len(_bot_warnings(caplog)) == 3 and "Traceback" not in caplog.text
    assert await site.rows() == rows

    await _refused(
        site, caplog, 401, json.dumps(update).encode(), {"Content-Type": "application/json"}, path
    )
    await _refused(
        site, caplog, 413, b'{"update_id": 2, "x": "' + b"x" * (1024 * 1024) + b'"}', secret, path
    )
    await _refused(site, caplog, 400, b"[" * 100_000 + b"]" * 100_000, secret, path)
    await _refused(site, caplog, 400, b"\xff{", secret, path)

    # A member is still answered afterwards.
    await _register(site, "telegram", "42", "Kari Nordmann")
    response = await site.client.post(path, data=json.dumps(update), headers=secret)
    assert response.status == 200
    reply = await telegram.wait_for_message(42, timeout=10)
    assert "Kari Nordmann" in reply.text


async def test_telegram_updates_ignored_on_purpose_are_counted(telegram_site: Site, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.ignored")
    group_chat = {"id": -100123, "type": "supergroup", "title": "Rådmenn i Vestland"}
    updates = [
        {"edited_message": {"message_id": 1, "date": 0, "edit_date": 1, "text": "x",
                            "chat": {"id": 42, "type": "private"}}},
        {"channel_post": {"message_id": 1, "date": 0, "text": "x", "chat": {"id": -1001, "type": "channel"}}},
        {"message_reaction": {"chat": {"id": 42, "type": "private"}, "message_id": 3, "date": 0,
                              "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}},
        {"poll": {"id": "5", "question": "?", "options": [], "total_voter_count": 0, "is_closed": False,
                  "is_anonymous": True, "type": "regular", "allows_multiple_answers": False}},
        {"chat_boost": {"chat": group_chat, "boost": {"boost_id": "b", "add_date": 0, "expiration_date": 1,
                                                      "source": {"source": "premium", "user": {"id": 7}}}}},
        {"my_chat_member": {"chat": {"id": 42, "type": "private"}, "from": {"id": 42}, "date": 0,
                            "old_chat_member": {"status": "member"}, "new_chat_member": {"status": "kicked"}}},
        {"message": {"message_id": 9, "date": 0, "text": "hei", "chat": group_chat, "from": {"id": 42}}},
    ]  # fmt: skip
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for number, update in enumerate(updates, start=100):
        response = await telegram_site.client.post(
            "/telegram/webhook", json={"update_id": number, **update}, headers=headers
        )
        assert response.status == 200
    counts = (await telegram_site.health())["ignored"]["telegram"]
    assert counts == {
        "edited_message": 1, "channel_post in channel": 1, "message_reaction": 1, "poll": 1,
        "chat_boost in supergroup": 1, "my_chat_member": 1, "message in supergroup": 1,
    }  # fmt: skip
    assert "telegram: ignored poll" in caplog.text
    assert await telegram_site.rows() == 0

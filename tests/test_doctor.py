"""``lyttepost doctor``: each check against the stand-ins (Telegram, Entra's token endpoint),
SQLite databases at head, behind and empty, a dead PostgreSQL address, a port in use, a bad
zone, broken survey and plan files, no admin; then the command's lines, JSON and exit codes.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from alembic import command
from typer.testing import CliRunner, Result

from bot.cli import app
from dialogs.definition import shipped_survey_files
from scheduler.plan_check import check_plan
from services import doctor
from services.database import open_database
from services.setup import setup_database
from storage.migrate import alembic_config, head_revision
from storage.orm import Staff, SurveyVersion
from tests.login_standin import LoginStandIn
from tests.telegram_standin import TelegramStandIn

TOKEN = "123456:doctor-test-token-AAAAAAAAAAAAAAAA"
HOOK = "https://bot.example.no/telegram/webhook"
SECRET = "webhook-secret-0123456789"
DEAD_POSTGRES = "postgresql+asyncpg://lyttepost:pg-password-9876@127.0.0.1:1/x"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
PLAN = Path(__file__).resolve().parent.parent / "docs" / "examples" / "arshjul-2027.yaml"
ENV_PREFIXES = ("DATABASE_", "TELEGRAM_", "TEAMS_", "MICROSOFT_", "HTTP_", "TIMEZONE", "ENTRA_")


def sqlite(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database at head with members and the shipped surveys (``db upgrade``)."""
    path = tmp_path_factory.mktemp("doctor") / "head.db"
    asyncio.run(setup_database(sqlite(path)))
    return path


@pytest.fixture
def migrated(migrated_file: Path, tmp_path: Path) -> str:
    """A copy of it of this test's own."""
    copy = tmp_path / "lyttepost.db"
    shutil.copyfile(migrated_file, copy)
    return sqlite(copy)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=1.0) as http:
        yield http


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def add_staff(url: str, role: str = "admin", *, active: bool = True) -> None:
    async with open_database(url) as database, database.sessions() as session, session.begin():
        session.add(
            Staff(name="Kari", email=f"kari-{role}-{active}@ks.no", role=role, active=active)
        )


# --- database -------------------------------------------------------------------------------


async def test_a_database_at_head_is_ok(migrated: str) -> None:
    finding = await doctor.check_database(migrated, seconds=5)
    assert finding == doctor.Finding("database", "ok", f"reachable, at head ({head_revision()})")
    assert finding.line() == f"ok    database: reachable, at head ({head_revision()})"


async def test_a_database_behind_head_says_db_upgrade(tmp_path: Path) -> None:
    url = sqlite(tmp_path / "old.db")
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0011")
    finding = await doctor.check_database(url, seconds=5)
    assert finding.status == "fail"
    assert finding.detail == f"at 0011, this version needs {head_revision()}"
    assert finding.fix == "run 'lyttepost db upgrade'"


async def test_an_empty_or_missing_sqlite_file_is_a_fail_and_nothing_is_created(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    finding = await doctor.check_database(sqlite(empty), seconds=5)
    assert (finding.status, finding.fix) == ("fail", "run 'lyttepost db upgrade'")
    assert "reachable but empty (no schema)" in finding.detail

    missing = tmp_path / "nowhere" / "lyttepost.db"
    finding = await doctor.check_database(sqlite(missing), seconds=5)
    assert finding.status == "fail" and f"no SQLite file {missing}" in finding.detail
    assert not missing.parent.exists()


async def test_a_file_that_is_no_database_is_a_fail_line(tmp_path: Path) -> None:
    garbage = tmp_path / "notes.db"
    garbage.write_text("not a database at all, " * 100)
    finding = await doctor.check_database(sqlite(garbage), seconds=5)
    assert finding.status == "fail" and "cannot use SQLite file" in finding.detail


async def test_a_dead_postgresql_is_a_fail_line_without_its_password() -> None:
    started = time.monotonic()
    finding = await doctor.check_database(DEAD_POSTGRES, seconds=2)
    assert time.monotonic() - started < 3
    assert finding.status == "fail"
    assert finding.detail.startswith("cannot use 127.0.0.1:1/x (")
    assert "pg-password" not in finding.line()
    assert "DATABASE_URL" in finding.fix


async def test_a_database_that_never_answers_fails_within_the_timeout() -> None:
    """A server that accepts the connection and says nothing (a hung proxy)."""
    writers: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    silent = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        started = time.monotonic()
        finding = await doctor.check_database(
            f"postgresql+asyncpg://u:p@127.0.0.1:{port}/x", seconds=0.5
        )
        assert time.monotonic() - started < 2
        assert finding.status == "fail"
        assert finding.detail == f"no answer from 127.0.0.1:{port}/x within 0.5 s"
    finally:
        for writer in writers:
            writer.close()
        silent.close()
        await silent.wait_closed()


async def test_an_unsupported_url_is_a_fail_line() -> None:
    finding = await doctor.check_database("mysql://root@localhost/x", seconds=1)
    assert finding.status == "fail" and "mysql://" in finding.detail


# --- Telegram: getMe and getWebhookInfo -----------------------------------------------------


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn(token=TOKEN) as api:
        yield api


async def test_a_valid_token_is_accepted_by_getme(telegram, client) -> None:
    me = await doctor.bot_api(client, telegram.base_url, TOKEN, "getMe")
    finding = doctor.telegram_finding(me, "")
    assert finding.status == "ok"
    assert finding.detail.startswith("token accepted by getMe: @lyttepost_test_bot (id 123456)")
    assert me.server_time is not None
    assert doctor.telegram_finding(me, "@Lyttepost_Test_Bot").status == "ok"


async def test_a_wrong_token_is_refused_with_what_to_do(telegram, client) -> None:
    me = await doctor.bot_api(client, telegram.base_url, "123456:wrong", "getMe")
    finding = doctor.telegram_finding(me, "")
    assert finding.line() == (
        "FAIL  telegram: token refused by getMe (401): check TELEGRAM_BOT_TOKEN "
        "(BotFather's /mybots shows it)"
    )


async def test_a_username_other_than_the_tokens_is_a_warning(telegram, client) -> None:
    me = await doctor.bot_api(client, telegram.base_url, TOKEN, "getMe")
    finding = doctor.telegram_finding(me, "some_other_bot")
    assert finding.status == "warn"
    assert "TELEGRAM_BOT_USERNAME=lyttepost_test_bot" in finding.fix


async def test_an_unreachable_or_silent_bot_api_is_a_fail_line_without_the_token(
    telegram, client
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/bot"
    finding = doctor.telegram_finding(await doctor.bot_api(client, closed, TOKEN, "getMe"), "")
    assert finding.status == "fail" and finding.detail.startswith("cannot reach 127.0.0.1:")
    assert TOKEN not in finding.line()

    telegram.delay(3.0, method="getMe")
    started = time.monotonic()
    me = await doctor.bot_api(client, telegram.base_url, TOKEN, "getMe")  # client: 1 s
    assert time.monotonic() - started < 2
    finding = doctor.telegram_finding(me, "")
    assert finding.status == "fail" and "within the timeout" in finding.detail
    assert TOKEN not in finding.line()


async def set_webhook(client: httpx.AsyncClient, api: TelegramStandIn, url: str) -> None:
    answer = await client.post(
        f"{api.base_url}{TOKEN}/setWebhook", json={"url": url, "secret_token": SECRET}
    )
    assert answer.status_code == 200, answer.text


async def webhook_info(client: httpx.AsyncClient, api: TelegramStandIn) -> doctor.BotApiAnswer:
    return await doctor.bot_api(client, api.base_url, TOKEN, "getWebhookInfo")


async def test_webhook_in_polling_mode(telegram, client) -> None:
    finding = doctor.webhook_finding(await webhook_info(client, telegram), "", "")
    assert finding == doctor.Finding(
        "webhook", "ok", "none set: polling mode (TELEGRAM_WEBHOOK_URL is empty)"
    )
    await set_webhook(client, telegram, HOOK)
    finding = doctor.webhook_finding(await webhook_info(client, telegram), "", "")
    assert finding.status == "warn" and f"Telegram delivers to {HOOK}" in finding.detail


async def test_webhook_set_to_the_configured_url_with_a_secret(telegram, client) -> None:
    await set_webhook(client, telegram, HOOK)
    finding = doctor.webhook_finding(await webhook_info(client, telegram), HOOK, SECRET)
    assert finding.status == "ok"
    assert finding.detail.startswith(f"Telegram delivers to {HOOK}, 0 pending, no errors")
    assert "does not show it back" in finding.detail
    assert SECRET not in finding.line()


async def test_webhook_not_yet_set_or_set_elsewhere_is_a_warning(telegram, client) -> None:
    finding = doctor.webhook_finding(await webhook_info(client, telegram), HOOK, SECRET)
    assert (finding.status, finding.detail) == ("warn", "not set at Telegram yet")
    assert "lyttepost run sets it" in finding.fix

    await set_webhook(client, telegram, "https://old.example.no/hook")
    finding = doctor.webhook_finding(await webhook_info(client, telegram), HOOK, SECRET)
    assert finding.status == "warn"
    assert "Telegram delivers to https://old.example.no/hook, not to TELEGRAM_WEBHOOK_URL" in (
        finding.detail
    )


async def test_webhook_without_a_secret_or_https_fails(telegram, client) -> None:
    await set_webhook(client, telegram, HOOK)
    finding = doctor.webhook_finding(await webhook_info(client, telegram), HOOK, "")
    assert finding.status == "fail" and "no TELEGRAM_WEBHOOK_SECRET" in finding.detail

    plain = "http://bot.example.no/telegram/webhook"
    await set_webhook(client, telegram, plain)
    finding = doctor.webhook_finding(await webhook_info(client, telegram), plain, SECRET)
    assert finding.status == "fail" and "not https://" in finding.detail


async def test_failing_deliveries_with_updates_waiting_fail(telegram, client) -> None:
    """Telegram cannot reach the URL (here: nothing listens): last_error_message, pending."""
    unreachable = f"https://127.0.0.1:{free_port()}/telegram/webhook"
    telegram.webhook_retry_delays = (30.0,)  # one attempt now, the next long after the test
    await set_webhook(client, telegram, unreachable)
    telegram.user_sends_text(42, "Hei")
    await telegram.wait_until(lambda: bool(telegram.webhook_attempts))
    finding = doctor.webhook_finding(await webhook_info(client, telegram), unreachable, SECRET)
    assert finding.status == "fail"
    assert "Telegram's last delivery failed 0 min ago" in finding.detail
    assert "(1 updates waiting)" in finding.detail
    assert "a wrong one shows as 401" in finding.fix


# --- Teams: a token for the app's credentials -----------------------------------------------


def credentials(login: LoginStandIn, **changes: object) -> doctor.TeamsCredentials:
    values: dict[str, object] = {
        "enabled": True, "app_id": login.app_id, "password": login.app_password,
        "token_url": f"{login.login_url}/botframework.com/oauth2/v2.0/token",
        "scope": "https://api.botframework.com/.default",
    }  # fmt: skip
    return doctor.TeamsCredentials(**{**values, **changes})  # type: ignore[arg-type]


async def test_teams_credentials_get_a_token(client) -> None:
    async with LoginStandIn() as login:
        finding = await doctor.check_teams(client, credentials(login))
        assert finding.status == "ok"
        assert finding.detail == f"Entra (127.0.0.1:{login.port}) gave app {login.app_id} a token"
        request = login.token_requests[-1]
        assert (request.grant_type, request.client_id, request.secret_ok) == (
            "client_credentials", login.app_id, True,
        )  # fmt: skip
        assert request.scope == "https://api.botframework.com/.default"


async def test_a_wrong_teams_password_is_refused_with_entras_reason(client) -> None:
    async with LoginStandIn() as login:
        finding = await doctor.check_teams(client, credentials(login, password="expired-secret"))
        assert finding.status == "fail"
        assert finding.detail == (
            "Entra refused a token (401: invalid_client, AADSTS7000215: Invalid client secret)"
        )
        assert "MICROSOFT_APP_PASSWORD" in finding.fix
        assert "expired-secret" not in finding.line()


async def test_teams_not_enabled_incomplete_or_unreachable(client) -> None:
    async with LoginStandIn() as login:
        assert (await doctor.check_teams(client, credentials(login, enabled=False))).line() == (
            "skip  teams: not enabled (TEAMS_ENABLED is false)"
        )
        no_password = await doctor.check_teams(client, credentials(login, password=""))
        assert no_password.status == "fail" and "can receive but not send" in no_password.detail
        local = await doctor.check_teams(client, credentials(login, app_id=""))
        assert local.status == "fail" and local.detail.startswith("local mode")
        local_test = await doctor.check_teams(
            client, credentials(login, app_id="", local_test=True)
        )
        assert local_test.status == "warn"
        refused = await doctor.check_teams(client, credentials(login, start_problem="no tenant"))
        assert (refused.status, refused.detail) == ("fail", "no tenant")

        login.hang("token")
        started = time.monotonic()
        silent = await doctor.check_teams(client, credentials(login))
        assert time.monotonic() - started < 2
        assert silent.status == "fail" and "within the timeout" in silent.detail
    closed = f"http://127.0.0.1:{free_port()}/botframework.com/oauth2/v2.0/token"
    gone = await doctor.check_teams(
        client, doctor.TeamsCredentials(True, "app", "pw", closed, "scope")
    )
    assert gone.status == "fail" and "cannot reach 127.0.0.1" in gone.detail


# --- the HTTP port --------------------------------------------------------------------------


async def test_a_free_port_is_ok(client) -> None:
    port = free_port()
    assert (await doctor.check_port(client, "127.0.0.1", port)).line() == (
        f"ok    port: 127.0.0.1:{port} is free"
    )
    assert (await doctor.check_port(client, "127.0.0.1", 0)).status == "ok"


async def test_a_port_held_by_another_program_fails(client) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        finding = await doctor.check_port(client, "127.0.0.1", port)
    assert finding.status == "fail"
    assert finding.detail == f"127.0.0.1:{port} is in use by another program"


async def test_a_port_held_by_a_running_lyttepost_is_a_warning(client) -> None:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "ignored": {}})

    application = web.Application()
    application.router.add_get("/healthz", healthz)
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        finding = await doctor.check_port(client, "127.0.0.1", port)
    finally:
        await runner.cleanup()
    assert finding.line().startswith(
        f"warn  port: 127.0.0.1:{port} is in use (is Lyttepost already running?)"
    )


async def test_a_host_that_is_not_this_machine_fails(client) -> None:
    finding = await doctor.check_port(client, "192.0.2.1", free_port())  # TEST-NET-1
    assert finding.status == "fail" and "HTTP_HOST=192.0.2.1" in finding.detail


# --- time -----------------------------------------------------------------------------------


def test_the_time_zone_and_the_clock() -> None:
    assert doctor.check_time("Europe/Oslo", NOW).line() == (
        "ok    time: Europe/Oslo, now 2026-12-06 10:00 CET (clock not compared: no answer "
        "from Telegram)"
    )
    bad = doctor.check_time("Europe/Olso", NOW)
    assert bad.status == "fail" and "TIMEZONE='Europe/Olso'" in bad.detail
    stopped = doctor.check_time("Europe/Oslo", datetime(2001, 1, 1, tzinfo=UTC))
    assert stopped.status == "fail" and "before this version was made" in stopped.detail
    near = doctor.check_time("Europe/Oslo", NOW, server_time=NOW - timedelta(seconds=3))
    assert near.status == "ok" and "within 3 s of Telegram's" in near.detail
    off = doctor.check_time("Europe/Oslo", NOW, server_time=NOW - timedelta(minutes=10))
    assert off.status == "warn" and "+600 s off Telegram's" in off.detail


# --- surveys, plan, admins ------------------------------------------------------------------


async def test_shipped_and_stored_surveys_are_valid(migrated: str) -> None:
    async with open_database(migrated) as database:
        finding = await doctor.check_surveys(shipped_survey_files(), database.sessions)
    shipped = len(shipped_survey_files())
    assert finding.status == "ok"
    assert finding.detail.startswith(f"{shipped} survey file")


async def test_a_broken_survey_file_or_stored_version_fails(migrated: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("key: broken\ntitle: Broken\nquestions:\n  - id: q1\n    type: nosuchtype\n")
    finding = await doctor.check_surveys([*shipped_survey_files(), broken], None)
    assert finding.status == "fail" and finding.detail.startswith(f"{broken}:")
    assert "surveys validate" in finding.fix

    async with open_database(migrated) as database:
        async with database.sessions() as session, session.begin():
            session.add(SurveyVersion(key="old", version=1, content_hash="x" * 64,
                                      source_name="old.yaml", definition="key: [", title="Old"))  # fmt: skip
        finding = await doctor.check_surveys(shipped_survey_files(), database.sessions)
    assert finding.status == "fail" and "old version 1 (old.yaml)" in finding.detail


async def test_a_database_without_surveys_fails(tmp_path: Path) -> None:
    url = sqlite(tmp_path / "bare.db")
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    async with open_database(url) as database:
        finding = await doctor.check_surveys([], database.sessions)
    assert (finding.status, finding.detail) == ("fail", "no survey is registered in the database")


async def test_a_valid_plan_is_checked_against_the_database_and_nothing_applied(
    migrated: str,
) -> None:
    from zoneinfo import ZoneInfo

    async with open_database(migrated) as database:
        finding = await check_plan(PLAN, ZoneInfo("Europe/Oslo"), database.sessions, NOW)
        assert finding.status in ("ok", "warn"), finding
        assert "valid" in finding.detail
        ahead = await check_plan(None, ZoneInfo("Europe/Oslo"), database.sessions, NOW)
    assert ahead.status == "warn"  # the dry run applied nothing
    assert ahead.detail == "no round is planned or open in the database"


async def test_a_broken_plan_fails_with_its_first_problem(migrated: str, tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    broken = tmp_path / "plan.yaml"
    broken.write_text(
        "name: 2027\nrounds:\n  - key: q1\n    survey: kvartalsvis-behov\n"
        "    opens: 2027-02-30\n    closes: 2027-03-15\n"
    )
    async with open_database(migrated) as database:
        finding = await check_plan(broken, ZoneInfo("Europe/Oslo"), database.sessions, NOW)
    assert finding.status == "fail" and finding.detail.startswith(f"{broken}:")
    assert f"'lyttepost plan apply {broken} --dry-run'" in finding.fix
    unknown = tmp_path / "unknown-survey.yaml"
    unknown.write_text(PLAN.read_text().replace("kvartalsvis-behov", "no-such-survey"))
    async with open_database(migrated) as database:
        finding = await check_plan(unknown, ZoneInfo("Europe/Oslo"), database.sessions, NOW)
    assert finding.status == "fail" and "no-such-survey" in finding.detail


async def test_admins(migrated: str) -> None:
    async with open_database(migrated) as database:
        sessions = database.sessions
        assert (await doctor.check_admins(sessions)).line() == (
            "FAIL  admins: no active admin: lyttepost staff add --name NAME --email EMAIL "
            "--role admin"
        )
        await add_staff(migrated, "admin", active=False)
        await add_staff(migrated, "staff")
        assert (await doctor.check_admins(sessions)).detail == "no active admin (1 deactivated)"
        await add_staff(migrated, "admin")
        assert (await doctor.check_admins(sessions)).line() == "ok    admins: 1 active admin"
    assert (await doctor.check_admins(None)).status == "skip"


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    import os

    for name in os.environ:
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    monkeypatch.setenv("HTTP_PORT", str(free_port()))
    yield monkeypatch


def doctor_cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["doctor", *args])


async def doctor_cli_async(*args: str) -> Result:
    """In a thread: the stand-ins answer on this test's event loop meanwhile."""
    return await asyncio.to_thread(doctor_cli, *args)


def lines(result: Result) -> dict[str, str]:
    return {line.split()[1].rstrip(":"): line for line in result.stdout.splitlines()}


def test_the_command_passes_on_a_ready_database(environment, migrated: str) -> None:
    environment.setenv("DATABASE_URL", migrated)
    asyncio.run(add_staff(migrated))
    result = doctor_cli("--plan", str(PLAN))
    assert result.exit_code == 0, result.output
    found = lines(result)
    assert list(found) == ["config", "database", "telegram", "webhook", "teams", "port",
                           "time", "surveys", "plan", "admins"]  # fmt: skip
    assert found["database"] == f"ok    database: reachable, at head ({head_revision()})"
    assert found["telegram"].startswith("skip  telegram: not configured")
    assert found["teams"] == "skip  teams: not enabled (TEAMS_ENABLED is false)"
    assert found["admins"] == "ok    admins: 1 active admin"


def test_a_dead_database_is_lines_and_exit_1_never_a_traceback(environment) -> None:
    environment.setenv("DATABASE_URL", DEAD_POSTGRES)
    environment.setenv("TIMEZONE", "Mars/Olympus_Mons")
    result = doctor_cli("--timeout", "2")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "pg-password" not in result.output
    found = lines(result)
    assert found["config"] == "ok    config: settings read"
    assert found["database"].startswith("FAIL  database: cannot use 127.0.0.1:1/x")
    assert found["time"].startswith("FAIL  time: TIMEZONE='Mars/Olympus_Mons'")
    assert found["admins"] == "skip  admins: needs the database (see database)"
    assert found["surveys"].startswith("ok    surveys: ")


def test_an_invalid_setting_is_a_line_and_the_rest_is_checked(environment, migrated) -> None:
    environment.setenv("DATABASE_URL", migrated)
    environment.setenv("TELEGRAM_WEBHOOK_SECRET", "not allowed!")
    environment.setenv("HTTP_PORT", "99999")
    result = doctor_cli("--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    config = [d for d in document if d["check"] == "config"]
    assert {d["detail"].split(":")[0].split(" ")[0] for d in config} == {
        "TELEGRAM_WEBHOOK_SECRET", "HTTP_PORT",
    }  # fmt: skip
    assert all(set(d) == {"check", "status", "detail", "fix"} for d in document)
    assert "not allowed!" not in result.stdout
    assert {d["check"]: d["status"] for d in document}["database"] == "ok"


async def test_the_command_against_the_stand_ins(environment, migrated: str) -> None:
    await add_staff(migrated)
    environment.setenv("DATABASE_URL", migrated)
    async with TelegramStandIn(token=TOKEN) as telegram, LoginStandIn() as login:
        async with httpx.AsyncClient() as http:
            await set_webhook(http, telegram, HOOK)
        for name, value in {
            "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": telegram.base_url,
            "TELEGRAM_WEBHOOK_URL": HOOK, "TELEGRAM_WEBHOOK_SECRET": SECRET,
            **login.bot_env(),
        }.items():  # fmt: skip
            environment.setenv(name, value)
        result = await doctor_cli_async("--json")
        assert result.exit_code == 0, result.output
        statuses = {d["check"]: d["status"] for d in json.loads(result.stdout)}
        assert statuses == {"config": "ok", "database": "ok", "telegram": "ok", "webhook": "ok",
                            "teams": "ok", "port": "ok", "time": "ok", "surveys": "ok",
                            "plan": "warn", "admins": "ok"}  # fmt: skip
        assert login.token_requests[-1].tenant == "botframework.com"  # the runtime's URL

        environment.setenv("TELEGRAM_BOT_TOKEN", "123456:not-the-right-one")
        environment.setenv("MICROSOFT_APP_PASSWORD", "an-expired-client-secret")
        result = await doctor_cli_async()
    assert result.exit_code == 1
    found = lines(result)
    assert found["telegram"].startswith("FAIL  telegram: token refused by getMe (401)")
    assert found["webhook"] == "skip  webhook: needs a valid bot token (see telegram)"
    assert found["teams"].startswith("FAIL  teams: Entra refused a token (401: invalid_client")
    for secret in ("not-the-right-one", "an-expired-client-secret", SECRET):
        assert secret not in result.output


def test_the_installed_command_reports_a_dead_database_in_lines(environment, tmp_path) -> None:
    """As an operator runs it: a process of its own (this worktree's code), no traceback."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(repo), "DATABASE_URL": DEAD_POSTGRES}
    done = subprocess.run(
        [sys.executable, "-c", "import bot.cli, sys; print(bot.cli.__file__, file=sys.stderr); "
         "bot.cli.main()", "doctor", "--timeout", "2"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[0] == str(repo / "bot" / "cli.py")
    assert "Traceback" not in done.stderr and "pg-password" not in done.stdout + done.stderr
    assert done.stdout.splitlines()[1].startswith("FAIL  database: cannot use 127.0.0.1:1/x")
    assert len(done.stdout.splitlines()) == 10

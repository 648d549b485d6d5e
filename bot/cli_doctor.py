"""``lyttepost doctor``: check a configuration before go-live, one line per check.

Unlike the other commands it does not stop at the first problem: invalid settings, a
dead database or an unreachable API are lines of the report, so the settings are read
here with the invalid ones noted and replaced by their defaults, and the database is
opened only once its check has passed. The checks are ``services/doctor.py`` and
``scheduler/plan_check.py``; this module feeds them the settings and prints.
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from bot.cli_support import JsonOption, configure_logging, echo_lines, emit
from bot.settings import Settings
from services.doctor import Finding, any_failed

CONFIG_FIX = "correct it in the environment or .env"


def read_settings() -> tuple[Settings | None, list[Finding], str | None]:
    """The settings, a finding per invalid one (those get their default so the other
    checks still run), and TIMEZONE as written when it was the invalid one (the time
    check reports it). Values are never repeated: they may be secrets."""
    from pydantic import ValidationError

    try:
        return Settings(), [Finding("config", "ok", "settings read")], None
    except ValidationError as error:
        bad = {str(item["loc"][0]): item for item in error.errors() if item["loc"]}
    except Exception as error:  # an unreadable .env
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return None, [Finding("config", "fail", f"cannot read the settings: {first}", "")], None
    zone = bad.pop("timezone", None)
    findings = [
        Finding(
            "config",
            "fail",
            f"{name.upper()}: {item['msg'].removeprefix('Value error, ')}",
            CONFIG_FIX,
        )  # fmt: skip
        for name, item in bad.items()
    ] or [Finding("config", "ok", "settings read")]
    invalid = [*bad, "timezone"] if zone is not None else list(bad)
    defaults = {name: Settings.model_fields[name].default for name in invalid}
    try:
        settings = Settings(**defaults)
    except Exception:
        return None, findings, None
    return settings, findings, str(zone["input"]) if zone is not None else None


def _problem(name: str, message: str) -> str:
    """``NAME: what is wrong``, without pydantic's prefix or the name said twice."""
    message = message.removeprefix("Value error, ")
    return message if message.startswith(name.upper()) else f"{name.upper()}: {message}"


def secrets_of(settings: Settings) -> list[str]:
    """What must never appear in the report, should any message carry it."""
    values = [settings.telegram_bot_token, settings.telegram_webhook_secret,
              settings.microsoft_app_password, settings.entra_client_secret,
              settings.file_link_secret]  # fmt: skip
    try:
        values.append(urlsplit(settings.database_url).password or "")
    except ValueError:
        pass
    return sorted((v for v in values if len(v) >= 4), key=len, reverse=True)


def masked(findings: list[Finding], secrets: list[str]) -> list[Finding]:
    def clean(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "[secret]")
        return text

    return [Finding(f.check, f.status, clean(f.detail), clean(f.fix)) for f in findings]


async def run_checks(
    settings: Settings,
    *,
    zone_name: str,
    plan: Path | None,
    seconds: float,
    now: datetime | None = None,
    survey_files: list[Path] | None = None,
) -> list[Finding]:
    """Every check but the settings' own, in the order they are printed."""
    import httpx

    from bot.teams_auth import BOT_FRAMEWORK_SCOPE, teams_start_problem, token_url
    from dialogs.definition import shipped_survey_files
    from scheduler.plan_check import check_plan
    from services import doctor
    from services.database import open_database

    files = shipped_survey_files() if survey_files is None else survey_files
    teams = doctor.TeamsCredentials(
        enabled=settings.teams_enabled,
        app_id=settings.microsoft_app_id,
        password=settings.microsoft_app_password,
        token_url=token_url(settings),
        scope=BOT_FRAMEWORK_SCOPE,
        start_problem=teams_start_problem(settings),
        local_test=settings.teams_local_test,
    )
    token = settings.telegram_bot_token
    base = settings.telegram_api_base_url
    async with httpx.AsyncClient(timeout=seconds, follow_redirects=False) as client:

        async def telegram() -> tuple[Any, Any]:
            if not token:
                return None, None
            me = await doctor.bot_api(client, base, token, "getMe")
            if not me.ok:
                return me, None
            return me, await doctor.bot_api(client, base, token, "getWebhookInfo")

        database, (me, webhook_info), teams_finding, port = await asyncio.gather(
            doctor.check_database(settings.database_url, seconds=seconds),
            telegram(),
            doctor.check_teams(client, teams),
            doctor.check_port(client, settings.http_host, settings.http_port),
        )
    telegram_finding = doctor.telegram_finding(me, settings.telegram_bot_username)
    webhook = (
        doctor.webhook_finding(webhook_info, settings.telegram_webhook_url,
                               settings.telegram_webhook_secret)
        if token else Finding("webhook", "skip", "Telegram is not configured")
    )  # fmt: skip
    moment = now or datetime.now(UTC)
    time = doctor.check_time(zone_name, moment, server_time=me.server_time if me else None)
    zone = _zone(zone_name)
    async with AsyncExitStack() as stack:
        sessions = None
        if database.status == "ok":
            sessions = (
                await stack.enter_async_context(open_database(settings.database_url))
            ).sessions
        surveys = await doctor.check_surveys(files, sessions)
        plan_finding = await check_plan(plan, zone, sessions, moment)
        admins = await doctor.check_admins(sessions)
    return [database, telegram_finding, webhook, teams_finding, port, time, surveys,
            plan_finding, admins]  # fmt: skip


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def doctor(
    plan: Path | None = typer.Option(
        None, "--plan", help="Also check this annual plan file against the database."
    ),
    timeout: float = typer.Option(
        5.0, "--timeout", min=0.1, max=60, help="Seconds each network call may take."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Check the configuration before go-live: one line per check with what to do.

    Exit code 1 if any check fails (FAIL), 0 otherwise (warn and skip included)."""
    settings, findings, bad_zone = read_settings()
    configure_logging(None, settings)
    if settings is not None:
        zone_name = bad_zone if bad_zone is not None else settings.timezone
        checks = asyncio.run(run_checks(settings, zone_name=zone_name, plan=plan, seconds=timeout))
        findings = masked(findings + checks, secrets_of(settings))
    emit(
        [f.to_json() for f in findings],
        as_json,
        lambda: echo_lines(f.line() for f in findings),
    )
    sys.stdout.flush()
    if any_failed(findings):
        raise typer.Exit(1)

"""``lyttepost doctor``'s checks of a configuration before go-live: one finding per check.

Each check takes plain values and the client it talks through (an ``httpx.AsyncClient``
made with a short timeout), not the settings object: services/ does not import bot/, and
a test can hand a check exactly what it wants to try. No check raises: a dead database,
an unreachable API or a refused token is a ``fail`` finding saying what to do, because
the doctor's whole point is to report every problem at once, never a traceback.
The composition (which settings feed which check) is ``bot/cli_doctor.py``; the plan's
check lives with the plan, ``scheduler/plan_check.py``.
"""

from __future__ import annotations

import asyncio
import errno
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from sqlalchemy import func, select

from dialogs.definition import SurveyDefinitionError, load_survey_text
from services.surveys import read_upload
from storage.db import UnsupportedDatabaseUrl, checked_url
from storage.orm import Staff, SurveyVersion
from storage.sessions import Sessions

Status = Literal["ok", "warn", "fail", "skip"]
SEVERITY: dict[Status, int] = {"skip": 0, "ok": 1, "warn": 2, "fail": 3}
# More updates than this waiting at Telegram means nobody is taking them in.
PENDING_UPDATES_WARN = 100
# A clock further off than this from Telegram's (HTTP Date, to the second) is worth fixing:
# rounds open and reminders go out by it, and Teams tokens are checked against it.
CLOCK_SKEW_WARN_SECONDS = 120
# A day this version of Lyttepost did not exist before: a machine clock that says earlier
# is wrong (a dead CMOS battery, no NTP). Moved forward now and then; never past a release.
NOT_BEFORE = date(2026, 12, 1)
DB_UPGRADE = "run 'lyttepost db upgrade'"


@dataclass(frozen=True)
class Finding:
    """What one check found: ``status``, the fact (``detail``) and what to do (``fix``)."""

    check: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        """``ok    database: reachable, at head (0012)``; a ``fix`` follows the detail."""
        label = "FAIL" if self.status == "fail" else self.status
        fix = f": {self.fix}" if self.fix else ""
        return f"{label:<6}{self.check}: {self.detail}{fix}"

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "detail": self.detail, "fix": self.fix}


def any_failed(findings: Sequence[Finding]) -> bool:
    """Whether the doctor exits 1."""
    return any(f.status == "fail" for f in findings)


def _combined(check: str, issues: list[tuple[Status, str, str]], ok: str) -> Finding:
    """One finding from several issues: the worst status, every detail and fix in order."""
    if not issues:
        return Finding(check, "ok", ok)
    issues.sort(key=lambda issue: -SEVERITY[issue[0]])
    fixes = [fix for _, _, fix in issues if fix]
    return Finding(check, issues[0][0], "; ".join(d for _, d, _ in issues), "; ".join(fixes))


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _first_line(error: BaseException, limit: int = 160) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:limit]


# --- the database ---------------------------------------------------------------------------


def _where(url: str) -> str:
    """The database named without its password: the SQLite file, or host:port/name."""
    parsed = checked_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


async def check_database(url: str, *, seconds: float) -> Finding:
    """Reachable within ``seconds`` and migrated to this code's newest revision."""
    # Alembic loads for this check, not with the CLI: other commands never need it.
    from storage.migrate import current_revision, head_revision, known_revision

    try:
        parsed = checked_url(url)
        where = _where(url)
    except UnsupportedDatabaseUrl as error:
        return Finding("database", "fail", str(error), "correct DATABASE_URL")
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        if not Path(database).expanduser().is_file():  # connecting would create an empty one
            return Finding("database", "fail", f"no {where}", f"{DB_UPGRADE} (it creates it)")
    try:
        current = await asyncio.wait_for(current_revision(url), seconds)
    except TimeoutError:
        return Finding(
            "database",
            "fail",
            f"no answer from {where} within {seconds:g} s",
            "check DATABASE_URL, and that the server runs and this machine may reach it",
        )
    except Exception as error:  # refused, unknown host, bad password, not a database file
        password = parsed.password or ""
        reason = (
            _first_line(error).replace(password, "[secret]") if password else _first_line(error)
        )
        return Finding(
            "database",
            "fail",
            f"cannot use {where} ({type(error).__name__}: {reason})",
            "check DATABASE_URL (host, port, user, password, database name) and the server",
        )
    head = head_revision()
    if current == head:
        return Finding("database", "ok", f"reachable, at head ({head})")
    if current is None:
        return Finding(
            "database", "fail", f"{where} is reachable but empty (no schema)", DB_UPGRADE
        )
    if not known_revision(current):
        return Finding(
            "database",
            "fail",
            f"at {current}, a revision this version does not know (it needs {head})",
            "run the newer Lyttepost that migrated it, or restore a backup taken before",
        )
    return Finding("database", "fail", f"at {current}, this version needs {head}", DB_UPGRADE)


# --- Telegram -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotApiAnswer:
    """One Bot API call's answer; ``problem`` is set (a finding's detail) when there was none."""

    status: int = 0
    body: dict[str, Any] | None = None
    server_time: datetime | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.body and self.body.get("ok"))

    @property
    def result(self) -> Any:
        return (self.body or {}).get("result")

    @property
    def description(self) -> str:
        return str((self.body or {}).get("description") or f"HTTP {self.status}")[:160]


async def bot_api(
    client: httpx.AsyncClient, base_url: str, token: str, method: str
) -> BotApiAnswer:
    """Call ``method`` as python-telegram-bot does (``base_url + token + /method``).

    Errors are described by their type and the host only: the URL holds the token."""
    host = urlsplit(base_url).netloc or base_url
    try:
        response = await client.get(f"{base_url}{token}/{method}")
    except httpx.TimeoutException:
        return BotApiAnswer(problem=f"no answer from {host} within the timeout")
    except httpx.HTTPError as error:
        return BotApiAnswer(problem=f"cannot reach {host} ({type(error).__name__})")
    try:
        body = response.json()
    except ValueError:
        body = None
    server_time = None
    if "date" in response.headers:
        try:
            server_time = parsedate_to_datetime(response.headers["date"])
        except (TypeError, ValueError):
            server_time = None
    return BotApiAnswer(response.status_code, body if isinstance(body, dict) else None, server_time)


def telegram_finding(me: BotApiAnswer | None, expected_username: str) -> Finding:
    """The bot token, judged by ``getMe``'s answer (None: no token configured)."""
    if me is None:
        return Finding("telegram", "skip", "not configured (TELEGRAM_BOT_TOKEN is empty)")
    if me.problem:
        return Finding(
            "telegram",
            "fail",
            me.problem,
            "check TELEGRAM_API_BASE_URL and the network (proxy, firewall)",
        )
    if me.status in (401, 404):  # 401: a wrong token; 404: not shaped like one
        return Finding(
            "telegram",
            "fail",
            f"token refused by getMe ({me.status})",
            "check TELEGRAM_BOT_TOKEN (BotFather's /mybots shows it)",
        )
    if not me.ok or not isinstance(me.result, dict):
        return Finding("telegram", "fail", f"getMe answered {me.status}: {me.description}", "")
    username = str(me.result.get("username") or "")
    wanted = expected_username.strip().lstrip("@")
    if wanted and wanted.lower() != username.lower():
        return Finding(
            "telegram",
            "warn",
            f"the token is @{username}'s, but TELEGRAM_BOT_USERNAME is @{wanted}",
            f"set TELEGRAM_BOT_USERNAME={username}: invitation links name the bot by it",
        )
    return Finding(
        "telegram", "ok", f"token accepted by getMe: @{username} (id {me.result.get('id')})"
    )


def webhook_finding(info: BotApiAnswer | None, configured_url: str, secret: str) -> Finding:
    """Where Telegram delivers updates (``getWebhookInfo``) against TELEGRAM_WEBHOOK_URL.

    The secret cannot be read back from Telegram: what can be checked is that one is
    configured, that Telegram delivers to the configured URL, and that its deliveries do
    not fail (a wrong secret shows there as 401) nor pile up."""
    if info is None:
        return Finding("webhook", "skip", "needs a valid bot token (see telegram)")
    if info.problem or not info.ok or not isinstance(info.result, dict):
        detail = info.problem or f"getWebhookInfo answered {info.status}: {info.description}"
        return Finding("webhook", "fail", detail, "check TELEGRAM_API_BASE_URL and the network")
    result = info.result
    actual = str(result.get("url") or "")
    pending = int(result.get("pending_update_count") or 0)
    if not configured_url:
        if actual:
            return Finding(
                "webhook",
                "warn",
                f"TELEGRAM_WEBHOOK_URL is empty (polling), but Telegram delivers to {actual}",
                "lyttepost run removes it at start; if another deployment uses this bot "
                "token, give each deployment a bot of its own",
            )
        return Finding("webhook", "ok", "none set: polling mode (TELEGRAM_WEBHOOK_URL is empty)")
    issues: list[tuple[Status, str, str]] = []
    if urlsplit(configured_url).scheme != "https":
        issues.append(("fail", "TELEGRAM_WEBHOOK_URL is not https://; Telegram delivers to HTTPS only",
                       "put a reverse proxy with TLS in front and give its https:// address"))  # fmt: skip
    if not secret:
        issues.append(("fail", "no TELEGRAM_WEBHOOK_SECRET: anyone who finds the URL can post updates",
                       "set TELEGRAM_WEBHOOK_SECRET (1-256 of A-Z a-z 0-9 _ -); lyttepost run hands it to Telegram"))  # fmt: skip
    if not actual:
        issues.append(("warn", "not set at Telegram yet",
                       "lyttepost run sets it (with the secret) at start; run the doctor again then"))  # fmt: skip
    elif actual != configured_url:
        issues.append(("warn", f"Telegram delivers to {actual}, not to TELEGRAM_WEBHOOK_URL",
                       "lyttepost run sets it at start; if another deployment uses this bot token, "
                       "give each a bot of its own"))  # fmt: skip
    error = str(result.get("last_error_message") or "")
    if error and actual:
        ago = _ago(result.get("last_error_date"))
        issues.append(("fail" if pending else "warn",
                       f"Telegram's last delivery failed{ago}: {error[:120]} ({pending} updates waiting)",
                       "check that the URL reaches lyttepost run through the proxy (certificate, path) "
                       "and that the secret is the one it was set with (a wrong one shows as 401)"))  # fmt: skip
    elif pending > PENDING_UPDATES_WARN:
        issues.append(("warn", f"{pending} updates waiting at Telegram",
                       "is lyttepost run running and answering?"))  # fmt: skip
    return _combined(
        "webhook",
        issues,
        f"Telegram delivers to {actual}, {pending} pending, no errors; a secret is configured "
        "(Telegram does not show it back: deliveries without errors are the proof)",
    )


def _ago(timestamp: Any) -> str:
    try:
        seconds = datetime.now(UTC).timestamp() - float(timestamp)
    except (TypeError, ValueError):
        return ""
    minutes = max(int(seconds // 60), 0)
    return f" {minutes} min ago" if minutes < 120 else f" {minutes // 60} h ago"


# --- Teams ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamsCredentials:
    """What getting the bot's token needs (MICROSOFT_APP_*; the endpoint as the runtime uses it)."""

    enabled: bool
    app_id: str
    password: str
    token_url: str
    scope: str
    start_problem: str | None = None  # why ``lyttepost run`` would refuse these settings
    local_test: bool = False


async def check_teams(client: httpx.AsyncClient, teams: TeamsCredentials) -> Finding:
    """The app's credentials get a token from Entra (OAuth client credentials), as the
    runtime's ``BotTokens`` gets one for sending."""
    if not teams.enabled:
        return Finding("teams", "skip", "not enabled (TEAMS_ENABLED is false)")
    if teams.start_problem:
        return Finding("teams", "fail", teams.start_problem)
    if not teams.app_id:
        return Finding(
            "teams",
            "warn" if teams.local_test else "fail",
            "local mode: MICROSOFT_APP_ID is empty, so requests are not authenticated",
            "set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (the Azure Bot's app registration)",
        )
    if not teams.password:
        return Finding(
            "teams",
            "fail",
            "MICROSOFT_APP_PASSWORD is empty: the bot can receive but not send",
            "set MICROSOFT_APP_PASSWORD (a client secret of the app registration)",
        )
    host = urlsplit(teams.token_url).netloc or teams.token_url
    form = {"grant_type": "client_credentials", "client_id": teams.app_id,
            "client_secret": teams.password, "scope": teams.scope}  # fmt: skip
    try:
        response = await client.post(teams.token_url, data=form)
    except httpx.TimeoutException:
        return Finding("teams", "fail", f"no answer from {host} within the timeout",
                       "check MICROSOFT_LOGIN_URL and the network (proxy, firewall)")  # fmt: skip
    except httpx.HTTPError as error:
        return Finding("teams", "fail", f"cannot reach {host} ({type(error).__name__})",
                       "check MICROSOFT_LOGIN_URL and the network (proxy, firewall)")  # fmt: skip
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if response.status_code == 200 and body.get("access_token"):
        return Finding("teams", "ok", f"Entra ({host}) gave app {teams.app_id} a token")
    kind = str(body.get("error") or "")[:60]
    code = re.match(r"AADSTS\d+:[^.\r\n]*", str(body.get("error_description") or ""))
    reason = ", ".join(part for part in (kind, code.group(0)[:120] if code else "") if part)
    return Finding(
        "teams",
        "fail",
        f"Entra refused a token ({response.status_code}{': ' + reason if reason else ''})",
        "check MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (an expired client secret?), "
        "and MICROSOFT_APP_TYPE / MICROSOFT_APP_TENANT_ID",
    )


# --- the HTTP port --------------------------------------------------------------------------


def _bind_error(host: str, port: int) -> OSError | None:
    """Try to listen where ``lyttepost run`` will (aiohttp also sets SO_REUSEADDR)."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        return error
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
            probe.listen(1)
        except OSError as error:
            return error
    return None


async def check_port(client: httpx.AsyncClient, host: str, port: int) -> Finding:
    """HTTP_HOST:HTTP_PORT free for ``lyttepost run``.

    Taken by a Lyttepost (something there answers ``/healthz`` with a status) is a
    warning, not a failure: the doctor is as useful beside a running deployment, and
    there it is the expected answer; a second process on this machine needs its own port.
    """
    where = f"{host}:{port}"
    if port == 0:
        return Finding("port", "ok", "HTTP_PORT=0: the system picks a free port at start")
    error = _bind_error(host, port)
    if error is None:
        return Finding("port", "ok", f"{where} is free")
    if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        return Finding("port", "fail", f"HTTP_HOST={host} is not an address of this machine",
                       "use 127.0.0.1 behind a reverse proxy on this machine, or 0.0.0.0 for all")  # fmt: skip
    if error.errno == errno.EACCES:
        return Finding("port", "fail", f"not allowed to listen on {where} (below 1024 needs privileges)",
                       "use a port from 1024 up behind the reverse proxy")  # fmt: skip
    if error.errno != errno.EADDRINUSE:
        return Finding("port", "fail", f"cannot listen on {where} ({_first_line(error)})", "")
    if await _answers_like_lyttepost(client, host, port):
        return Finding("port", "warn", f"{where} is in use (is Lyttepost already running?)",
                       "fine if that is this deployment; another process on this machine needs its own HTTP_PORT")  # fmt: skip
    return Finding("port", "fail", f"{where} is in use by another program",
                   "stop it, or choose another HTTP_PORT")  # fmt: skip


async def _answers_like_lyttepost(client: httpx.AsyncClient, host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host
    target = f"[{target}]" if ":" in target else target
    try:
        response = await client.get(f"http://{target}:{port}/healthz")
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return False
    return isinstance(body, dict) and "status" in body


# --- time -----------------------------------------------------------------------------------


def check_time(
    zone_name: str,
    now: datetime,
    *,
    server_time: datetime | None = None,
    not_before: date = NOT_BEFORE,
) -> Finding:
    """TIMEZONE is a zone this machine knows, and its clock is believable: not before this
    version was made, and near Telegram's (``server_time``, when it answered)."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return Finding("time", "fail", f"TIMEZONE={zone_name!r} is not a time zone this machine knows",
                       "use an IANA name such as Europe/Oslo (install tzdata if the machine has none)")  # fmt: skip
    if now.astimezone(UTC).date() < not_before:
        return Finding("time", "fail",
                       f"the clock says {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC, before this version was made",
                       "set the clock, and keep it right with NTP")  # fmt: skip
    local = f"{zone_name}, now {now.astimezone(zone):%Y-%m-%d %H:%M %Z}"
    if server_time is None:
        return Finding("time", "ok", f"{local} (clock not compared: no answer from Telegram)")
    skew = (now - server_time).total_seconds()
    if abs(skew) > CLOCK_SKEW_WARN_SECONDS:
        return Finding("time", "warn", f"{local}, but the clock is {skew:+.0f} s off Telegram's",
                       "keep the clock right with NTP: rounds open and reminders go out by it")  # fmt: skip
    return Finding("time", "ok", f"{local}; clock within {abs(skew):.0f} s of Telegram's")


# --- surveys and staff ----------------------------------------------------------------------


async def check_surveys(files: Sequence[Path], sessions: Sessions | None) -> Finding:
    """Every survey file given (the shipped ones) and every version stored in the database
    (what the catalogue compiles for rounds and reports) compiles without a problem."""
    problems: list[str] = []
    for path in files:
        try:
            read_upload(await asyncio.to_thread(path.read_bytes), str(path))
        except SurveyDefinitionError as error:
            problems.append(str(error.problems[0]) if error.problems else path.name)
        except OSError as error:
            problems.append(f"{path}: {_first_line(error)}")
    stored = 0
    if sessions is not None:
        try:
            async with sessions() as session:
                rows = list(await session.scalars(select(SurveyVersion).order_by(SurveyVersion.id)))
        except Exception as error:
            return Finding(
                "surveys", "fail", f"cannot read stored surveys ({type(error).__name__})", ""
            )
        stored = len(rows)
        for row in rows:
            try:
                load_survey_text(
                    row.definition, f"{row.key} version {row.version} ({row.source_name})"
                )
            except SurveyDefinitionError as error:
                problems.append(str(error.problems[0]) if error.problems else row.key)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return Finding("surveys", "fail", f"{problems[0]}{more}",
                       "'lyttepost surveys validate FILE' lists every problem; register a "
                       "corrected file with 'lyttepost surveys add FILE'")  # fmt: skip
    if sessions is not None and stored == 0:
        return Finding("surveys", "fail", "no survey is registered in the database",
                       f"{DB_UPGRADE} (it registers the shipped surveys)")  # fmt: skip
    if sessions is None:
        detail = f"{counted(len(files), 'survey file')} valid; stored versions not checked (see database)"
    else:
        detail = (
            f"{counted(len(files), 'survey file')} and {counted(stored, 'stored version')} valid"
        )
    return Finding("surveys", "ok", detail)


async def check_admins(sessions: Sessions | None) -> Finding:
    """At least one active staff account with the admin role (someone can run things)."""
    if sessions is None:
        return Finding("admins", "skip", "needs the database (see database)")
    try:
        async with sessions() as session:
            counts = dict(
                (bool(active), count)
                for active, count in await session.execute(
                    select(Staff.active, func.count(Staff.id))
                    .where(Staff.role == "admin")
                    .group_by(Staff.active)
                )
            )
    except Exception as error:
        return Finding("admins", "fail", f"cannot read staff accounts ({type(error).__name__})", "")
    active = counts.get(True, 0)
    if active:
        return Finding("admins", "ok", counted(active, "active admin"))
    inactive = counts.get(False, 0)
    note = f" ({inactive} deactivated)" if inactive else ""
    return Finding("admins", "fail", f"no active admin{note}",
                   "lyttepost staff add --name NAME --email EMAIL --role admin")  # fmt: skip

"""``/metrics`` and ``/readyz`` on the real web app (``build_runtime`` + ``web_app``).

Metrics are scraped after real traffic through the Telegram stand-in (a reply, a 429 and
a blocked chat) and database rows the gauges read (a later message, an open round's
responses, a lease someone else holds); the text must parse with prometheus_client's own
parser. Exposure: a token on the main port (right, wrong, missing), nothing without one,
a separate port (in-process and through ``lyttepost run``). Readiness: ok, a database
that cannot be opened, a refused Telegram token, Teams without a token for sending.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.app import Runtime, build_runtime, web_app
from bot.metrics import Metrics
from bot.metrics_http import start_metrics_site
from bot.settings import Settings
from dialogs.messages import OutgoingMessage
from scheduler.service import LEASE_NAME
from storage import leases
from storage.db import create_engine
from storage.orm import Organisation, Response, utcnow
from storage.outbox import PRIORITY_BULK, Recipient, enqueue
from tests.e2e_support import Deployment, free_port
from tests.login_standin import LoginStandIn
from tests.teams_standin import TeamsStandIn
from tests.telegram_standin import TelegramStandIn
from tests.views_support import make_round

TOKEN = "metrics-token-0123456789abcdef"
CHAT = 515151
BLOCKED = 525252
LATER = 535353
OTHER_HOLDER = "elsewhere:4242:abcdef"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> tuple[set[str], Samples]:
    """Family names and every sample by (name, labels), through Prometheus' own parser."""
    names: set[str] = set()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return names, samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def scrape(client: TestClient) -> tuple[set[str], Samples]:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(await response.text())


def telegram_settings(url: str, standin: TelegramStandIn, **extra: Any) -> Settings:
    return Settings(
        _env_file=None, database_url=url, telegram_bot_token="123:TEST",
        telegram_api_base_url=standin.base_url, telegram_bot_username="lyttepost_test_bot",
        scheduler_enabled=False, **extra,
    )  # fmt: skip


@pytest.fixture
async def telegram(
    migrated_url: str,
) -> AsyncIterator[tuple[TelegramStandIn, Runtime, TestClient]]:
    async with TelegramStandIn() as standin:
        runtime = build_runtime(telegram_settings(migrated_url, standin, metrics_token=TOKEN))
        async with TestClient(TestServer(web_app(runtime))) as client:
            yield standin, runtime, client


async def test_metrics_count_real_traffic_and_read_the_database(
    telegram: tuple[TelegramStandIn, Runtime, TestClient],
) -> None:
    standin, runtime, client = telegram
    names, samples = await scrape(client)
    assert value(samples, "lyttepost_sends_total", channel="telegram", outcome="429") == 0
    assert value(samples, "lyttepost_database_up") == 1

    standin.user_sends_text(CHAT, "hei")
    await standin.wait_for_message(CHAT, timeout=10)
    standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    standin.user_sends_text(CHAT, "hallo")
    await standin.wait_for_message(CHAT, after_count=1, timeout=15)  # after the 429's pause

    standin.block(BLOCKED, notify=False)
    async with runtime.sessions.begin() as session:
        note = [OutgoingMessage(text="Til en som har blokkert boten")]
        await enqueue(session, Recipient("telegram", str(BLOCKED)), note, kind="notice",
                      priority=PRIORITY_BULK)  # fmt: skip
        later = [OutgoingMessage(text="I morgen")]
        await enqueue(session, Recipient("telegram", str(LATER)), later, kind="broadcast",
                      priority=PRIORITY_BULK, now=utcnow() + timedelta(days=1))  # fmt: skip
        round_id = await make_round(session, "Behov vår", ["0301", "1101", "1103"])
        orgs = dict(
            (await session.execute(
                select(Organisation.code, Organisation.id)
                .where(Organisation.code.in_(["0301", "1101", "1103"]))
            )).all()
        )  # fmt: skip
        for code, status in (("0301", "submitted"), ("1101", "in_progress"), ("1103", "awaiting_approval")):  # fmt: skip
            session.add(Response(round_id=round_id, organisation_id=orgs[code], status=status,
                                 state={}))  # fmt: skip
        await leases.try_acquire(session, LEASE_NAME, OTHER_HOLDER, utcnow(), timedelta(hours=1))
    runtime.sender.wake()

    for _ in range(100):  # the blocked chat's 403 comes a moment later
        names, samples = await scrape(client)
        if value(samples, "lyttepost_sends_total", channel="telegram", outcome="403"):
            break
        await asyncio.sleep(0.1)

    assert {
        "lyttepost_inbound_events", "lyttepost_inbound_processing_seconds", "lyttepost_sends",
        "lyttepost_send_retries", "lyttepost_outbox_messages", "lyttepost_round_responses",
        "lyttepost_scheduler_lease_holder", "lyttepost_scheduler_lease_held",
        "lyttepost_senders", "lyttepost_database_up",
    } <= names  # fmt: skip
    assert value(samples, "lyttepost_inbound_events_total", channel="telegram", kind="text") == 2
    assert value(samples, "lyttepost_inbound_events_total", channel="telegram", kind="press") == 0
    assert value(samples, "lyttepost_inbound_processing_seconds_count", channel="telegram") == 2
    assert (
        value(samples, "lyttepost_inbound_processing_seconds_bucket", channel="telegram", le="+Inf")
        == 2
    )
    sends = {
        outcome: value(samples, "lyttepost_sends_total", channel="telegram", outcome=outcome)
        for outcome in ("ok", "429", "403", "error")
    }
    assert sends["429"] == 1 and sends["403"] == 1 and sends["error"] == 0
    assert sends["ok"] is not None and sends["ok"] >= 2
    assert value(samples, "lyttepost_send_retries_total", channel="telegram",
                 reason="throttled") == 1  # fmt: skip
    assert value(samples, "lyttepost_outbox_messages", kind="broadcast",
                 priority=str(PRIORITY_BULK), status="pending") == 1  # fmt: skip
    responses = str(round_id)
    assert value(samples, "lyttepost_round_responses", round_id=responses, state="started") == 2
    assert value(samples, "lyttepost_round_responses", round_id=responses, state="submitted") == 1
    assert value(samples, "lyttepost_scheduler_lease_holder", holder=OTHER_HOLDER) == 1
    assert value(samples, "lyttepost_scheduler_lease_held") == 0
    assert value(samples, "lyttepost_senders") == 1  # this process's sender lease


async def test_the_lease_held_by_this_process_and_a_round_without_responses(
    sessions: Any,
) -> None:
    """Straight on ``Metrics``: its own registry, the holder it was told it is."""
    metrics = Metrics(sessions, channels=["teams"], lease_name=LEASE_NAME, holder="me:1:aa",
                      clock=utcnow)  # fmt: skip
    async with sessions.begin() as session:
        await leases.try_acquire(session, LEASE_NAME, "me:1:aa", utcnow(), timedelta(minutes=1))
        round_id = await make_round(session, "Tom runde", ["0301"])
    _, samples = parse((await metrics.render()).decode())
    assert value(samples, "lyttepost_scheduler_lease_held") == 1
    assert value(samples, "lyttepost_scheduler_lease_holder", holder="me:1:aa") == 1
    assert value(samples, "lyttepost_round_responses", round_id=str(round_id), state="started") == 0
    assert value(samples, "lyttepost_sends_total", channel="teams", outcome="ok") == 0
    assert value(samples, "lyttepost_senders") == 0
    other = Metrics(sessions, channels=["teams"], lease_name=LEASE_NAME, holder=None, clock=utcnow)
    metrics.send_finished("teams", "ok")
    _, again = parse((await other.render()).decode())
    assert value(again, "lyttepost_sends_total", channel="teams", outcome="ok") == 0


# --- who may read /metrics -------------------------------------------------------------------


@pytest.fixture
async def bare(migrated_url: str) -> AsyncIterator[tuple[Runtime, TestClient]]:
    """The web app without chat channels and without a metrics setting."""
    settings = Settings(_env_file=None, database_url=migrated_url, scheduler_enabled=False)
    runtime = build_runtime(settings, with_telegram=False)
    async with TestClient(TestServer(web_app(runtime))) as client:
        yield runtime, client


async def test_the_token_is_required_and_nothing_is_served_without_a_setting(
    telegram: tuple[TelegramStandIn, Runtime, TestClient],
    bare: tuple[Runtime, TestClient],
) -> None:
    _, _, client = telegram
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789abcd"},
                    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN},
                    {"Authorization": f"Bearer {TOKEN}x"}):  # fmt: skip
        refused = await client.get("/metrics", headers=headers)
        assert refused.status == 401 and await refused.text() == "unauthorized"
    assert (await client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})).ok
    _, bare_client = bare
    assert (await bare_client.get("/metrics")).status == 404
    token = {"Authorization": f"Bearer {TOKEN}"}
    assert (await bare_client.get("/metrics", headers=token)).status == 404


def test_a_short_or_unsendable_token_is_refused_at_start() -> None:
    for bad in ("short", "has a space in it 0123", "æøå-not-ascii-0123456789"):
        with pytest.raises(ValueError, match="METRICS_TOKEN must be at least 16"):
            Settings(_env_file=None, metrics_token=bad)


async def test_a_separate_port_serves_metrics_alone(bare: tuple[Runtime, TestClient]) -> None:
    runtime, client = bare
    port = free_port()
    settings = runtime.settings.model_copy(update={"metrics_port": port})
    runner = await start_metrics_site(runtime.metrics, settings)
    assert runner is not None
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/metrics") as response:
                assert response.status == 200
                names, _ = parse(await response.text())
                assert "lyttepost_outbox_messages" in names
            for path in ("/healthz", "/readyz", "/"):
                async with http.get(path) as response:
                    assert response.status == 404
    finally:
        await runner.cleanup()
    assert (await client.get("/metrics")).status == 404  # the main port stays closed

    guarded = runtime.settings.model_copy(update={"metrics_port": port, "metrics_token": TOKEN})
    runner = await start_metrics_site(runtime.metrics, guarded)
    assert runner is not None
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/metrics") as response:
                assert response.status == 401
            async with http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}) as ok:
                assert ok.status == 200
    finally:
        await runner.cleanup()


@pytest.mark.e2e
def test_lyttepost_run_listens_on_the_metrics_port(tmp_path: Path) -> None:
    port = free_port()
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=tmp_path,
        extra_env={"TELEGRAM_BOT_TOKEN": "", "METRICS_PORT": str(port)},
    )
    deployment.cli("db", "upgrade")
    deployment.start()
    try:
        with httpx.Client() as http:
            for _ in range(50):
                try:
                    scraped = http.get(f"http://127.0.0.1:{port}/metrics")
                    break
                except httpx.ConnectError:
                    import time

                    time.sleep(0.1)
            assert scraped.status_code == 200
            assert "lyttepost_database_up 1.0" in scraped.text
            main = f"http://127.0.0.1:{deployment.http_port}"
            assert http.get(f"{main}/metrics").status_code == 404
            ready = http.get(f"{main}/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"ready": True, "checks": {"database": "ok"}}
        busy = Deployment(
            database_url=deployment.database_url, api_base_url=deployment.api_base_url,
            workdir=tmp_path, extra_env={"TELEGRAM_BOT_TOKEN": "", "METRICS_PORT": str(port)},
        )  # fmt: skip
        refused = busy.cli("run", check=False)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert f"cannot listen on 127.0.0.1:{port} (METRICS_HOST/METRICS_PORT)" in refused.stderr
    finally:
        deployment.stop()


# --- /readyz -----------------------------------------------------------------------------------


async def test_ready_with_telegram_and_not_while_its_token_is_refused(
    telegram: tuple[TelegramStandIn, Runtime, TestClient],
) -> None:
    standin, _, client = telegram
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {"ready": True, "checks": {"database": "ok", "telegram": "ok"}}

    standin.fail_next("getUpdates", 401, "Unauthorized")  # the token revoked meanwhile
    standin.user_sends_text(CHAT, "hei")  # ends the long poll in flight; the next one fails
    await standin.wait_until(
        lambda: any(c.status == 401 for c in standin.calls_to("getUpdates")), timeout=40
    )
    for _ in range(50):
        refused = await client.get("/readyz")
        if refused.status == 503:
            break
        await asyncio.sleep(0.05)
    assert refused.status == 503
    body = await refused.json()
    assert body["ready"] is False and body["checks"]["database"] == "ok"
    assert "refused the bot token" in body["checks"]["telegram"] and "123:TEST" not in str(body)
    assert (await client.get("/healthz")).status == 200  # liveness is another question


@contextlib.asynccontextmanager
async def database_gone(runtime: Runtime) -> AsyncIterator[None]:
    """The process's database becomes a PostgreSQL port nobody listens on: every query of
    every part (sender, sweeps, probes) fails at connect, as in an outage; then it is back."""
    dead = create_engine(f"postgresql+asyncpg://lyttepost@127.0.0.1:{free_port()}/gone")
    runtime.sessions.configure(bind=dead)
    try:
        yield
    finally:
        runtime.sessions.configure(bind=runtime.engine)
        await dead.dispose()


async def test_not_ready_while_the_database_is_unreachable(
    bare: tuple[Runtime, TestClient],
) -> None:
    runtime, client = bare
    assert (await client.get("/readyz")).status == 200
    async with database_gone(runtime):
        refused = await client.get("/readyz")
        assert refused.status == 503
        assert await refused.json() == {"ready": False, "checks": {"database": "unavailable"}}
    assert (await client.get("/readyz")).status == 200


async def test_metrics_say_the_database_is_down_instead_of_failing(
    telegram: tuple[TelegramStandIn, Runtime, TestClient],
) -> None:
    _, runtime, client = telegram
    async with database_gone(runtime):
        names, samples = await scrape(client)
    assert value(samples, "lyttepost_database_up") == 0
    assert "lyttepost_outbox_messages" not in names and "lyttepost_sends" in names
    assert value(samples, "lyttepost_sends_total", channel="telegram", outcome="ok") == 0
    _, samples = await scrape(client)
    assert value(samples, "lyttepost_database_up") == 1


async def test_teams_is_not_ready_without_a_token_for_sending(migrated_url: str) -> None:
    async with LoginStandIn() as login, TeamsStandIn(bot_app_id=login.app_id):
        settings = Settings(
            _env_file=None, database_url=migrated_url, teams_enabled=True,
            microsoft_app_id=login.app_id, microsoft_app_password="not-the-password",
            teams_openid_metadata_url=login.metadata_url, microsoft_login_url=login.login_url,
            teams_auth_timeout_seconds=1, scheduler_enabled=False,
        )  # fmt: skip
        runtime = build_runtime(settings, with_telegram=False)
        async with TestClient(TestServer(web_app(runtime))) as client:
            for _ in range(100):  # the signing keys arrive in the background
                if runtime.teams_auth.validator.keys.ready and login.count("token"):
                    break
                await asyncio.sleep(0.05)
            refused = await client.get("/readyz")
            assert refused.status == 503
            assert await refused.json() == {
                "ready": False,
                "checks": {"database": "ok", "teams": "no token for sending"},
            }

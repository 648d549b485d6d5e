"""The composition root: builds every concrete part from settings, nothing at import.

``build_runtime`` wires the database, the conversation, the inbound processor, the
sender and the configured channels; ``web_app`` serves them in one aiohttp
application whose startup/cleanup hooks start and stop the background work.
Tests call the same functions with their own transports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Bot

from bot.ignored import IgnoredTally
from bot.metrics import Metrics
from bot.metrics_http import add_metrics
from bot.readiness import ChannelHealth, readiness_handler, teams_problem
from bot.settings import Settings
from bot.telegram import TelegramIntake, TelegramTransport, webhook_handler
from bot.telegram_http import AiohttpRequest
from bot.telegram_menus import TelegramMenus
from bot.typing_indicator import TypingIndicator
from bot.web.context import Workspace
from bot.web.routes import add_workspace
from dialogs.privacy import PrivacyTerms
from scheduler.cycle import Cycle
from scheduler.dissemination import DisseminationReminders
from scheduler.service import LEASE_NAME, CycleScheduler, process_identity
from services.conversation import Conversation
from services.database import Database
from services.delivery import Pacing, Sender, Transport
from services.inbound import InboundProcessor, sweep_forever
from services.retention import RetentionSweeper
from services.rounds import DEFAULT_RETENTION_MONTHS
from services.senders import SenderMembership
from services.surveys import SurveyCatalog
from storage.files import FileStore

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a running Lyttepost process holds."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalog: SurveyCatalog
    conversation: Conversation
    processor: InboundProcessor
    sender: Sender
    transports: dict[str, Transport]
    cycle: Cycle
    metrics: Metrics
    cycle_scheduler: CycleScheduler | None = None
    telegram_bot: Bot | None = None
    telegram_intake: TelegramIntake | None = None
    telegram_health: ChannelHealth | None = None
    teams_auth: Any = None  # bot.teams_auth.TeamsAuth, when Teams is on
    teams_intake: Any = None
    telegram_menus: TelegramMenus | None = None
    typing: TypingIndicator | None = None
    ignored: IgnoredTally = field(default_factory=IgnoredTally)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start_background(self) -> None:
        """Resume unfinished work, then start sending and sweeping."""
        recovered = await self.processor.recover()
        if recovered:
            log.info("resuming %s inbound events left unprocessed", recovered)
        self.tasks.append(asyncio.create_task(self.sender.run(), name="sender"))
        self.tasks.append(asyncio.create_task(sweep_forever(self.processor), name="inbound-sweep"))
        if self.cycle_scheduler is not None:
            self.tasks.append(asyncio.create_task(self.cycle_scheduler.run(), name="scheduler"))
        if self.teams_auth is not None:  # signing keys and the bot's token, kept fresh
            for work in self.teams_auth.background():
                self.tasks.append(asyncio.create_task(work, name="teams-auth"))

    def rounds_changed(self) -> None:
        """A round was changed in this process: the scheduler looks again now."""
        if self.cycle_scheduler is not None:
            self.cycle_scheduler.poke()

    async def close(self) -> None:
        """Stop background work and release connections."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        if self.typing is not None:
            await self.typing.close()
        await self.sender.stop()
        await self.processor.idle()
        if self.telegram_bot is not None:
            with contextlib.suppress(Exception):
                await self.telegram_bot.shutdown()
        if self.teams_auth is not None:
            await self.teams_auth.close()
        await self.engine.dispose()


def telegram_bot(settings: Settings) -> Bot:
    """A PTB Bot for the configured Bot API server, with room for long polls.

    Sends wait TELEGRAM_SEND_TIMEOUT_SECONDS for Telegram's answer. A slow Telegram may
    answer a send it has already delivered late; a client that gives up sooner sends the
    message again (20 s against a Bot API answering after 25 s put one reply in a chat
    three times). Whatever still times out is sent once more at most (services/delivery).
    """
    return Bot(
        token=settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_api_base_url.replace("/bot", "/file/bot"),
        request=AiohttpRequest(
            connection_pool_size=64,
            read_timeout=settings.telegram_send_timeout_seconds,
            write_timeout=30,
        ),
        get_updates_request=AiohttpRequest(connection_pool_size=2, read_timeout=40),
    )


def build_runtime(
    settings: Settings,
    *,
    transports: Mapping[str, Transport] | None = None,
    with_telegram: bool | None = None,
) -> Runtime:
    """Build (but do not start) a runtime; ``transports`` adds or replaces channels."""
    database = Database.connect(settings.database_url)
    engine, sessions = database.engine, database.sessions
    catalog = SurveyCatalog()
    zone = ZoneInfo(settings.timezone)
    conversation = Conversation(
        catalog=catalog,
        zone=zone,
        privacy=privacy_terms(settings),
        workspace_url=settings.workspace_base_url(),
        code_ttl=timedelta(days=settings.invite_ttl_days),
    )
    chosen: dict[str, Transport] = {}
    bot: Bot | None = None
    telegram_health: ChannelHealth | None = None
    use_telegram = bool(settings.telegram_bot_token) if with_telegram is None else with_telegram
    if use_telegram:
        bot = telegram_bot(settings)
        telegram_health = ChannelHealth()
        chosen["telegram"] = TelegramTransport(bot, FileStore(sessions), telegram_health)
    teams_auth = None
    if settings.teams_enabled:
        from bot.teams import TeamsTransport
        from bot.teams_auth import build_teams_auth

        teams_auth = build_teams_auth(settings)
        chosen["teams"] = TeamsTransport(
            teams_auth, sessions, FileStore(sessions), file_url=_file_url(settings)
        )
    chosen.update(transports or {})
    holder = process_identity()
    metrics = Metrics(
        sessions,
        channels=chosen,
        lease_name=LEASE_NAME,
        holder=holder if settings.scheduler_enabled else None,
        clock=lambda: conversation.clock(),  # the scheduler's clock, which tests may move
    )
    sender = Sender(
        sessions,
        chosen,
        channel_pacings(settings, chosen),
        membership=SenderMembership(sessions, holder),
        telemetry=metrics,
    )
    menus = TelegramMenus(bot, sessions) if bot is not None else None

    def after_commit() -> None:
        sender.wake()
        if menus is not None:
            menus.committed()

    processor = InboundProcessor(
        sessions,
        conversation.handle,
        conversation.apologise,
        after_commit,
        concurrency=1 if engine.dialect.name == "sqlite" else 8,
        telemetry=metrics,
    )
    if menus is not None:
        conversation.on_staff_chat_bound = menus.poke_after_commit
        conversation.on_language_chosen = menus.poke_after_commit
    typing = typing_indicator(chosen, processor, sender)
    processor.on_submitted = typing.accepted
    ignored = IgnoredTally()
    intake = (
        TelegramIntake(bot, processor, ignored=ignored, health=telegram_health)
        if bot is not None
        else None
    )
    teams_intake = None
    if teams_auth is not None:
        from bot.teams import TeamsIntake

        teams_intake = TeamsIntake(processor, sessions, ignored)
    cycle = Cycle(sessions, catalog, zone, conversation.clock, on_queued=sender.wake)
    cycle_scheduler = (
        CycleScheduler(
            cycle,
            sessions,
            settings.database_url,
            lease_ttl=settings.scheduler_lease_seconds,
            sync_interval=settings.scheduler_sync_seconds,
            holder=holder,
            housekeeping=RetentionSweeper(
                sessions,
                engine,
                catalog,
                conversation.clock,
                raw_days=settings.raw_message_retention_days,
            ),
            periodic=[
                DisseminationReminders(sessions, conversation.clock, zone, on_queued=sender.wake)
            ],
        )
        if settings.scheduler_enabled
        else None
    )
    if cycle_scheduler is not None:
        conversation.on_rounds_changed = cycle_scheduler.poke_after_commit
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        catalog=catalog,
        conversation=conversation,
        processor=processor,
        sender=sender,
        transports=chosen,
        cycle=cycle,
        metrics=metrics,
        cycle_scheduler=cycle_scheduler,
        telegram_bot=bot,
        telegram_intake=intake,
        telegram_health=telegram_health,
        teams_auth=teams_auth,
        teams_intake=teams_intake,
        telegram_menus=menus,
        typing=typing,
        ignored=ignored,
    )


def typing_indicator(
    transports: Mapping[str, Transport], processor: InboundProcessor, sender: Sender
) -> TypingIndicator:
    """Typing for the channels whose transport can show it (Telegram, Teams)."""
    channels = {
        channel: show
        for channel, transport in transports.items()
        if (show := getattr(transport, "show_typing", None)) is not None
    }
    return TypingIndicator(channels, processor.pending, sender.spare_call)


def privacy_terms(settings: Settings) -> PrivacyTerms:
    """What /personvern tells members, from the settings."""
    return PrivacyTerms(
        contact=settings.privacy_contact.strip(),
        retention_months=(DEFAULT_RETENTION_MONTHS, DEFAULT_RETENTION_MONTHS),
        raw_days=settings.raw_message_retention_days,
    )


def channel_pacings(settings: Settings, channels: Iterable[str]) -> dict[str, Pacing]:
    """Each channel's pace from the settings: Teams has its own limits, the rest Telegram's."""
    telegram = Pacing(
        per_second=settings.send_rate_per_second,
        chat_per_second=settings.send_chat_rate_per_second,
        chat_burst=settings.send_chat_burst,
    )
    teams = Pacing(
        per_second=settings.teams_send_rate_per_second,
        chat_per_second=settings.teams_chat_rate_per_second,
        chat_burst=settings.teams_chat_burst,
    )
    return {channel: teams if channel == "teams" else telegram for channel in channels}


def _file_url(settings: Settings) -> Any:
    """Signed links to stored files, when the web app has a public address and a key."""
    if not (settings.public_base_url and settings.file_link_secret):
        return None
    from bot.file_links import file_link

    return lambda attachment: file_link(
        settings.public_base_url, settings.file_link_secret, attachment
    )


def webhook_path(settings: Settings) -> str:
    """The path Telegram posts to: the path of TELEGRAM_WEBHOOK_URL."""
    return urlparse(settings.telegram_webhook_url).path or "/telegram/webhook"


MAX_BODY_BYTES = 1024 * 1024  # Telegram updates and Teams activities are far smaller


@web.middleware
async def plain_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A bug in a handler gives a plain 500 and one log entry, never a traceback page.

    Every expected kind of bad input is refused by the handlers themselves with a 4xx;
    this is the net under them.
    """
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("web: unexpected error answering %s %s", request.method, request.path)
        return web.Response(status=500, text="internal error")


def workspace_for(runtime: Runtime) -> Workspace:
    """KS's workspace over this runtime's database, catalogue, clock and cycle."""

    def changed() -> None:
        runtime.rounds_changed()
        runtime.sender.wake()

    return Workspace(
        settings=runtime.settings,
        sessions=runtime.sessions,
        catalog=runtime.catalog,
        zone=runtime.cycle.zone,
        clock=runtime.conversation.clock,
        rounds_changed=changed,
        menus_changed=(
            runtime.telegram_menus.changed if runtime.telegram_menus is not None else lambda: None
        ),
    )


async def database_answers(runtime: Runtime, probe: str) -> bool:
    """Whether the database answers a trivial query (a failure is logged, never raised)."""
    try:
        async with runtime.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:  # any failure means unavailable, never a crash
        log.error("%s: database unavailable (%s)", probe, type(error).__name__)
        return False
    return True


def channel_checks(runtime: Runtime) -> dict[str, Callable[[], str | None]]:
    """Readiness checks of the configured channels (bot/readiness.py says what they mean)."""
    checks: dict[str, Callable[[], str | None]] = {}
    if runtime.telegram_health is not None:
        checks["telegram"] = runtime.telegram_health.problem
    if runtime.teams_auth is not None:
        auth = runtime.teams_auth
        checks["teams"] = lambda: teams_problem(auth)
    return checks


def web_app(runtime: Runtime) -> web.Application:
    """The one aiohttp application: health checks, Telegram webhook, background work."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[plain_errors])
    settings = runtime.settings

    async def healthz(_: web.Request) -> web.Response:
        if not await database_answers(runtime, "healthz"):
            return web.json_response({"status": "database unavailable"}, status=503)
        health: dict[str, Any] = {"status": "ok", "ignored": runtime.ignored.snapshot()}
        if runtime.teams_auth is not None and runtime.teams_auth.validator is not None:
            health["teams_keys"] = runtime.teams_auth.validator.keys.ready
        return web.json_response(health)

    app.router.add_get("/healthz", healthz)
    app.router.add_get(
        "/readyz",
        readiness_handler(lambda: database_answers(runtime, "readyz"), channel_checks(runtime)),
    )
    add_metrics(app, runtime.metrics, settings)
    add_workspace(app, workspace_for(runtime))
    if runtime.teams_auth is not None:
        from bot.teams import messages_handler

        app.router.add_post(
            "/api/messages", messages_handler(runtime.teams_auth, runtime.teams_intake, settings)
        )
    if settings.file_link_secret:
        from bot.file_links import ROUTE, file_handler

        app.router.add_get(
            ROUTE, file_handler(FileStore(runtime.sessions), settings.file_link_secret)
        )
    webhook = bool(settings.telegram_webhook_url) and runtime.telegram_intake is not None
    if webhook:
        assert runtime.telegram_intake is not None
        app.router.add_post(
            webhook_path(settings),
            webhook_handler(runtime.telegram_intake, settings.telegram_webhook_secret),
        )

    async def on_startup(_: web.Application) -> None:
        await runtime.start_background()
        if runtime.telegram_bot is not None and runtime.telegram_intake is not None:
            await runtime.telegram_bot.initialize()
            if runtime.telegram_health is not None:
                runtime.telegram_health.started()
            if runtime.telegram_menus is not None:
                runtime.tasks.append(
                    asyncio.create_task(runtime.telegram_menus.run(), name="telegram-menus")
                )
            if webhook:
                await runtime.telegram_bot.set_webhook(
                    url=settings.telegram_webhook_url,
                    secret_token=settings.telegram_webhook_secret,
                    allowed_updates=["message", "callback_query"],
                )
                log.info("telegram: webhook mode at %s", webhook_path(settings))
            else:
                runtime.tasks.append(
                    asyncio.create_task(
                        runtime.telegram_intake.poll_forever(), name="telegram-poll"
                    )
                )
                log.info("telegram: polling mode")

    async def on_cleanup(_: web.Application) -> None:
        await runtime.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app

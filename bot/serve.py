"""``lyttepost run``: serve the web app and the channels until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable
from typing import TypeVar

from aiohttp import web

from bot.app import build_runtime, web_app
from bot.metrics_http import start_metrics_site
from bot.settings import Settings
from services.setup import require_current_schema

log = logging.getLogger(__name__)


T = TypeVar("T")


class CannotListen(Exception):
    """A configured address cannot be listened on (in use, or not this machine's)."""


async def serve(settings: Settings) -> None:
    """Run until asked to stop; a SIGKILL at any moment loses nothing (see docs/decisions)."""
    await require_current_schema(settings.database_url)
    runtime = build_runtime(settings)
    runner = web.AppRunner(web_app(runtime), handle_signals=False)
    await runner.setup()
    metrics_runner: web.AppRunner | None = None
    try:
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await _listen(site.start(), "HTTP_HOST/HTTP_PORT", settings.http_host, settings.http_port)
        log.info("lyttepost listening on http://%s:%s", settings.http_host, settings.http_port)
        metrics_runner = await _listen(
            start_metrics_site(runtime.metrics, settings),
            "METRICS_HOST/METRICS_PORT",
            settings.metrics_host,
            settings.metrics_port,
        )
        await until_stopped()
    finally:
        log.info("lyttepost stopping")
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        await runner.cleanup()


async def _listen(start: Awaitable[T], names: str, host: str, port: int) -> T:
    """Start listening, or say which setting names an address that cannot be used."""
    try:
        return await start
    except OSError as error:
        raise CannotListen(
            f"cannot listen on {host}:{port} ({names}): {error.strerror or error}"
        ) from None


async def until_stopped() -> None:
    """Wait for SIGINT (Ctrl-C) or SIGTERM; the handlers are removed again afterwards."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)

"""``lyttepost run``: serve the web app and the channels until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.app import build_runtime, web_app
from bot.settings import Settings
from services.setup import require_current_schema

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    """Run until asked to stop; a SIGKILL at any moment loses nothing (see docs/decisions)."""
    await require_current_schema(settings.database_url)
    runtime = build_runtime(settings)
    runner = web.AppRunner(web_app(runtime), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("lyttepost listening on http://%s:%s", settings.http_host, settings.http_port)
    try:
        await until_stopped()
    finally:
        log.info("lyttepost stopping")
        await runner.cleanup()


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

"""Where ``/metrics`` is served: never to the public unless asked for (docs in README).

- METRICS_TOKEN set: ``/metrics`` on the main port, to ``Authorization: Bearer <token>``
  only (compared in constant time; anything else gets a bare 401).
- METRICS_PORT set: a listener of its own on METRICS_HOST (loopback by default) that
  serves ``/metrics`` and nothing else; the token is required there too when set.
- Neither: the main port answers ``/metrics`` with 404, like any unknown path.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.metrics import CONTENT_TYPE, Metrics
from bot.settings import Settings

log = logging.getLogger(__name__)

PATH = "/metrics"


def authorised(header: str, token: str) -> bool:
    """Whether ``header`` is ``Bearer <token>``; the token is compared in constant time."""
    scheme, _, given = header.partition(" ")
    # aiohttp keeps undecodable header bytes as surrogates: compare bytes, never raise.
    matches = hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8")
    )
    return scheme.lower() == "bearer" and matches


def metrics_handler(
    metrics: Metrics, token: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Serve the text exposition, to holders of ``token`` when it is set."""

    async def handle(request: web.Request) -> web.Response:
        if token and not authorised(request.headers.get("Authorization", ""), token):
            return web.Response(status=401, text="unauthorized")
        body = await metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return handle


def add_metrics(app: web.Application, metrics: Metrics, settings: Settings) -> None:
    """``/metrics`` on the main application, when METRICS_TOKEN protects it."""
    if settings.metrics_token:
        app.router.add_get(PATH, metrics_handler(metrics, settings.metrics_token))


def metrics_app(metrics: Metrics, settings: Settings) -> web.Application:
    """The separate listener's application: ``/metrics`` only."""
    app = web.Application()
    app.router.add_get(PATH, metrics_handler(metrics, settings.metrics_token))
    return app


async def start_metrics_site(metrics: Metrics, settings: Settings) -> web.AppRunner | None:
    """Listen on METRICS_HOST:METRICS_PORT when METRICS_PORT is set; the caller cleans up."""
    if not settings.metrics_port:
        return None
    runner = web.AppRunner(metrics_app(metrics, settings), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.metrics_host, settings.metrics_port).start()
    except OSError:
        await runner.cleanup()
        raise
    log.info("metrics at http://%s:%s%s", settings.metrics_host, settings.metrics_port, PATH)
    return runner

"""``/readyz``: whether this process can do its work now, answered without calling anyone.

Ready means the database answers a trivial query (within a few seconds) and every
configured chat channel is usable. "Usable" is what the channel's own traffic last
showed, kept in memory, so a probe never reaches Telegram or Microsoft:

- Telegram: the bot started (its ``getMe`` at start succeeded, so the token was good
  then) and no later call (``getUpdates``, a send) was refused for the token (401/404)
  without a call succeeding since. Network trouble does not count: the outbox retries
  and ``/metrics`` shows it; a refused token needs a person.
- Teams: when requests are authenticated, Microsoft's signing keys are loaded (without
  them every Teams request is refused with 503); when the bot has a password, it holds
  a valid token from Entra for sending. In local mode (no app id) it is always usable.

Channels that are not configured are left out. ``/healthz`` stays the cheaper liveness
check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

DATABASE_TIMEOUT_SECONDS = 3.0


class ChannelHealth:
    """A channel's state as its own calls report it: started, and whether its
    credentials were refused since the last call that worked."""

    def __init__(self) -> None:
        self._started = False
        self._refused: str | None = None

    def started(self) -> None:
        """The channel came up (for Telegram: ``getMe`` accepted the token)."""
        self._started = True
        self._refused = None

    def refused(self, reason: str) -> None:
        """A call was refused for the credentials; ``reason`` must hold no secret."""
        if self._refused is None:
            log.error("readiness: %s", reason)
        self._refused = reason

    def worked(self) -> None:
        """A call went through: the credentials are good."""
        self._refused = None

    def problem(self) -> str | None:
        """Why the channel is not usable now (None: it is)."""
        if not self._started:
            return "not started"
        return self._refused


def teams_problem(auth: Any) -> str | None:
    """Why Teams is not usable now (see the module doc); ``auth`` is a bot.teams_auth.TeamsAuth."""
    if auth.validator is not None and not auth.validator.keys.ready:
        return "signing keys not loaded"
    if auth.tokens is not None and auth.tokens.current() is None:
        return "no token for sending"
    return None


def readiness_handler(
    database_ok: Callable[[], Awaitable[bool]],
    channels: dict[str, Callable[[], str | None]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler: 200 with every check "ok", or 503 naming what is not."""

    async def readyz(_: web.Request) -> web.Response:
        checks: dict[str, str] = {}
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
                up = await database_ok()
        except TimeoutError:
            up = False
        checks["database"] = "ok" if up else "unavailable"
        for name, problem in channels.items():
            checks[name] = problem() or "ok"
        ready = all(value == "ok" for value in checks.values())
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    return readyz

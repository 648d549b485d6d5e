"""What every workspace handler needs, held by the aiohttp application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.settings import Settings
from services.surveys import SurveyCatalog
from services.views_needs import NeedCache
from storage.sessions import Sessions


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Workspace:
    """The workspace's dependencies: built once by the composition root (bot/app.py)."""

    settings: Settings
    sessions: Sessions
    catalog: SurveyCatalog
    zone: ZoneInfo
    clock: Callable[[], datetime] = _utcnow
    # Called after a change to a round, so this process's scheduler looks again at once.
    rounds_changed: Callable[[], None] = lambda: None
    # Called after an organisation's language changed, so chat menus follow (bot/telegram_menus).
    menus_changed: Callable[[], None] = lambda: None
    extras: dict[str, object] = field(default_factory=dict)
    # The needs found in each response, kept for the process (the needs browser's speed).
    needs: NeedCache = field(default_factory=NeedCache)

    def now(self) -> datetime:
        return self.clock()


WORKSPACE = web.AppKey("workspace", Workspace)


def workspace_of(request: web.Request) -> Workspace:
    """The workspace the request's application serves."""
    return request.app[WORKSPACE]

"""The real web app with KS's workspace, over the test database, and a staff member's browser.

``WorkspaceSite`` builds the runtime as ``lyttepost run`` does (no chat channel, no
scheduler running) and serves it with aiohttp's test server; ``Browser`` keeps its
cookies like a browser and signs in through a real single-use login link.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Runtime, build_runtime, web_app
from bot.settings import Settings
from services import staff_access
from services.staff import add_staff

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_in(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = CSRF_FIELD.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@dataclass
class WorkspaceSite:
    client: TestClient[Any, Any]
    runtime: Runtime

    @property
    def sessions(self) -> Any:
        return self.runtime.sessions

    async def staff(self, name: str, email: str, role: str) -> int:
        async with self.sessions.begin() as session:
            staff = await add_staff(session, name, email, role, datetime.now(UTC))
            return staff.id

    async def login_link(self, email: str) -> str:
        """A fresh login link's path for the account with ``email``."""
        async with self.sessions.begin() as session:
            staff = await staff_access.active_staff_for_link(session, email)
            url, _ = await staff_access.issue_login_link(
                session, staff, datetime.now(UTC), "http://127.0.0.1"
            )
        return url.removeprefix("http://127.0.0.1")

    async def signed_in(self, name: str, email: str, role: str) -> Browser:
        """A new browser, signed in as a new staff member with ``role``."""
        await self.staff(name, email, role)
        browser = Browser(self, self.client)
        await browser.use_link(await self.login_link(email))
        return browser


class Browser:
    """A cookie jar on the test client: what one person's browser holds."""

    def __init__(self, site: WorkspaceSite, client: TestClient[Any, Any]) -> None:
        self.site = site
        self.client = client
        self.cookies: dict[str, str] = {}

    def _keep(self, response: ClientResponse) -> None:
        for name, morsel in response.cookies.items():
            if morsel.value == "" or morsel["max-age"] == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        response = await self.client.get(
            path, cookies=self.cookies, allow_redirects=False, **kwargs
        )
        self._keep(response)
        await response.read()
        return response

    async def post(self, path: str, data: dict[str, str], **kwargs: Any) -> ClientResponse:
        response = await self.client.post(
            path, data=data, cookies=self.cookies, allow_redirects=False, **kwargs
        )
        self._keep(response)
        await response.read()
        return response

    async def use_link(self, path: str) -> ClientResponse:
        """Open a login link and press its button, as a person would."""
        page = await self.get(path)
        assert page.status == 200, await page.text()
        return await self.post(path, {"csrf_token": csrf_in(await page.text())})

    async def csrf(self, path: str = "/") -> str:
        """The session's CSRF token, read from a page's logout form."""
        response = await self.get(path)
        return csrf_in(await response.text())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


TELEGRAM_TOKEN = "123456:TEST-TOKEN"


@asynccontextmanager
async def workspace_site(
    database_url: str, *, fixed_port: bool = False, telegram: Any = None, **overrides: Any
) -> AsyncIterator[WorkspaceSite]:
    """The app on a test server. ``fixed_port`` also makes the settings know its address
    (sign-in with Entra needs the redirect URI before the server starts); with
    ``telegram`` (a tests.telegram_standin.TelegramStandIn) it also has a Telegram
    transport against that stand-in, so its running sender delivers for real."""
    port = free_port() if fixed_port else None
    if port is not None:
        overrides = {"http_port": port, **overrides}
    if telegram is not None:
        overrides = {
            "telegram_bot_token": TELEGRAM_TOKEN,
            "telegram_api_base_url": telegram.base_url,
            "telegram_bot_username": "lyttepost_test_bot",
            **overrides,
        }
    settings = Settings(
        _env_file=None, database_url=database_url, scheduler_enabled=False, **overrides
    )
    runtime = build_runtime(settings, with_telegram=telegram is not None)
    server = TestServer(web_app(runtime), port=port) if port else TestServer(web_app(runtime))
    async with TestClient(server) as client:
        yield WorkspaceSite(client, runtime)

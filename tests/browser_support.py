"""Headless Chromium for the workspace's browser tests: Debian's chromium driven by
Playwright (never a downloaded browser), axe-core for accessibility, and screenshots.

Chromium is ``/usr/bin/chromium`` (``LYTTEPOST_CHROMIUM`` overrides); ``.ci/run`` installs
it. Without it the browser tests fail in CI (CI=true) and skip elsewhere with the reason.
axe-core comes from the npm registry at a pinned version and digest, cached like the
official schemas (tests/official_schemas.py); nothing of it is committed.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.official_schemas import Package, SchemaUnavailable, _member
from tests.workspace_support import WorkspaceSite

CHROMIUM = Path(os.environ.get("LYTTEPOST_CHROMIUM", "/usr/bin/chromium"))
# Flags for a closed network and a root user in a container: no sandbox (root), no
# background connections that this machine's network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
AXE_CORE = Package(
    "npm",
    "axe-core",
    "4.14.1",
    "axe-core-4.14.1.tgz",
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
)
ARTEFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
SERIOUS = {"serious", "critical"}


def unavailable(reason: str) -> None:
    """Fail in CI, skip elsewhere: the browser tests are never skipped silently in CI."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


def axe_source() -> str:
    try:
        return _member(AXE_CORE, "package/axe.min.js").decode("utf-8")
    except SchemaUnavailable as error:
        unavailable(str(error))
        raise


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium (Playwright's Browser) for one test."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError as error:
        unavailable(f"playwright is not installed ({error})")
        raise
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page, one line each."""
    # Evaluated through the DevTools protocol, which the page's strict CSP does not govern
    # (a <script> tag would be refused, as it should be).
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(axe_source())
    result = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v.get("impact") in SERIOUS
    ]


async def look(page: Any, name: str) -> None:
    """Save a full-page screenshot as a test artefact and check accessibility."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    await page.screenshot(path=str(ARTEFACTS / f"{safe}.png"), full_page=True)
    problems = await serious_violations(page)
    assert problems == [], f"accessibility problems on {name}: {problems}"


def base(site: WorkspaceSite) -> str:
    """The site's address, without a trailing slash."""
    return str(site.client.make_url("")).rstrip("/")


async def signed_in_page(
    site: WorkspaceSite, browser: Any, name: str, email: str, role: str
) -> Any:
    """A new browser context, signed in through a login link and its button."""
    await site.staff(name, email, role)
    context = await browser.new_context(locale="nb-NO")
    page = await context.new_page()
    await page.goto(base(site) + await site.login_link(email))
    await page.get_by_role("button", name="Logg inn").click()
    await page.wait_for_url(base(site) + "/")
    return page

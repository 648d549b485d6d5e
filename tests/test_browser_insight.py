"""Insight in a real browser: «Utvikling over tid» on a round's results page, and staff
accepting a suggested group of needs with one need split off, by mouse and keyboard.
Screenshots and axe-core on every page; SQLite only (tests/test_trends_views.py and
tests/test_need_groups.py run the same pages on both databases).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.browser_support import base, look, signed_in_page
from tests.test_need_groups import NURSES, build_world
from tests.trend_fixtures import seed_trend_rounds
from tests.workspace_support import WorkspaceSite, workspace_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


def flat(text: str) -> str:
    return " ".join(text.split())


async def test_development_over_time_with_its_charts(site: WorkspaceSite, browser: Any) -> None:
    async with site.sessions.begin() as session:
        ids = await seed_trend_rounds(session)
    page = await signed_in_page(site, browser, "Vera Leser", "vera@ks.no", "viewer")
    await page.goto(f"{base(site)}/resultater/{ids[2]}")
    section = page.locator("section", has=page.get_by_role("heading", name="Utvikling over tid"))
    await section.scroll_into_view_if_needed()
    text = flat(await section.inner_text())
    assert "Størst økning: Digitalisering, valgt av 78 % mot 54 %" in text
    charts = section.locator("img")
    assert await charts.count() == 2
    for index in range(2):  # both change charts load as pictures, none broken
        chart = charts.nth(index)
        await chart.scroll_into_view_if_needed()
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await chart.element_handle()
        )
    await look(page, "resultater-utvikling")


async def test_staff_accept_a_suggested_group_in_the_browser(
    site: WorkspaceSite, browser: Any
) -> None:
    w = await build_world(site.sessions)
    page = await signed_in_page(site, browser, "Siri Stab", "siri@ks.no", "staff")
    await page.goto(f"{base(site)}/resultater/{w.round_id}")
    await page.get_by_role("link", name="Foreslå grupper", exact=False).click()
    await page.wait_for_url(f"{base(site)}/resultater/{w.round_id}/grupper*")
    await look(page, "behov-grupper")
    group = page.locator("form", has_text=NURSES["1101"]).first
    name = group.get_by_label("Navn på merkelappen")
    await name.fill("Rekruttering av sykepleiere")
    kept = [NURSES["1101"], NURSES["1103"]]
    for box in await group.get_by_role("checkbox").all():
        label = flat(
            await group.locator(f"label[for='{await box.get_attribute('id')}']").inner_text()
        )
        if not any(need in label for need in kept):
            await box.uncheck()  # split off what does not belong
    await group.get_by_role("button", name="Godta som merkelapp").click()
    await page.wait_for_url(f"{base(site)}/resultater/{w.round_id}/grupper?godtatt=*")
    assert "Merkelappen «Rekruttering av sykepleiere» er satt på behovene du valgte." in flat(
        await page.locator("main").inner_text()
    )
    await look(page, "behov-gruppe-godtatt")
    await page.goto(f"{base(site)}/resultater/{w.round_id}")
    summary = flat(await page.locator("main").inner_text())
    assert "Rekruttering av sykepleiere 2 av 7" in summary

"""Resultater in a real browser: a round's summary with its charts, and the needs browser
filtered by area and urgency, tagged and marked quotable by keyboard and mouse as staff
would. Every page is screenshotted and checked with axe-core. SQLite only:
tests/test_workspace_results.py runs the same pages on both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.browser_support import base, look, signed_in_page
from tests.test_workspace_results import world
from tests.workspace_support import WorkspaceSite, workspace_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


async def need_texts(page: Any) -> list[str]:
    return [text.strip() for text in await page.locator("li.need .need-text").all_inner_texts()]


async def test_the_summary_with_its_charts(site: WorkspaceSite, browser: Any) -> None:
    w = await world(site)
    page = await signed_in_page(site, browser, "Vera Leser", "vera@ks.no", "viewer")
    main = page.locator("main")
    await page.get_by_role("link", name="Resultater", exact=True).click()
    await look(page, "resultater")
    await page.get_by_role("link", name="Vår 2027", exact=True).click()
    await page.wait_for_url(f"{base(site)}/resultater/{w.spring}")
    assert "83 % har svart (5 av 6 medlemmer)" in " ".join((await main.inner_text()).split())
    charts = page.locator("figure.chart img")
    assert await charts.count() == 5
    for index in range(5):  # every chart loaded as a picture, none broken
        chart = charts.nth(index)
        await chart.scroll_into_view_if_needed()
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await chart.element_handle()
        )
        assert await chart.evaluate("img => img.naturalWidth") == 1024
    alt = await page.get_by_role("img", name="Viktigste områder", exact=False).first.get_attribute(
        "alt"
    )
    # four of five chose it: the one who did not is as exposed, so the figure is hidden
    assert alt is not None and "Helse og omsorg: skjult" in alt and "80 %" not in alt
    await page.locator("details summary", has_text="Fornøyd med KS").click()  # per county
    await look(page, "resultater-oppsummering")


async def test_the_needs_browser_filtered_by_area_and_urgency(
    site: WorkspaceSite, browser: Any
) -> None:
    w = await world(site)
    page = await signed_in_page(site, browser, "Siri Stab", "siri@ks.no", "staff")
    main = page.locator("main")
    await page.goto(f"{base(site)}/resultater/{w.spring}")
    await page.get_by_role("link", name="Se behovene").click()
    assert len(await need_texts(page)) == 7
    await look(page, "behov-alle")

    await page.get_by_label("Område").select_option("helse")
    await page.get_by_label("Hvor mye det haster").select_option("5")
    await page.get_by_role("button", name="Vis behov").click()
    # The form sends its empty fields too; the page reads only those given.
    await page.wait_for_url(f"{base(site)}/resultater/{w.spring}/behov?omrade=helse&haster=5&*")
    assert await need_texts(page) == [
        "Flere fastleger i distriktet",
        "Hjemmetjenester med velferdsteknologi",
    ]
    assert "Viser 1–2 av 2 behov" in await main.inner_text()
    await look(page, "behov-helse-haster-5")

    # Tag the first by keyboard: the label field, type, Enter; back on the same list.
    first = page.locator("li.need").first
    await first.get_by_label("Ny merkelapp").focus()
    await page.keyboard.type("Rekruttering")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/behov?omrade=helse&haster=5#behov-{w.kongsberg}-*")
    first = page.locator("li.need").first
    assert "Rekruttering" in await first.locator(".tags").inner_text()
    assert await page.get_by_label("Område").input_value() == "helse"  # the filter is kept
    await first.get_by_role("button", name="Merk som sitérbar").click()
    await page.wait_for_url("**/behov?omrade=helse&haster=5#behov-*")
    first = page.locator("li.need").first
    quotable = first.locator("dl > div", has=page.locator("dt", has_text="Sitérbar"))
    assert await quotable.locator("dd").inner_text() == "ja"
    await look(page, "behov-merket")

    await page.get_by_label("Merkelapp", exact=True).select_option("rekruttering")
    await page.get_by_label("Hvor mye det haster").select_option("")
    await page.get_by_role("button", name="Vis behov").click()
    assert await need_texts(page) == ["Flere fastleger i distriktet"]
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Last ned listen som regneark (XLSX)").click()
    download = await download_info.value
    assert download.suggested_filename == f"lyttepost-behov-runde-{w.spring}.xlsx"
    await first.get_by_role("button", name="fjern merkelappen Rekruttering").click()
    assert await need_texts(page) == []
    assert "Ingen behov passer med filteret." in await main.inner_text()

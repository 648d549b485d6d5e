"""Tiltak in a real browser, as staff use it: create an action, pick its needs in the needs
browser, change its status and read the confirmation's count before confirming. Every page
is screenshotted and checked with axe-core. SQLite only: tests/test_workspace_actions.py
runs the same pages on both databases.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services import actions
from tests.browser_support import base, look, signed_in_page
from tests.test_workspace_actions import helse, world
from tests.workspace_support import WorkspaceSite, workspace_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


def words(text: str) -> str:
    return " ".join(text.split())


async def test_create_an_action_link_needs_from_the_browser_and_change_its_status(
    site: WorkspaceSite, browser: Any
) -> None:
    w = await world(site)
    page = await signed_in_page(site, browser, "Siri Stab", "siri@ks.no", "staff")
    main = page.locator("main")

    # Create: a problem first (an end before the start), then the action.
    await page.get_by_role("link", name="Tiltak", exact=True).click()
    await page.wait_for_url(f"{base(site)}/tiltak")
    await look(page, "tiltak-tom")
    await page.get_by_role("link", name="Nytt tiltak").click()
    await page.get_by_label("Tittel").fill("Velferdsteknologi i hjemmetjenesten")
    await page.get_by_label("Ansvarlig enhet i KS").fill("KS Digitalisering")
    await page.get_by_label("Startdato").fill("2027-06-01")
    await page.get_by_label("Sluttdato").fill("2027-04-01")
    await page.get_by_role("button", name="Opprett tiltaket").click()
    error = page.locator("#slutt-feil")
    assert "Sluttdatoen (2027-04-01) er før startdatoen (2027-06-01)." in await error.inner_text()
    assert await page.get_by_label("Tittel").input_value() == "Velferdsteknologi i hjemmetjenesten"
    await look(page, "tiltak-nytt-feil")
    await page.get_by_label("Sluttdato").fill("2027-12-31")
    await page.get_by_role("button", name="Opprett tiltaket").click()
    await page.wait_for_url(re.compile(r".*/tiltak/\d+\?utfort=opprettet$"))
    action_id = int(page.url.split("/tiltak/")[1].split("?")[0])
    assert "Tiltaket er opprettet." in await main.inner_text()
    await look(page, "tiltak-side")

    # Pick needs in the needs browser, opened from the action's page.
    await page.get_by_role("link", name="Velg behov i behovsoversikten (Vår 2027)").click()
    await page.wait_for_url(f"**/resultater/{w.spring}/behov?tiltak={action_id}")
    assert "Du velger behov til tiltaket" in await main.inner_text()
    await page.get_by_label("Område").select_option("helse")
    await page.get_by_role("button", name="Vis behov").click()
    await page.wait_for_url(f"**/resultater/{w.spring}/behov?tiltak={action_id}&omrade=helse*")
    for text in ("Rekruttering av sykepleiere", "Hjemmetjenester med velferdsteknologi"):
        await page.locator("li.need", has_text=text).get_by_label("Velg til tiltak").check()
    assert await page.get_by_label("Tiltak", exact=True).input_value() == str(action_id)
    await look(page, "behov-valgt-til-tiltak")
    await page.get_by_role("button", name="Knytt valgte behov til tiltak").click()
    await page.wait_for_url(re.compile(r".*knyttet=2.*"))
    assert (
        "2 behov er knyttet til tiltaket «Velferdsteknologi i hjemmetjenesten». "
        "2 organisasjoner får melding i chat."
    ) in words(await main.inner_text())
    await look(page, "behov-knyttet")

    # Change the status: the confirmation names the count the service computes.
    await page.goto(f"{base(site)}/tiltak/{action_id}")
    linked = page.locator("ol.needs li")
    assert await linked.count() == 2
    await page.get_by_label("Ny status").select_option("in_progress")
    await page.get_by_role("button", name="Endre status …").click()
    await page.wait_for_url(f"**/tiltak/{action_id}/status?status=in_progress")
    async with site.sessions() as session:
        count = await actions.status_change_preview(session, action_id, "in_progress")
        expected = {helse(w.drammen).response_id, helse(w.bergen).response_id}
        assert len(expected) == count  # Drammen and Bergen, each with a chat
    assert f"{count} organisasjoner får en kort melding i chat om at tiltaket er i gang" in words(
        await main.inner_text()
    )
    await look(page, "tiltak-status-bekreft")
    await page.get_by_role("button", name="Ja, endre status til i gang").click()
    await page.wait_for_url(f"**/tiltak/{action_id}?utfort=status&fortalt={count}")
    assert f"Statusen er endret. {count} organisasjoner får melding i chat." in words(
        await main.inner_text()
    )
    assert "i gang" in await page.locator("main .status").first.inner_text()
    await look(page, "tiltak-status-endret")

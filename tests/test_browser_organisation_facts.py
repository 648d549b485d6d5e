"""Organisation facts in a real browser: an admin opens «Endre fakta», gets a bad number
named beside its field, corrects it, and sees the facts; then imports a CSV file.
Each page checked with axe-core. SQLite only (the HTTP tests cover both databases)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import base, look, signed_in_page
from tests.workspace_support import WorkspaceSite, workspace_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


async def test_an_admin_corrects_a_bad_number_and_imports_a_file(
    site: WorkspaceSite, browser: Any, tmp_path: Path
) -> None:
    page = await signed_in_page(site, browser, "Ada", "ada@ks.no", "admin")
    await page.goto(base(site) + "/medlemmer/4601")
    await page.get_by_text("Endre fakta").click()
    await page.get_by_label("Innbyggere").fill("291 940x")
    await page.get_by_label("KOSTRA-gruppe").fill("K14")
    await page.get_by_label("Skriftspråk").select_option("nn")
    await page.get_by_role("button", name="Lagre fakta").click()
    field = page.get_by_label("Innbyggere")
    assert await field.get_attribute("aria-invalid") == "true"
    assert await field.input_value() == "291 940x"
    assert "er ikke et helt tall" in await page.locator("#fakta-innbyggere-feil").inner_text()
    await look(page, "fakta-feil")

    await field.fill("291 940")
    await page.get_by_role("button", name="Lagre fakta").click()
    await page.wait_for_url("**/medlemmer/4601?utfort=fakta#fakta")
    facts = await page.locator("table.facts").inner_text()
    assert "291 940" in facts and "K14" in facts and "nynorsk" in facts
    await look(page, "fakta-lagret")

    csv = tmp_path / "fakta.csv"
    csv.write_bytes("\ufefforg;population\r\n3301;102 273\r\n".encode())
    await page.goto(base(site) + "/medlemmer/fakta")
    await page.get_by_label("CSV-fil").set_input_files(str(csv))
    await page.get_by_role("button", name="Importer").click()
    assert "Fakta er oppdatert for 1 organisasjon" in await page.locator("main").inner_text()
    await look(page, "fakta-import")

"""Medlemmer in a real browser: the overview with its filters, an organisation's page, a
contact deactivated after its confirmation, and a code issued with its QR code image.

Screenshots go to test-artifacts/screenshots, each page checked with axe-core. SQLite
only: the pages' queries run on both databases in tests/test_workspace_members.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser_support import base, look, signed_in_page
from tests.views_support import contact
from tests.workspace_support import WorkspaceSite, workspace_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(
        migrated_url,
        telegram_bot_username="lyttepost_test_bot",
        microsoft_app_id="11111111-2222-3333-4444-555555555555",
    ) as built:
        yield built


async def members(site: WorkspaceSite) -> dict[str, int]:
    now = datetime.now(UTC)
    async with site.sessions.begin() as session:
        return {
            "oslo": await contact(session, "0301", "Ola Oslo", chats=(("telegram", True, now),)),
            "bergen": await contact(session, "4601", "Berit Bergen",
                                    chats=(("teams", True, now - timedelta(days=3)),)),
            "askoy": await contact(session, "4627", "Anne Askøy", chats=(("telegram", False, now),)),
            "stord": await contact(session, "4614", "Stein Stord", role="radmann"),
        }  # fmt: skip


async def test_the_overview_filtered_and_an_organisation_page(
    site: WorkspaceSite, browser: Any
) -> None:
    await members(site)
    page = await signed_in_page(site, browser, "Siri Rådgiver", "siri@ks.no", "staff")
    await page.get_by_role("link", name="Medlemmer").click()
    await page.wait_for_url(base(site) + "/medlemmer")
    main = page.locator("main")
    assert "371 organisasjoner, 369 uten kontakt som kan nås" in await main.inner_text()
    askoy = page.get_by_role("row", name="Askøy")
    assert "Ingen kan nås" in await askoy.inner_text()
    await look(page, "medlemmer")

    await page.get_by_label("Fylke").select_option(label="Vestland")
    await page.get_by_label("Bare de uten kontakt som kan nås").check()
    await page.get_by_role("button", name="Vis").click()
    await page.wait_for_url("**/medlemmer?fylke=46&uten=1")
    assert "i Vestland" in await main.inner_text()
    assert await page.get_by_role("link", name="Bergen", exact=True).count() == 0
    assert await page.get_by_role("link", name="Askøy").count() == 1
    await look(page, "medlemmer-vestland-uten-kontakt")

    await page.get_by_role("link", name="Askøy").click()
    await page.wait_for_url(base(site) + "/medlemmer/4627")
    text = await main.inner_text()
    assert "Anne Askøy" in text and "Kan ikke nås" in text and "(blokkert)" in text
    assert await page.get_by_role("button", name="Lag invitasjonskode").count() == 0  # staff
    await look(page, "medlem-askoy")


async def test_an_admin_issues_a_code_with_a_qr_image_and_deactivates_a_contact(
    site: WorkspaceSite, browser: Any
) -> None:
    ids = await members(site)
    page = await signed_in_page(site, browser, "Ada Admin", "ada@ks.no", "admin")
    await page.goto(f"{base(site)}/medlemmer/4614")
    await look(page, "medlem-stord-admin")
    await page.get_by_role("button", name="Lag invitasjonskode for Stein Stord").click()
    await page.get_by_role("heading", name="Invitasjonskode for Stein Stord").wait_for()
    code = await page.get_by_label("Kode", exact=True).input_value()
    assert len(code) == 10
    link = await page.get_by_label("Telegram-lenke").input_value()
    assert link == f"https://t.me/lyttepost_test_bot?start={code}"
    assert code in await page.get_by_label("Teams-lenke").input_value()
    qr = page.get_by_role("img", name="QR-kode som åpner Telegram-lenken")
    assert await qr.count() == 1
    size = await qr.evaluate("img => [img.complete, img.naturalWidth, img.clientWidth]")
    assert size[0] and size[1] > 100 and size[2] > 100  # the image decoded and is shown
    await look(page, "medlem-stord-ny-kode")

    await page.goto(f"{base(site)}/medlemmer/4614")
    assert code not in await page.content()  # shown once
    await page.get_by_role("link", name="Deaktiver… Stein Stord").click()
    text = await page.locator("main").inner_text()
    assert "1 ubrukt invitasjonskode trekkes tilbake" in text
    await look(page, "medlem-deaktiver-bekreft")
    await page.get_by_role("button", name="Ja, deaktiver Stein Stord").click()
    await page.wait_for_url(f"{base(site)}/medlemmer/4614?utfort=deaktivert#kontakter")
    assert "Kontakten er deaktivert" in await page.locator("main").inner_text()
    assert await page.get_by_role("button", name="Aktiver igjen Stein Stord").count() == 1
    assert ids["stord"]


async def test_a_csv_with_an_error_shows_its_line_then_imports_when_fixed(
    site: WorkspaceSite, browser: Any, tmp_path: Any
) -> None:
    page = await signed_in_page(site, browser, "Ada Admin", "ada@ks.no", "admin")
    await page.goto(f"{base(site)}/medlemmer")
    await page.get_by_role("link", name="Importer kontakter fra CSV").click()
    bad = tmp_path / "kontakter.csv"
    bad.write_text("org;navn;rolle\n4601;Berit Bergen;radmann\n9999;Ukjent;radmann\n", "utf-8")
    await page.get_by_label("CSV-fil").set_input_files(str(bad))
    await page.get_by_role("button", name="Importer").click()
    alert = page.get_by_role("alert")
    assert "Linje 3: ukjent kommune- eller fylkesnummer «9999»." in await alert.inner_text()
    await look(page, "medlemmer-import-feil")
    field = page.get_by_label("… eller lim inn linjene")
    await field.fill("org;navn;rolle\n4601;Berit Bergen;radmann\n")
    await page.get_by_role("button", name="Importer").click()
    assert "1 kontakt er importert" in await page.get_by_role("status").inner_text()
    await look(page, "medlemmer-import-ok")

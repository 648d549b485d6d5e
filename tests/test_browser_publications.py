"""Publiseringer in a real browser: a publication composed, previewed, sent to a segment and
delivered through the Telegram stand-in, the progress page reaching 100 % by itself.

The site has a Telegram transport against the stand-in and its sender running, as
``lyttepost run`` has. Every page is screenshotted and checked with axe-core. SQLite only:
tests/test_workspace_publications.py runs the same pages on both databases.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.browser_support import ARTEFACTS, base, look, signed_in_page
from tests.telegram_standin import TelegramStandIn
from tests.test_workspace_publications import PDF, members, png
from tests.workspace_support import WorkspaceSite, workspace_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

TEXT = "Hei!\n\nKS inviterer til samling om digitalisering i Bergen 12. mars."
BERGEN, VESTLAND, OSLO = 900_001, 900_003, 900_004  # the chats tests.members binds


@pytest.fixture
async def standin() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn() as api:
        yield api


@pytest.fixture
async def site(migrated_url: str, standin: TelegramStandIn) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url, telegram=standin) as built:
        yield built


async def snapshot(page: Any, name: str) -> None:
    """A screenshot only: axe-core is a script and cannot run where scripts are off (the
    same templates are checked with scripts on in the test above)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def file(name: str, content: bytes, media_type: str) -> dict[str, Any]:
    return {"name": name, "mimeType": media_type, "buffer": content}


async def test_a_publication_composed_previewed_sent_to_a_segment_and_delivered(
    site: WorkspaceSite, browser: Any, standin: TelegramStandIn
) -> None:
    world = await members(site)
    page = await signed_in_page(site, browser, "Siri Stab", "siri@ks.no", "staff")
    main = page.locator("main")

    await page.get_by_role("link", name="Publiseringer", exact=True).click()
    assert "Ingen publiseringer ennå." in await main.inner_text()
    await look(page, "publiseringer-tom")

    await page.get_by_role("link", name="Ny publisering").click()
    assert "Beregn mottakere" not in await main.inner_text()  # live counts replace it
    assert "Når 3 kontakter i 3 organisasjoner" in await main.inner_text()
    await look(page, "publisering-ny")
    await page.get_by_label("Tittel").fill("Samling i Bergen")
    await page.get_by_label("Tekst").fill(TEXT)
    await page.get_by_label("Bilde (PNG eller JPEG").set_input_files(
        file("plakat.png", b"GIF89a - not a PNG", "image/png")
    )
    await page.get_by_role("button", name="Lagre utkastet og forhåndsvis").click()
    alert = page.get_by_role("alert")
    assert "«plakat.png» er ikke et bilde i PNG- eller JPEG-format." in await alert.inner_text()
    assert await page.get_by_label("Tittel").input_value() == "Samling i Bergen"
    assert await page.get_by_label("Tekst").input_value() == TEXT
    await look(page, "publisering-feil-fil")
    await page.get_by_label("Bilde (PNG eller JPEG").set_input_files(
        file("plakat.png", png(480, 240), "image/png")
    )
    await page.get_by_label("Dokument (for eksempel PDF").set_input_files(
        file("program.pdf", PDF, "application/pdf")
    )
    await page.get_by_label("Fylke", exact=True).select_option("46")  # chooses "one county" too
    assert await page.get_by_label("Medlemmene i ett fylke").is_checked()
    counts = page.locator("#mottakertall")
    await counts.get_by_text("Når 2 kontakter i 2 organisasjoner").wait_for()
    assert f"{world.vestland - 2} organisasjoner kan ikke nås" in await counts.inner_text()
    assert "1 kontaktperson i utvalget har ingen chat" in await counts.inner_text()
    await look(page, "publisering-mottakere")

    await page.get_by_role("button", name="Lagre utkastet og forhåndsvis").click()
    await page.wait_for_url(re.compile(r".*/publiseringer/\d+/forhandsvisning\?lagret=1$"))
    publication_id = int(page.url.split("/")[-2])
    telegram = page.get_by_role("region", name="Telegram")
    teams = page.get_by_role("region", name="Teams")
    assert "samling om digitalisering" in await telegram.inner_text()
    assert "«program.pdf»" in await telegram.inner_text()
    assert "Teams-mottakere får ikke «program.pdf»" in await teams.inner_text()
    picture = telegram.get_by_role("img", name="Bildet «plakat.png»")
    assert await picture.evaluate("img => img.complete && img.naturalWidth") == 480
    await look(page, "publisering-forhandsvisning")

    await page.get_by_role("link", name="Rediger").click()
    assert await page.get_by_label("Fylke", exact=True).input_value() == "46"
    await look(page, "publisering-rediger")
    await page.go_back()

    await page.get_by_role("link", name="Send …").click()
    sentence = (
        f"Sendes til 2 kontakter i 2 organisasjoner; {world.vestland - 2} organisasjoner "
        "kan ikke nås."
    )
    assert sentence in await main.inner_text()
    await look(page, "publisering-bekreft")

    standin.delay(3.0, method="sendPhoto")  # the pictures take a while: progress shows
    await page.get_by_role("button", name="Ja, send nå").click()
    await page.wait_for_url(f"{base(site)}/publiseringer/{publication_id}/levering")
    assert int(await page.locator("#prosent").inner_text()) < 100
    await look(page, "publisering-levering-underveis")
    await page.locator("#prosent").get_by_text("100", exact=True).wait_for(timeout=30_000)
    await page.get_by_text("Ferdig: ingen venter.").wait_for()  # reloaded with the report
    report = await main.inner_text()
    assert "2 mottakere har fått den av 3; 0 venter." in report
    assert "Rådgiver Bergen" in report  # unreachable, by name
    await look(page, "publisering-levering")

    for chat in (BERGEN, VESTLAND):
        received = standin.messages_for(chat)
        assert [m.kind for m in received] == ["message", "photo", "document"]
        assert received[0].text == TEXT.strip() and received[2].filename == "program.pdf"
    assert standin.messages_for(OSLO) == []  # outside the segment

    await page.get_by_role("link", name="Alle publiseringer").click()
    row = page.get_by_role("row", name=re.compile("Samling i Bergen"))
    assert "2 av 3" in await row.inner_text() and "sendt" in await row.inner_text()
    await look(page, "publiseringer")


async def test_without_javascript_the_counts_the_refusals_and_the_progress_still_work(
    site: WorkspaceSite, browser: Any, standin: TelegramStandIn
) -> None:
    await members(site)
    await site.staff("Siri Stab", "siri@ks.no", "staff")
    context = await browser.new_context(locale="nb-NO", java_script_enabled=False)
    page = await context.new_page()
    await page.goto(base(site) + await site.login_link("siri@ks.no"))
    await page.get_by_role("button", name="Logg inn").click()
    await page.goto(base(site) + "/publiseringer/ny")
    main = page.locator("main")

    await page.get_by_label("Utvalgte organisasjoner").check()
    await page.get_by_label("Organisasjonsnumre").fill("0301")
    await page.get_by_role("button", name="Beregn mottakere").click()  # no title yet: fine
    assert "Når 1 kontakt i 1 organisasjon." in await main.inner_text()
    await page.get_by_label("Tittel").fill("Til Oslo")
    await page.get_by_label("Tekst").fill(TEXT)
    await page.get_by_label("Organisasjonsnumre").fill("0301, 9999")
    await page.get_by_role("button", name="Beregn mottakere").click()
    assert "Ukjent organisasjonsnummer: 9999." in await main.inner_text()
    await page.get_by_label("Organisasjonsnumre").fill("0301, 46")
    await page.get_by_role("button", name="Beregn mottakere").click()
    assert "Når 2 kontakter i 2 organisasjoner." in await main.inner_text()
    await page.get_by_label("Organisasjonsnumre").fill("0301")
    await snapshot(page, "publisering-beregn-uten-javascript")

    await page.get_by_label("Bilde (PNG eller JPEG").set_input_files(
        file("bilde.png", b"GIF89a - not a PNG", "image/png")
    )
    await page.get_by_role("button", name="Lagre utkastet og forhåndsvis").click()
    assert "«bilde.png» er ikke et bilde" in await page.get_by_role("alert").inner_text()
    assert await page.get_by_label("Tittel").input_value() == "Til Oslo"

    await page.get_by_role("button", name="Lagre utkastet og forhåndsvis").click()
    await page.get_by_role("link", name="Send …").click()
    assert "Sendes til 1 kontakt i 1 organisasjon." in await main.inner_text()
    await page.get_by_role("button", name="Ja, send nå").click()
    # The page refreshes itself every 5 s (<meta http-equiv="refresh">) until it is done.
    await page.get_by_text("Ferdig: ingen venter.").wait_for(timeout=30_000)
    assert await page.locator("#prosent").inner_text() == "100"
    await snapshot(page, "publisering-levering-uten-javascript")
    assert [m.text for m in standin.messages_for(OSLO)] == [TEXT.strip()]

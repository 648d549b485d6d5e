"""The workspace in a real browser: headless Chromium, as KS staff would click through it.

Each page is screenshotted into test-artifacts/screenshots and checked with axe-core
(no serious or critical violation). SQLite only: the pages' queries run on both
databases in tests/test_workspace_web.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.browser_support import base, look, signed_in_page
from tests.test_workspace_web import PLAN, open_round_with_answers
from tests.workspace_support import WorkspaceSite, workspace_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


async def test_login_by_link_and_a_used_link_refused(site: WorkspaceSite, browser: Any) -> None:
    await site.staff("Kari Nordmann", "kari@ks.no", "staff")
    link = base(site) + await site.login_link("kari@ks.no")
    page = await (await browser.new_context()).new_page()
    await page.goto(base(site) + "/")
    assert page.url.startswith(base(site) + "/logg-inn")
    await look(page, "logg-inn")
    await page.goto(link)
    await look(page, "logg-inn-lenke")
    await page.get_by_role("button", name="Logg inn").click()
    await page.wait_for_url(base(site) + "/")
    assert "Kari Nordmann" in await page.locator("header").inner_text()

    stranger = await (await browser.new_context()).new_page()
    await stranger.goto(link)
    await stranger.get_by_role("button", name="Logg inn").click()
    assert "allerede brukt" in await stranger.locator("main").inner_text()
    await look(stranger, "logg-inn-brukt-lenke")


async def test_the_overview_shows_the_open_rounds_real_figures(
    site: WorkspaceSite, browser: Any
) -> None:
    await open_round_with_answers(site, ["0301", "4601", "3301", "5001"])
    page = await signed_in_page(site, browser, "Vera Leser", "vera@ks.no", "viewer")
    main = page.locator("main")
    assert "Åpen nå: Behov vinter 2027" in await main.inner_text()
    assert "(4 av 371)" in await main.inner_text()
    oslo = page.get_by_role("row", name="Oslo")
    assert "1 av 1" in await oslo.inner_text() and "100" in await oslo.inner_text()
    await look(page, "oversikt")
    await page.get_by_role("link", name="Runder").first.click()
    await look(page, "runder")


async def test_closing_a_round_with_confirmation(site: WorkspaceSite, browser: Any) -> None:
    round_id = await open_round_with_answers(site, ["0301"])
    page = await signed_in_page(site, browser, "Ada Admin", "ada@ks.no", "admin")
    await page.goto(f"{base(site)}/runder/{round_id}")
    await look(page, "runde")
    await page.get_by_role("button", name="Steng nå").click()
    assert "1 organisasjon har svart" in await page.locator("main").inner_text()
    await look(page, "runde-bekreft-steng")
    await page.get_by_role("button", name="Ja, steng nå").click()
    await page.wait_for_url(f"{base(site)}/runder/{round_id}?utfort=close")
    assert "Runden er stengt." in await page.locator("main").inner_text()
    assert await page.locator("main span.status").first.inner_text() == "stengt"


async def test_a_viewer_sees_no_change_buttons_and_a_forged_post_gets_403(
    site: WorkspaceSite, browser: Any
) -> None:
    round_id = await open_round_with_answers(site, [])
    page = await signed_in_page(site, browser, "Vera Leser", "vera@ks.no", "viewer")
    await page.goto(f"{base(site)}/runder/{round_id}")
    assert await page.get_by_role("button", name="Steng nå").count() == 0
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = await page.request.post(
        f"{base(site)}/runder/{round_id}/handling",
        form={"csrf_token": token, "handling": "close"},
    )
    assert response.status == 403


async def test_a_post_without_the_csrf_token_is_refused(site: WorkspaceSite, browser: Any) -> None:
    round_id = await open_round_with_answers(site, [])
    page = await signed_in_page(site, browser, "Ada Admin", "ada@ks.no", "admin")
    response = await page.request.post(
        f"{base(site)}/runder/{round_id}/handling", form={"handling": "close"}
    )
    assert response.status == 403
    assert "Skjemaet kunne ikke sendes" in await response.text()


async def test_keyboard_only_the_first_tab_reaches_the_skip_link(
    site: WorkspaceSite, browser: Any
) -> None:
    page = await signed_in_page(site, browser, "Ada Admin", "ada@ks.no", "admin")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Hopp til innholdet"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "innhold"


async def test_an_admin_uploads_the_annual_plan_sees_the_dry_run_and_applies_it(
    site: WorkspaceSite, browser: Any
) -> None:
    from services.surveys import register_shipped_surveys

    async with site.sessions.begin() as session:
        await register_shipped_surveys(session)
    page = await signed_in_page(site, browser, "Ada Admin", "ada@ks.no", "admin")
    await page.get_by_role("link", name="Årsplan").click()
    await look(page, "arsplan")
    await page.get_by_label("Last opp planfil (YAML)").set_input_files(str(PLAN))
    await page.get_by_role("button", name="Vis hva som vil endres").click()
    assert "Prøvekjøring: dette vil skje" in await page.locator("main").inner_text()
    await look(page, "arsplan-provekjoring")
    await page.get_by_role("button", name="Bruk planen").click()
    assert "Planen er tatt i bruk" in await page.locator("main").inner_text()
    await page.get_by_role("link", name="Oversikt").click()
    await page.goto(base(site) + "/?ar=2027")
    assert "Behovsinnhenting 1. kvartal 2027" in await page.locator("main").inner_text()
    await look(page, "oversikt-2027")


async def test_signing_in_with_entra_id_in_the_browser(migrated_url: str, browser: Any) -> None:
    from tests.entra_standin import EntraStandIn

    async with (
        EntraStandIn() as entra,
        workspace_site(migrated_url, fixed_port=True, **entra.settings()) as site,
    ):
        await site.staff("Kari Nordmann", "kari.nordmann@ks.no", "staff")
        entra.sign_in_as("Kari.Nordmann@ks.no")
        page = await (await browser.new_context()).new_page()
        await page.goto(base(site) + "/logg-inn")
        await page.get_by_role("link", name="Logg inn med KS-kontoen (Microsoft)").click()
        await page.wait_for_url(base(site) + "/")
        assert "Kari Nordmann" in await page.locator("header").inner_text()

        entra.sign_in_as("stranger@example.com")
        other = await (await browser.new_context()).new_page()
        await other.goto(base(site) + "/logg-inn/entra")
        assert "Logg inn i Lyttepost" in await other.locator("main").inner_text()
        assert "lyttepost_okt" not in {c["name"] for c in await other.context.cookies()}
        await look(other, "logg-inn-entra-avvist")


async def test_staff_and_audit_pages(site: WorkspaceSite, browser: Any) -> None:
    page = await signed_in_page(site, browser, "Ada Admin", "ada@ks.no", "admin")
    await page.get_by_role("link", name="Ansatte og logg").click()
    await page.get_by_label("Navn", exact=True).fill("Rune Rådgiver")
    await page.get_by_label("E-post (den samme som i KS' Microsoft-konto)").fill("rune@ks.no")
    await page.get_by_label("Rolle", exact=True).select_option("staff")
    await page.get_by_role("button", name="Legg til").click()
    assert "Kontoen er lagt til." in await page.locator("main").inner_text()
    await page.get_by_role("button", name="Lag innloggingslenke for Rune Rådgiver").click()
    assert "/logg-inn/lenke/" in await page.get_by_label("Innloggingslenke").input_value()
    await look(page, "ansatte")
    await page.get_by_role("link", name="Se loggen over endringer").click()
    await page.get_by_label("Handling").select_option("staff.add")
    await page.get_by_role("button", name="Vis").click()
    assert "staff.add" in await page.locator("tbody").inner_text()
    await look(page, "logg")


async def test_a_broken_survey_upload_shows_its_line_error_and_a_good_one_can_be_tried(
    site: WorkspaceSite, browser: Any, tmp_path: Any
) -> None:
    from services.surveys import register_shipped_surveys
    from tests.test_workspace_surveys import BROKEN, SHIPPED

    async with site.sessions.begin() as session:
        await register_shipped_surveys(session)
    page = await signed_in_page(site, browser, "Ada Admin", "ada@ks.no", "admin")
    await page.get_by_role("link", name="Undersøkelser").click()
    await look(page, "undersokelser")
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    await page.get_by_label("Fil (.yaml eller .xlsx)").set_input_files(str(broken))
    await page.get_by_role("button", name="Sjekk filen").click()
    alert = await page.get_by_role("alert").inner_text()
    assert "broken.yaml har feil" in alert and "broken.yaml:7: questions[0].scale_max:" in alert
    await look(page, "undersokelser-feil")

    await page.get_by_label("Fil (.yaml eller .xlsx)").set_input_files(str(SHIPPED))
    await page.get_by_role("button", name="Sjekk filen").click()
    await page.get_by_role("button", name="Prøv undersøkelsen").click()
    await page.get_by_role("button", name="☐ Digitalisering").click()
    assert "☑ Digitalisering" in await page.locator("form.chat-form").inner_text()
    await page.get_by_label("Skriv svaret ditt").fill("/tilbake")
    await page.get_by_role("button", name="Send", exact=True).click()
    await look(page, "undersokelser-prov")


async def test_a_viewer_sees_no_send_button_and_a_forged_send_gets_403(
    site: WorkspaceSite, browser: Any
) -> None:
    from datetime import UTC, datetime

    from services.publications import create_draft
    from services.segments import Segment

    async with site.sessions.begin() as session:
        draft = await create_draft(
            session, kind="broadcast", title="Til alle", text="Hei", actor="staff:1",
            now=datetime.now(UTC), segment=Segment(kind="all"),
        )  # fmt: skip
        publication_id = draft.publication.id
    page = await signed_in_page(site, browser, "Vera Leser", "vera@ks.no", "viewer")
    assert await page.get_by_role("link", name="Publiseringer").count() == 0
    assert await page.get_by_role("button", name=re.compile("Send")).count() == 0
    refused = await page.goto(f"{base(site)}/publiseringer/{publication_id}/send")
    assert refused is not None and refused.status == 403
    await look(page, "ingen-tilgang")
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = await page.request.post(
        f"{base(site)}/publiseringer/{publication_id}/send", form={"csrf_token": token}
    )
    assert forged.status == 403
    async with site.sessions() as session:
        from services.publications import load

        assert (await load(session, publication_id)).status == "draft"

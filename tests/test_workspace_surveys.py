"""Undersøkelser in the workspace: upload with line errors, a trial with the members'
engine, registering a new version, and the XLSForm download."""

from __future__ import annotations

import html as html_lib
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import FormData
from openpyxl import load_workbook

from services import audit
from services.surveys import register_shipped_surveys
from tests.workspace_support import Browser, WorkspaceSite, csrf_in, workspace_site

SHIPPED = Path(__file__).resolve().parent.parent / "dialogs" / "surveys" / "kvartalsvis-behov.yaml"
BROKEN = "key: x1\nversion: 1\ntitle: T\nintro: I\nreceipt: R\nquestions:\n  - {id: a, type: scale, text: A, scale_min: 4, scale_max: 2}\n"


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        async with built.sessions.begin() as session:
            await register_shipped_surveys(session)
        yield built


async def upload(browser: Browser, name: str, data: bytes) -> tuple[int, str]:
    form = FormData()
    form.add_field("csrf_token", await browser.csrf("/undersokelser"))
    form.add_field("fil", data, filename=name, content_type="application/octet-stream")
    response = await browser.client.post(
        "/undersokelser/sjekk", data=form, cookies=browser.cookies, allow_redirects=False
    )
    return response.status, await response.text()


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert found, name
    return html_lib.unescape(found.group(1))


async def test_a_broken_file_shows_each_problem_at_its_line(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    status, page = await upload(admin, "broken.yaml", BROKEN.encode())
    assert status == 422 and "ingenting er registrert" in page
    assert "broken.yaml:7: questions[0].scale_max:" in html_lib.unescape(page)
    status, page = await upload(admin, "skjema.xlsx", b"PK\x03\x04 not really a workbook")
    assert status == 422 and "skjema.xlsx" in page
    status, page = await upload(admin, "bilde.png", bytes(range(256)))
    assert status == 422


async def test_a_good_file_is_tried_then_registered_as_a_new_version(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    changed = SHIPPED.read_text(encoding="utf-8").replace(
        "nb: Kvartalsvis behovsinnhenting", "nb: Kvartalsvis behovsinnhenting (ny)"
    )
    status, page = await upload(admin, "ny.yaml", changed.encode())
    assert status == 200 and "ny.yaml er i orden" in page
    definition, token = hidden(page, "definisjon"), csrf_in(page)

    # the trial: the intro and the first question's buttons, as in chat
    first = await admin.post(
        "/undersokelser/prov", {"csrf_token": token, "definisjon": definition, "filnavn": "ny.yaml"}
    )
    text = html_lib.unescape(await first.text())
    assert first.status == 200 and "Hei, Ada!" in text and "Prøvekommune" in text
    payload = re.search(r'name="trykk" value="([^"]+)"[^>]*>☐ Digitalisering<', text)
    assert payload is not None
    pressed = await admin.post(
        "/undersokelser/prov",
        {"csrf_token": token, "definisjon": definition, "tilstand": hidden(text, "tilstand"),
         "trykk": payload.group(1), f"etikett:{payload.group(1)}": "Digitalisering"},
    )  # fmt: skip
    assert "Digitalisering" in html_lib.unescape(await pressed.text())
    forged = await admin.post(
        "/undersokelser/prov",
        {"csrf_token": token, "definisjon": definition, "tilstand": "{not json", "tekst": "hei"},
    )
    assert forged.status == 200 and "startet på nytt" in await forged.text()

    registered = await admin.post(
        "/undersokelser/registrer",
        {"csrf_token": token, "definisjon": definition, "filnavn": "ny.yaml"},
    )
    assert registered.status == 303
    listing = html_lib.unescape(await (await admin.get(registered.headers["Location"])).text())
    assert "Registrert som ny versjon: kvartalsvis-behov versjon 2." in listing
    async with site.sessions() as session:
        (entry,) = await audit.entries(session, audit.AuditQuery(action="survey.register"))
    assert entry.staff_name == "Ada" and entry.detail["version"] == 2


async def test_any_version_downloads_as_an_xlsform_workbook(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    response = await admin.get("/undersokelser/kvartalsvis-behov/1.xlsx")
    assert response.status == 200
    assert "kvartalsvis-behov-v1.xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(await response.read()))
    assert {"survey", "choices", "settings"} <= set(workbook.sheetnames)
    assert (await admin.get("/undersokelser/kvartalsvis-behov/99.xlsx")).status == 404
    assert (await admin.get("/undersokelser/nope/1.xlsx")).status == 404


async def test_staff_who_are_not_admins_cannot_change_surveys(site: WorkspaceSite) -> None:
    rune = await site.signed_in("Rune", "rune@ks.no", "staff")
    assert (await rune.get("/undersokelser")).status == 403
    token = await rune.csrf("/")
    refused = await rune.post(
        "/undersokelser/registrer", {"csrf_token": token, "definisjon": BROKEN, "filnavn": "x.yaml"}
    )
    assert refused.status == 403

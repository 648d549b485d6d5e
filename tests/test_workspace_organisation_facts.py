"""Medlemmer, facts about each member, over HTTP on SQLite and PostgreSQL: shown on the
organisation's page and in the list, edited by an admin (errors beside the fields),
imported from CSV all lines or none; each change audited."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import FormData

from services import audit
from services.organisation_facts import FactsForm, facts_of, set_facts
from tests.test_workspace_members import logged, row_of, text_of
from tests.workspace_support import WorkspaceSite, workspace_site

BERGEN = FactsForm(population="291940", kostra_group="K14", region="Vestland", language="nn")


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


async def given(site: WorkspaceSite, code: str, form: FactsForm) -> None:
    async with site.sessions.begin() as session:
        await set_facts(session, code, form, audit.SYSTEM, datetime.now(UTC))


async def stored(site: WorkspaceSite, code: str) -> tuple[object, ...]:
    async with site.sessions() as session:
        f = (await facts_of(session, code)).facts
    return (f.population, f.kostra_group, f.region, f.language)


def upload(token: str, content: bytes, filename: str = "fakta.csv") -> FormData:
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("fil", content, filename=filename, content_type="text/csv")
    return form


def facts_section(page: str) -> str:
    found = re.search(r'<section aria-labelledby="fakta">.*?</section>', page, re.DOTALL)
    assert found, "no Fakta section"
    return found.group(0)


async def test_staff_read_the_facts_on_the_page_and_in_the_list(site: WorkspaceSite) -> None:
    await given(site, "4601", BERGEN)
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    section = text_of(facts_section(await (await staff.get("/medlemmer/4601")).text()))
    assert "Innbyggere 291 940" in section and "KOSTRA-gruppe K14" in section
    assert "Region Vestland" in section and "Skriftspråk nynorsk" in section
    assert "Endre fakta" not in section  # staff read; admins change
    unknown = text_of(facts_section(await (await staff.get("/medlemmer/1103")).text()))
    assert "Innbyggere ukjent" in unknown and "Skriftspråk bokmål" in unknown

    listing = await (await staff.get("/medlemmer")).text()
    assert "Innbyggere" in listing and "KOSTRA-gruppe" in listing
    assert "291 940" in text_of(row_of(listing, "4601")) and "K14" in row_of(listing, "4601")
    assert "Importer fakta" not in listing
    token = await staff.csrf("/medlemmer")
    assert (await staff.get("/medlemmer/fakta")).status == 403
    for path in ("/medlemmer/fakta", "/medlemmer/1103/fakta"):
        refused = await staff.post(path, {"csrf_token": token, "innbyggere": "1", "sprak": "nb"})
        assert refused.status == 403, path
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    assert (await viewer.get("/medlemmer/4601")).status == 403
    assert await stored(site, "1103") == (None, None, None, "nb")


async def test_an_admin_edits_the_facts_and_bad_values_are_named_beside_their_fields(
    site: WorkspaceSite,
) -> None:
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    page = await (await admin.get("/medlemmer/1103")).text()
    assert "Endre fakta" in page and 'action="/medlemmer/1103/fakta"' in page
    token = await admin.csrf("/medlemmer/1103")

    saved = await admin.post(
        "/medlemmer/1103/fakta",
        {"csrf_token": token, "innbyggere": "148 681", "kostra": "K13", "region": "Nord-Jæren",
         "sprak": "nb"},
    )  # fmt: skip
    assert saved.status == 303
    assert saved.headers["Location"] == "/medlemmer/1103?utfort=fakta#fakta"
    assert await stored(site, "1103") == (148681, "K13", "Nord-Jæren", "nb")
    assert "Faktaene er lagret." in text_of(
        await (await admin.get(saved.headers["Location"])).text()
    )
    (entry,) = await logged(site, "organisation.facts")
    assert (entry.door, entry.staff_name, entry.target) == ("web", "Ada", "organisation:1103")
    assert entry.detail["population"] == {"before": None, "after": 148681}

    refused = await admin.post(
        "/medlemmer/1103/fakta",
        {"csrf_token": token, "innbyggere": "12 000x", "kostra": "K" * 21, "region": "",
         "sprak": "de"},
    )  # fmt: skip
    body = await refused.text()
    assert refused.status == 422
    assert "Faktaene er ikke lagret." in text_of(body)
    assert re.search(
        r'id="fakta-innbyggere-feil">«12 000x» er ikke et helt tall\.</p>\s*<input id="fakta-innbyggere"',
        body,
    )
    assert 'id="fakta-kostra-feil">«KKKKKKKKKKKKKKKKKKKKK» er lengre enn 20 tegn.' in body
    assert 'id="fakta-sprak-feil">«de» er ikke en språkkode' in body
    assert 'value="12 000x"' in body and 'aria-invalid="true"' in body  # typed, kept
    assert "fakta-region-feil" not in body
    assert "<details open>" in body
    assert await stored(site, "1103") == (148681, "K13", "Nord-Jæren", "nb")
    assert len(await logged(site, "organisation.facts")) == 1

    unchanged = await admin.post(
        "/medlemmer/1103/fakta",
        {"csrf_token": token, "innbyggere": "148681", "kostra": "K13", "region": "Nord-Jæren",
         "sprak": "nb"},
    )  # fmt: skip
    assert unchanged.headers["Location"].endswith("utfort=fakta-uendret#fakta")
    assert len(await logged(site, "organisation.facts")) == 1
    missing = await admin.post("/medlemmer/9999/fakta", {"csrf_token": token, "sprak": "nb"})
    assert missing.status == 404


async def test_an_admin_imports_facts_from_csv_all_lines_or_none(site: WorkspaceSite) -> None:
    await given(site, "4601", BERGEN)
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    assert "Importer fakta fra CSV" in await (await admin.get("/medlemmer")).text()
    token = await admin.csrf("/medlemmer/fakta")

    bad = "org;population;region\n3301;102 273;Buskerud\nHerøy;12 000x;\n4601;5;\n".encode()
    refused = await admin.post("/medlemmer/fakta", upload(token, bad))  # type: ignore[arg-type]
    page = text_of(await refused.text())
    assert refused.status == 422
    assert "Ingenting er lagret – rett de 2 feilene og prøv igjen" in page
    assert "Linje 3, org: «Herøy» er navnet på flere organisasjoner; bruk nummeret" in page
    assert "Linje 3, population: «12 000x» er ikke et helt tall." in page
    assert await stored(site, "3301") == (None, None, None, "nb")
    assert await stored(site, "4601") == (291940, "K14", "Vestland", "nn")
    assert await logged(site, "organisation.facts_import") == []

    good = "\ufefforg;population;region\r\n3301;102 273;Buskerud\r\n4601;291940;\r\n1103;;\r\n"
    done = await admin.post("/medlemmer/fakta", upload(token, good.encode()))  # type: ignore[arg-type]
    page = text_of(await done.text())
    assert done.status == 200
    assert "Fakta er oppdatert for 2 organisasjoner" in page
    assert "Endret: innbyggere for 1, region for 2." in page
    assert "1 organisasjon i filen hadde allerede disse faktaene." in page
    assert "Drammen 3301 innbyggere ukjent 102 273" in page  # before and after
    assert "Bergen 4601 region Vestland ukjent" in page
    assert await stored(site, "3301") == (102273, None, "Buskerud", "nb")
    assert await stored(site, "4601") == (291940, "K14", None, "nn")  # no kostra column
    (entry,) = await logged(site, "organisation.facts_import")
    assert entry.door == "web" and entry.detail["file"] == "fakta.csv"
    assert entry.detail["updated"] == 2

    latin1 = "org;region\n3301;Drammensområdet\n".encode("cp1252")
    wrong = await admin.post("/medlemmer/fakta", upload(token, latin1))  # type: ignore[arg-type]
    assert wrong.status == 422 and "CSV UTF-8" in text_of(await wrong.text())
    pasted = await admin.post(
        "/medlemmer/fakta", {"csrf_token": token, "tekst": "org,kostra_group\n1103,K13\n"}
    )
    assert "Fakta er oppdatert for 1 organisasjon" in text_of(await pasted.text())
    assert await stored(site, "1103") == (None, "K13", None, "nb")


async def test_the_language_field_offers_the_member_languages(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Anne", "anne@ks.no", "admin")
    section = facts_section(await (await admin.get("/medlemmer/3301")).text())
    options = re.findall(r'<option value="(\w+)"( selected)?>([^<]+)</option>', section)
    assert [(code, name) for code, _, name in options] == [
        ("nb", "bokmål"),
        ("nn", "nynorsk"),
        ("se", "nordsamisk"),
    ]
    assert [code for code, selected, _ in options if selected] == ["nb"]
    assert 'aria-describedby="fakta-sprak-hjelp"' in section and "/sprak" in section

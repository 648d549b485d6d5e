"""Tekster og språk in the workspace: admins only; per language how many texts, how many
need review and how many are missing; the translator's spreadsheet to download; its
upload checked as the command line checks it (errors on a 422 page, nothing written)."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import FormData
from openpyxl import load_workbook

from dialogs import catalogues, i18n
from dialogs.catalogues import entries
from dialogs.i18n import speaking, t
from services import audit
from services.texts_io import XLSX, export_workbook
from tests.test_workspace_members import text_of
from tests.workspace_support import WorkspaceSite, csrf_in, workspace_site

PACKAGED = catalogues.LOCALE_DIR


@pytest.fixture
async def site(
    migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[WorkspaceSite]:
    copy = tmp_path / "locale"
    shutil.copytree(PACKAGED, copy)
    monkeypatch.setattr(catalogues, "LOCALE_DIR", copy)
    i18n.reload()
    async with workspace_site(migrated_url, texts_dir=str(tmp_path / "texts")) as built:
        yield built
    catalogues.use_override_dir(None)
    monkeypatch.undo()
    i18n.reload()


def upload(token: str, content: bytes, filename: str = "nn.xlsx") -> FormData:
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("fil", content, filename=filename, content_type=XLSX)
    return form


def edited(data: bytes, changes: dict[str, str | None]) -> bytes:
    book = load_workbook(io.BytesIO(data))
    for cell, value in changes.items():
        book.worksheets[0][cell] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row_of(data: bytes, key: str) -> int:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if row[0] == key:
            return number
    raise AssertionError(key)


async def test_only_admins_see_the_page(site: WorkspaceSite) -> None:
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    assert "Tekster og språk" not in await (await staff.get("/")).text()
    assert (await staff.get("/tekster")).status == 403
    assert (await staff.get("/tekster/nn.xlsx")).status == 403
    token = await staff.csrf()
    refused = await staff.client.post(
        "/tekster", data=upload(token, export_workbook("nn")), cookies=staff.cookies
    )
    assert refused.status == 403
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    home = await (await admin.get("/")).text()
    assert 'href="/tekster"' in home and "Tekster og språk" in home


async def test_an_admin_reads_the_counts_and_downloads_the_spreadsheet(
    site: WorkspaceSite,
) -> None:
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    response = await admin.get("/tekster")
    assert response.status == 200
    page = text_of(await response.text())
    se = entries("se")
    fuzzy = sum(1 for e in se.values() if e.needs_review)
    assert f"nordsamisk se {len(se)} {fuzzy} 0" in page
    assert f"nynorsk nn {len(entries('nn'))} 0 0" in page
    assert "TEXTS_DIR" in page
    download = await admin.get("/tekster/se.xlsx")
    assert download.status == 200 and download.content_type == XLSX
    assert 'filename="lyttepost-se.xlsx"' in download.headers["Content-Disposition"]
    body = await download.read()
    sheet = load_workbook(io.BytesIO(body)).worksheets[0]
    assert sheet["D1"].value == "nordsamisk (se)" and sheet.max_row == len(se) + 1
    assert (await admin.get("/tekster/xx.xlsx")).status == 404


async def test_an_upload_with_problems_shows_them_on_a_422_page(
    site: WorkspaceSite, tmp_path: Path
) -> None:
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = await admin.csrf("/tekster")
    data = export_workbook("nn")
    yes, no = row_of(data, "common.yes"), row_of(data, "common.no")
    bad = edited(data, {f"D{yes}": "", f"D{no}": "Nei {namn}"})
    response = await admin.client.post("/tekster", data=upload(token, bad), cookies=admin.cookies)
    assert response.status == 422
    html = await response.text()
    assert f"rad {yes}: common.yes: teksten er tom" in html
    assert f"rad {no}: common.no: plassholderne {{namn}} er ikke de samme som i bokmål" in html
    assert "Ingenting er lagret" in html
    not_xlsx = await admin.client.post(
        "/tekster", data=upload(csrf_in(html), b"key,nn\n", "tekster.csv"), cookies=admin.cookies
    )
    assert not_xlsx.status == 422 and "ikke et Excel-regneark" in await not_xlsx.text()
    assert not (tmp_path / "texts").exists()


async def test_an_upload_is_imported_into_texts_dir_and_used_at_once(
    site: WorkspaceSite, tmp_path: Path
) -> None:
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = await admin.csrf("/tekster")
    data = export_workbook("se")
    at, reviewed = row_of(data, "common.no"), row_of(data, "format.datetime")
    good = edited(data, {f"D{at}": "Ii, giitu", f"E{reviewed}": "no"})
    response = await admin.client.post(
        "/tekster", data=upload(token, good, "se.xlsx"), cookies=admin.cookies
    )
    html = await response.text()
    assert response.status == 200, html
    page = text_of(html)
    assert "Tekstene på se er importert" in page
    assert "1 endret, 1 merket som gjennomgått" in page
    assert "startes på nytt" in page
    written = tmp_path / "texts" / "se" / "LC_MESSAGES" / "common.po"
    assert written.exists()
    assert entries("se")["common.no"].text == "Ii"  # the packaged file is untouched
    with speaking("se"):
        assert t("common.no") == "Ii, giitu"
    async with site.sessions() as session:
        (entry,) = await audit.entries(session, audit.AuditQuery(action="texts.import"))
    assert entry.target == "se" and entry.detail["changed"] == 1
    assert entry.detail["reviewed"] == 1

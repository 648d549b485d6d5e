"""«Tekster og språk» in a real browser: an admin downloads the nynorsk spreadsheet, sends
back a copy where a translator dropped a placeholder, reads the row to fix, fixes it and
imports it; the chat then says the new text. Each page checked with axe-core. SQLite only
(the HTTP tests, tests/test_workspace_texts.py, cover both databases)."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from dialogs import catalogues, i18n
from dialogs.i18n import speaking, t
from tests.browser_support import base, look, signed_in_page
from tests.workspace_support import WorkspaceSite, workspace_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

KEY = "survey.nav.paused"


@pytest.fixture
async def site(
    migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[WorkspaceSite]:
    copy = tmp_path / "locale"  # an import must never touch the packaged catalogues
    shutil.copytree(catalogues.LOCALE_DIR, copy)
    monkeypatch.setattr(catalogues, "LOCALE_DIR", copy)
    i18n.reload()
    async with workspace_site(migrated_url, texts_dir=str(tmp_path / "texts")) as built:
        yield built
    catalogues.use_override_dir(None)
    monkeypatch.undo()
    i18n.reload()


def _with_text(path: Path, key: str, text: str) -> Path:
    book = load_workbook(path)
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == key:
            row[3].value = text
    out = path.with_name(f"{path.stem}-{len(text)}.xlsx")
    book.save(out)
    return out


async def test_an_admin_sends_a_translation_back_and_fixes_what_it_names(
    site: WorkspaceSite, browser: Any, tmp_path: Path
) -> None:
    page = await signed_in_page(site, browser, "Ada", "ada@ks.no", "admin")
    await page.goto(base(site) + "/tekster")
    table = await page.locator("table").inner_text()
    assert "nynorsk" in table and "nordsamisk" in table
    await look(page, "tekster")

    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Last ned nynorsk (XLSX)").click()
    download = await waiting.value
    sheet = tmp_path / "nn.xlsx"
    await download.save_as(sheet)
    rows = list(load_workbook(io.BytesIO(sheet.read_bytes())).worksheets[0].values)
    assert rows[0][:4] == ("key", "context", "bokmål (nb)", "nynorsk (nn)")
    assert any(row[0] == KEY for row in rows)

    broken = _with_text(sheet, KEY, "Greitt, pause. Svara er lagra. Frist: {frist}.")
    await page.get_by_label("Regneark (XLSX)").set_input_files(str(broken))
    await page.get_by_role("button", name="Importer").click()
    alert = await page.get_by_role("alert").inner_text()
    assert "Ingenting er lagret" in alert and f"{KEY}: plassholderne {{frist}}" in alert
    await look(page, "tekster-feil")

    fixed = _with_text(sheet, KEY, "Greitt, pause. Svara er lagra. Skriv /svar. Frist: {closes}.")
    await page.get_by_label("Regneark (XLSX)").set_input_files(str(fixed))
    await page.get_by_role("button", name="Importer").click()
    status = await page.get_by_role("status").inner_text()
    assert "1 endret" in status
    await look(page, "tekster-importert")
    with speaking("nn"):
        assert (
            t(KEY, closes="1. mars")
            == "Greitt, pause. Svara er lagra. Skriv /svar. Frist: 1. mars."
        )

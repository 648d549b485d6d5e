"""The translation round trip: ``lyttepost texts export`` writes every catalogue text for
a translator, ``lyttepost texts import`` reads it back all or nothing, and TEXTS_DIR
layers imported texts over the packaged catalogues."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from bot.cli import app
from dialogs import catalogues, i18n
from dialogs.catalogues import entries, layered_entries
from dialogs.i18n import SOURCE, placeholders, speaking, t, tn
from services import texts_io
from services.texts_io import TextsImportError, export_workbook, import_texts, rows

PACKAGED = catalogues.LOCALE_DIR


@pytest.fixture
def locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the packaged catalogues standing in for them, so imports can write."""
    copy = tmp_path / "locale"
    shutil.copytree(PACKAGED, copy)
    monkeypatch.setattr(catalogues, "LOCALE_DIR", copy)
    monkeypatch.delenv("TEXTS_DIR", raising=False)
    catalogues.use_override_dir(None)
    i18n.reload()
    yield copy
    catalogues.use_override_dir(None)
    monkeypatch.undo()
    i18n.reload()


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.po"))}


def sheet_of(data: bytes) -> Worksheet:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert isinstance(sheet, Worksheet)
    return sheet


def table(data: bytes) -> list[dict[str, object]]:
    sheet = sheet_of(data)
    values = list(sheet.iter_rows(values_only=True))
    names = [str(v) for v in values[0]]
    return [dict(zip(names, row, strict=True)) for row in values[1:]]


def edited(data: bytes, changes: dict[str, str | None]) -> bytes:
    """The workbook with cells changed (``{"D3": "text"}``), as a translator saves it."""
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    for cell, value in changes.items():
        sheet[cell] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row_of(data: bytes, key: str) -> int:
    for number, row in enumerate(sheet_of(data).iter_rows(values_only=True), start=1):
        if row[0] == key:
            return number
    raise AssertionError(key)


def problems(data: bytes, language: str | None = None) -> list[str]:
    with pytest.raises(TextsImportError) as refused:
        import_texts(data, language=language)
    return [str(p) for p in refused.value.problems]


# --- export ---------------------------------------------------------------------------------


def test_the_export_has_every_text_with_context_source_and_review_flag(locale: Path) -> None:
    found = table(export_workbook("se"))
    assert list(found[0]) == [
        "key", "context", "bokmål (nb)", "nordsamisk (se)", "needs review", "placeholders",
    ]  # fmt: skip
    keys = [row["key"] for row in found]
    source = entries(SOURCE)
    own = entries("se")
    assert set(keys) == set(own)  # nordsamisk's dual forms are rows of their own
    assert [k for k in keys if k in source] == [k for k in source if k in own]  # nb's order
    by_key = {row["key"]: row for row in found}
    hint = by_key["survey_types.ranking.hint_all"]
    assert hint["context"] == source["survey_types.ranking.hint_all"].comment
    assert hint["bokmål (nb)"] == source["survey_types.ranking.hint_all"].text
    assert hint["nordsamisk (se)"] == own["survey_types.ranking.hint_all"].text
    assert hint["placeholders"] == "{example}"
    assert by_key["format.datetime"]["needs review"] == "yes"  # fuzzy in se
    assert by_key["format.date"]["needs review"] == "no"
    two = by_key["survey_types.ranking.too_few.two"]  # the dual: bokmål's "other" as source
    assert two["bokmål (nb)"] == source["survey_types.ranking.too_few.other"].text
    assert "count" in str(two["placeholders"])
    # the context of a counted text sits on its first form in the nb file; every form shows it
    assert two["context"] == by_key["survey_types.ranking.too_few.one"]["context"] != ""


def test_the_sheet_is_frozen_wide_and_every_cell_is_text(locale: Path) -> None:
    sheet = sheet_of(export_workbook("nn"))
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["C"].width >= 50 and sheet.column_dimensions["A"].width >= 40
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value)


def test_a_text_that_starts_like_a_formula_stays_text(locale: Path) -> None:
    nn = locale / "nn" / "LC_MESSAGES" / "common.po"
    nn.write_text(
        nn.read_text(encoding="utf-8").replace('msgstr "Nei"', 'msgstr "=HYPERLINK(\\"x\\")"'),
        encoding="utf-8",
    )
    i18n.reload()
    data = export_workbook("nn")
    sheet = sheet_of(data)
    cell = sheet.cell(row=row_of(data, "common.no"), column=4)
    assert cell.value == '=HYPERLINK("x")'
    assert cell.data_type == "s" and cell.quotePrefix  # Excel shows it, never runs it
    assert "<f>" not in zip_text(data)


def zip_text(data: bytes) -> str:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


# --- import ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nn", "se", "en"])
def test_a_round_trip_without_edits_leaves_the_files_byte_identical(
    locale: Path, language: str
) -> None:
    before = snapshot(locale)
    result = import_texts(export_workbook(language))
    assert result.files == [] and result.changed == [] and result.unchanged == result.rows
    assert snapshot(locale) == before


def test_rewriting_a_file_keeps_its_bytes_when_nothing_changed() -> None:
    """Babel's write_po with our settings reproduces the hand-written files exactly."""
    for path in sorted(PACKAGED.glob("*/LC_MESSAGES/*.po")):
        raw = path.read_text(encoding="utf-8")
        assert catalogues.render_catalogue(raw, path.parts[-3], {}) == raw, path


def test_an_import_writes_the_text_and_clears_the_review_flag(locale: Path) -> None:
    data = export_workbook("se")
    new_text = "Deaddil logu {low}–{high} ráiddus {row}, giitu."
    at, reviewed = row_of(data, "survey_types.matrix.row_pressed"), row_of(data, "format.datetime")
    before = (locale / "se" / "LC_MESSAGES" / "survey_types.po").read_text(encoding="utf-8")
    result = import_texts(
        edited(data, {f"D{at}": new_text, f"E{at}": "no", f"E{reviewed}": "no"}),
    )
    assert result.changed == ["survey_types.matrix.row_pressed"]
    assert result.reviewed == ["format.datetime"]
    assert sorted(p.name for p in result.files) == ["common.po", "survey_types.po"]
    after = (locale / "se" / "LC_MESSAGES" / "survey_types.po").read_text(encoding="utf-8")
    # diff-friendly: the same lines but the entry's flag and text
    removed = set(before.splitlines()) - set(after.splitlines())
    added = set(after.splitlines()) - set(before.splitlines())
    assert added == {f'msgstr "{new_text}"'}
    assert removed == {'msgstr "Deaddil logu {low}–{high} ráiddus {row}."'}
    assert after.count("#, fuzzy") == before.count("#, fuzzy") - 1
    fresh = entries("se")
    assert fresh["survey_types.matrix.row_pressed"].text == new_text
    assert not fresh["survey_types.matrix.row_pressed"].needs_review
    assert not fresh["format.datetime"].needs_review
    assert list(fresh) == list(entries("se", PACKAGED))  # key order kept
    with speaking("se"):  # this process speaks it at once
        assert t("survey_types.matrix.row_pressed", low=1, high=5, row="A").endswith("giitu.")
    # and the files stay semantically what they were otherwise
    old = entries("se", PACKAGED)
    assert {
        k: (e.text, e.comment) for k, e in fresh.items() if k != "survey_types.matrix.row_pressed"
    } == {k: (e.text, e.comment) for k, e in old.items() if k != "survey_types.matrix.row_pressed"}


def test_a_missing_text_is_added_in_the_source_order(locale: Path) -> None:
    nn = locale / "nn" / "LC_MESSAGES" / "common.po"
    raw = nn.read_text(encoding="utf-8")
    entry = '#. A yes/no answer shown back to the member.\nmsgid "common.yes"\nmsgstr "Ja"\n\n'
    assert entry in raw
    nn.write_text(raw.replace(entry, ""), encoding="utf-8")
    i18n.reload()
    assert "common.yes" not in entries("nn")
    data = export_workbook("nn")
    at = row_of(data, "common.yes")
    assert table(data)[at - 2]["nynorsk (nn)"] is None
    assert table(data)[at - 2]["needs review"] == "yes"
    assert [s.missing for s in texts_io.status() if s.language == "nn"] == [1]
    result = import_texts(edited(data, {f"D{at}": "Ja", f"E{at}": "no"}))
    assert result.changed == ["common.yes"]
    # back in its place, before common.no (the context stays in the bokmål file)
    assert nn.read_text(encoding="utf-8") == raw.replace(
        "#. A yes/no answer shown back to the member.\n", ""
    )


def test_every_problem_is_named_with_its_row_and_nothing_is_written(locale: Path) -> None:
    data = export_workbook("nn")
    before = snapshot(locale)
    hint, date, yes, no = (
        row_of(data, k)
        for k in ("survey_types.ranking.hint_all", "format.date", "common.yes", "common.no")
    )
    found = problems(
        edited(
            data,
            {
                f"A{hint + 1}": "survey.no.such.key",
                f"D{hint}": "Trykk alle i rekkjefølgje, til dømes «{eksempel}».",
                f"D{date}": "",
                f"E{yes}": "kanskje",
                f"D{no}": "Nei {",
            },
        )
    )
    assert found == sorted(found, key=lambda line: int(line.split(",")[0].split()[1]))
    assert f"row {date}, format.date: empty text" in found
    assert f"row {yes}, common.yes: needs review must be yes or no" in found
    assert any(line.startswith(f"row {no}, common.no: the braces do not pair") for line in found)
    assert (
        f"row {hint}, survey_types.ranking.hint_all: placeholders {{eksempel}} differ from "
        "bokmål's {example}" in found
    )
    assert f"row {hint + 1}, unknown key survey.no.such.key" in found
    assert len(found) == 5
    assert snapshot(locale) == before


def test_a_duplicated_key_and_a_formula_are_refused(locale: Path) -> None:
    data = export_workbook("nn")
    yes, no = row_of(data, "common.yes"), row_of(data, "common.no")
    found = problems(edited(data, {f"A{no}": "common.yes"}))
    assert found == [f"row {no}, common.yes is also in row {yes}"]
    found = problems(edited(data, {f"D{no}": "=1+1"}))
    assert found == [f"row {no}, common.no: the text is a formula; write it as text"]


def test_a_counted_text_may_leave_its_count_out(locale: Path) -> None:
    data = export_workbook("nn")
    at = row_of(data, "survey_types.ranking.too_few.one")
    result = import_texts(edited(data, {f"D{at}": "Vel eitt alternativ før du trykkjer «Neste»."}))
    assert result.changed == ["survey_types.ranking.too_few.one"]
    with speaking("nn"):
        assert tn("survey_types.ranking.too_few", 1).startswith("Vel eitt alternativ")


def test_a_file_of_the_wrong_language_or_shape_is_refused(locale: Path) -> None:
    data = export_workbook("nn")
    assert problems(data, language="se") == ["row 1, the file holds nn texts, not se"]
    assert problems(edited(data, {"D1": "klingon (tlh)"})) == [
        "row 1, language 'tlh' is not one Lyttepost translates to (nn, se, en)"
    ]
    assert problems(edited(data, {"A1": "nøkkel", "E1": None})) == [
        "row 1, missing column(s): key, needs review"
    ]
    assert problems(edited(data, {"D1": "tekst"})) == [
        "row 1, missing column(s): the language's texts, e.g. «nynorsk (nn)»"
    ]
    not_xlsx = problems(b"key;context\ncommon.yes;x\n")
    assert len(not_xlsx) == 1 and not_xlsx[0].startswith("the file is not an .xlsx workbook")
    empty = io.BytesIO()
    Workbook().save(empty)
    assert problems(empty.getvalue()) == ["the workbook's first sheet is empty"]


def test_columns_are_found_by_their_headers_and_rows_may_be_left_out(locale: Path) -> None:
    """A translator may reorder the columns or send back only some rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["needs review", "nynorsk (nn)", "key"])
    sheet.append(["no", "Nei takk", "common.no"])
    out = io.BytesIO()
    book.save(out)
    result = import_texts(out.getvalue())
    assert result.rows == 1 and result.changed == ["common.no"]
    assert entries("nn")["common.no"].text == "Nei takk"
    assert entries("nn")["common.yes"].text == "Ja"


# --- the override directory -----------------------------------------------------------------


def test_texts_dir_holds_only_what_differs_and_is_layered_over_the_packaged(
    locale: Path, tmp_path: Path
) -> None:
    override = tmp_path / "texts"
    packaged = snapshot(locale)
    catalogues.use_override_dir(override)
    i18n.reload()
    data = export_workbook("nn")
    at = row_of(data, "common.no")
    result = import_texts(edited(data, {f"D{at}": "Nei, takk"}), directory=override)
    assert result.files == [override / "nn" / "LC_MESSAGES" / "common.po"]
    assert snapshot(locale) == packaged  # the packaged catalogues are untouched
    written = result.files[0].read_text(encoding="utf-8")
    header = catalogues.header_text((locale / "nn" / "LC_MESSAGES" / "common.po").read_text())
    assert written.startswith(header)  # the packaged file's header, as it is
    assert 'msgid "common.no"\nmsgstr "Nei, takk"\n' in written
    assert "common.yes" not in written  # only what differs from the packaged texts
    assert set(entries("nn", override)) == {"common.no"}
    with speaking("nn"):
        assert t("common.no") == "Nei, takk" and t("common.yes") == "Ja"
    assert layered_entries("nn")["common.no"].comment == ""  # nb's comment is the context
    assert table(export_workbook("nn"))[at - 2]["nynorsk (nn)"] == "Nei, takk"

    # importing the packaged text again drops the override entry
    again = import_texts(edited(data, {f"D{at}": "Nei"}), directory=override)
    assert again.changed == ["common.no"]
    assert entries("nn", override) == {}
    with speaking("nn"):
        assert t("common.no") == "Nei"

    # without the override directory in use, the process speaks the packaged texts
    import_texts(edited(data, {f"D{at}": "Nei, takk"}), directory=override)
    catalogues.use_override_dir(None)
    i18n.reload()
    with speaking("nn"):
        assert t("common.no") == "Nei"


def test_a_broken_override_file_is_logged_and_skipped(
    locale: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "texts" / "nn" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    for name in ("common.po", "other.po"):  # one key twice: the files cannot be used
        (folder / name).write_text('msgid "common.no"\nmsgstr "Nei takk"\n', encoding="utf-8")
    catalogues.use_override_dir(tmp_path / "texts")
    i18n.reload()
    with speaking("nn"):
        assert t("common.no") == "Nei"
    assert "override texts" in caplog.text


def test_placeholders_in_every_exported_row_match_the_source(locale: Path) -> None:
    for language in texts_io.TRANSLATED:
        for row in rows(language):
            assert set(row.placeholders) == placeholders(row.source)


# --- the command line -----------------------------------------------------------------------

runner = CliRunner()


def test_the_cli_exports_and_imports(locale: Path, tmp_path: Path) -> None:
    out = tmp_path / "nn.xlsx"
    exported = runner.invoke(app, ["texts", "export", "--lang", "nn", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "texts in nynorsk (nn)" in exported.output
    data = out.read_bytes()
    at = row_of(data, "common.no")
    out.write_bytes(edited(data, {f"D{at}": "Nei takk"}))
    imported = runner.invoke(app, ["texts", "import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert "1 changed" in imported.output and "restart" in imported.output
    assert entries("nn")["common.no"].text == "Nei takk"
    status = runner.invoke(app, ["texts", "status"])
    assert status.exit_code == 0 and "nn nynorsk:" in status.output


def test_the_cli_names_each_problem_and_exits_1(locale: Path, tmp_path: Path) -> None:
    before = snapshot(locale)
    out = tmp_path / "nn.xlsx"
    data = export_workbook("nn")
    yes, no = row_of(data, "common.yes"), row_of(data, "common.no")
    out.write_bytes(edited(data, {f"D{yes}": "", f"A{no}": "common.nope"}))
    refused = runner.invoke(app, ["texts", "import", str(out)])
    assert refused.exit_code == 1
    lines = [line for line in refused.output.splitlines() if line.startswith("error:")]
    assert lines == [
        f"error: row {yes}, common.yes: empty text",
        f"error: row {no}, unknown key common.nope",
    ]
    assert "nothing was written" in refused.output
    wrong = runner.invoke(app, ["texts", "import", "--lang", "se", str(out)])
    assert wrong.exit_code == 1 and "not se" in wrong.output
    text = tmp_path / "texts.csv"
    text.write_text("key,nn\n", encoding="utf-8")
    not_xlsx = runner.invoke(app, ["texts", "import", str(text)])
    assert not_xlsx.exit_code == 1 and "not an .xlsx workbook" in not_xlsx.output
    assert runner.invoke(app, ["texts", "export", "--lang", "xx", str(out)]).exit_code == 1
    assert snapshot(locale) == before


def test_the_cli_writes_to_texts_dir_and_every_command_layers_it(
    locale: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    override = tmp_path / "texts"
    monkeypatch.setenv("TEXTS_DIR", str(override))
    out = tmp_path / "nn.xlsx"
    data = export_workbook("nn")
    out.write_bytes(edited(data, {f"D{row_of(data, 'common.no')}": "Nei, takk"}))
    imported = runner.invoke(app, ["texts", "import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert str(override) in imported.output
    assert entries("nn")["common.no"].text == "Nei"  # packaged untouched
    assert catalogues.override_dir() == override  # the CLI applied TEXTS_DIR
    with speaking("nn"):
        assert t("common.no") == "Nei, takk"

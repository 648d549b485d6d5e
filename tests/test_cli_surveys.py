"""``lyttepost surveys add|list|export|validate``: good files registered, broken ones
reported by line (or sheet, row and column) with a non-zero exit and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from dialogs.definition import load_survey_text, shipped_survey_files
from dialogs.xlsform import load_xlsform
from tests.e2e_support import Deployment

KEY = "kvartalsvis-behov"
SHIPPED = shipped_survey_files()[0]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    workdir = tmp_path_factory.mktemp("surveys")
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{workdir / 'surveys.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=workdir,
    )
    deployment.cli_json("db", "upgrade")
    return deployment


def no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_add_list_and_export_with_good_files(deployment: Deployment, tmp_path: Path) -> None:
    # An adviser's YAML copy, anywhere on disk, becomes version 2
    copy = tmp_path / "behov-2027.yaml"
    copy.write_text(
        SHIPPED.read_text(encoding="utf-8").replace(
            "nb: Kvartalsvis behovsinnhenting", "nb: Behov våren 2027"
        ),
        encoding="utf-8",
    )
    added = deployment.cli("surveys", "add", str(copy))
    questions = len(load_survey_text(copy.read_text(encoding="utf-8"), "copy").questions)
    assert added.stdout == (
        f"registered {KEY} v2: «Behov våren 2027», {questions} questions; "
        "rounds that open from now on ask it\n"
    )
    again = deployment.cli_json("surveys", "add", str(copy))
    assert (again["version"], again["created"], again["format"]) == (2, False, "yaml")

    # ... exported as XLSForm, edited in "Excel", added back as version 3
    workbook = tmp_path / "behov.xlsx"
    exported = deployment.cli_json("surveys", "export", KEY, "--xlsx", str(workbook))
    assert (exported["version"], exported["file"]) == (2, str(workbook))
    assert load_xlsform(workbook.read_bytes(), "x").source.survey.title == "Behov våren 2027"
    book = load_workbook(workbook)
    book["settings"]["C2"] = "Behov høsten 2027"  # form_title
    book.save(workbook)
    added = deployment.cli_json("surveys", "add", str(workbook))
    assert (added["version"], added["created"], added["format"]) == (3, True, "xlsform")
    assert added["title"] == "Behov høsten 2027" and added["source"] == "behov.xlsx"

    # --version picks an older one; the shipped one survives the round trip unchanged
    first = tmp_path / "v1.xlsx"
    deployment.cli("surveys", "export", KEY, "--version", "1", "--xlsx", str(first))
    assert load_xlsform(first.read_bytes(), "v1.xlsx").source.survey == load_survey_text(
        SHIPPED.read_text(encoding="utf-8"), "shipped"
    )
    assert deployment.cli("surveys", "validate", str(first)).stdout.startswith(f"{first}: OK")

    old = deployment.cli("surveys", "add", str(copy)).stdout
    assert old == (
        f"already registered as {KEY} v2; nothing changed, and rounds that open ask v3 "
        "(change the file to register it as a new version)\n"
    )

    versions = deployment.cli_json("surveys", "list")
    assert [(v["version"], v["newest"]) for v in versions] == [(1, False), (2, False), (3, True)]
    listed = deployment.cli("surveys", "list").stdout.splitlines()
    assert listed[2] == (
        f"{KEY} v3: Behov høsten 2027 (behov.xlsx) – newest: rounds that open ask it"
    )


def test_broken_files_give_line_errors_and_register_nothing(
    deployment: Deployment, tmp_path: Path
) -> None:
    before = deployment.cli_json("surveys", "list")
    exported = tmp_path / "good.xlsx"
    deployment.cli("surveys", "export", KEY, "--version", "1", "--xlsx", str(exported))

    def workbook_with(name: str, **cells: str) -> Path:
        book = load_workbook(exported)
        for cell, value in cells.items():
            book["survey"][cell] = value
        path = tmp_path / name
        book.save(path)
        return path

    cases = {
        workbook_with("relevant.xlsx", F12="${omraade} = 'x'"): (
            "sheet survey, row 12, column relevant: condition refers to 'omraade', "
            "which is not an earlier question"
        ),
        workbook_with("type.xlsx", A13="select_one ja_nei_kanskje"): (
            "sheet survey, row 13, column type: there is no choice list 'ja_nei_kanskje' "
            "in sheet choices"
        ),
        workbook_with("dup.xlsx", B13="kontakt"): (
            "sheet survey, row 13, column name: duplicate question id 'kontakt'"
        ),
        workbook_with("unknown.xlsx", A13="barcode"): (
            "sheet survey, row 13, column type: type 'barcode' is not supported"
        ),
    }
    not_a_workbook = tmp_path / "notes.xlsx"
    not_a_workbook.write_text("this is not a workbook", encoding="utf-8")
    cases[not_a_workbook] = "(file): not an Excel workbook (.xlsx); save it as .xlsx"
    no_sheet = tmp_path / "nosheet.xlsx"
    book = load_workbook(exported)
    del book["settings"]
    book.save(no_sheet)
    cases[no_sheet] = "(file): the workbook has no sheet 'settings'"
    broken_yaml = tmp_path / "broken.yaml"
    broken_yaml.write_text("key: x1\nversion: 1\ntitle: T\nintro: I\nreceipt: R\nquestions: []\n")
    cases[broken_yaml] = "6: questions: a survey needs at least one question"
    missing = tmp_path / "missing.yaml"
    for path, says in cases.items():
        result = deployment.cli("surveys", "add", str(path), check=False)
        assert result.returncode == 1, (path, result.stdout, result.stderr)
        no_traceback(result)
        assert f"{path}: {says}" in result.stderr or f"{path}:{says}" in result.stderr, (
            result.stderr
        )
        assert result.stderr.endswith("; nothing registered\n")
    for path in (broken_yaml, no_sheet):  # validate reports the same, without a database
        result = deployment.cli("surveys", "validate", str(path), check=False)
        assert result.returncode == 1 and cases[path] in result.stderr
        no_traceback(result)
    result = deployment.cli("surveys", "add", str(missing), check=False)
    assert result.returncode == 1 and f"cannot read {missing}" in result.stderr
    assert deployment.cli_json("surveys", "list") == before


def test_export_errors_are_clear(deployment: Deployment, tmp_path: Path) -> None:
    result = deployment.cli(
        "surveys", "export", "finnes-ikke", "--xlsx", str(tmp_path / "x.xlsx"), check=False
    )
    assert result.returncode == 1 and "no survey 'finnes-ikke'" in result.stderr
    no_traceback(result)
    result = deployment.cli(
        "surveys", "export", KEY, "--version", "99", "--xlsx", str(tmp_path / "x.xlsx"),
        check=False,
    )  # fmt: skip
    assert result.returncode == 1 and f"no version 99 of survey '{KEY}'" in result.stderr
    result = deployment.cli(
        "surveys", "export", KEY, "--xlsx", str(tmp_path / "no" / "dir" / "x.xlsx"), check=False
    )
    assert result.returncode == 1 and "cannot write" in result.stderr
    no_traceback(result)
    assert not (tmp_path / "x.xlsx").exists()


def test_a_survey_with_a_matrix_is_added_but_not_exported_to_excel(
    deployment: Deployment, tmp_path: Path
) -> None:
    from tests.type_fixtures import RANKING_AND_MATRIX

    added = deployment.cli_json("surveys", "add", str(RANKING_AND_MATRIX))
    assert added["key"] == "rangering-og-matrise"
    result = deployment.cli(
        "surveys", "export", "rangering-og-matrise", "--xlsx", str(tmp_path / "m.xlsx"),
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "error: question 'hast' is a matrix" in result.stderr
    assert "keep this survey as YAML" in result.stderr
    no_traceback(result)
    assert not (tmp_path / "m.xlsx").exists()


def test_validate_warns_which_texts_lack_which_language(
    deployment: Deployment, tmp_path: Path
) -> None:
    partly = tmp_path / "delvis.yaml"
    partly.write_text(
        "key: delvis\nversion: 1\ntitle: {nb: T, nn: T, se: T, en: T}\nintro: I\n"
        "receipt: {nb: R, nn: R}\nneeds_review: [se]\nquestions:\n"
        "  - {id: a, type: yesno, text: {nb: 'Ja?', nn: 'Ja?', en: 'Yes?'}}\n",
        encoding="utf-8",
    )
    result = deployment.cli("surveys", "validate", str(partly))
    no_traceback(result)
    assert result.stdout.splitlines() == [
        f"{partly}: OK – «T» (delvis v1), 1 question",
        "warning: nn missing for: intro",
        "warning: se missing for: intro, receipt, questions[0].text",
        "warning: en missing for: intro, receipt",
        "warning: se: needs a translator's review (needs_review)",
    ]
    mismatch = tmp_path / "feil.yaml"
    mismatch.write_text(
        partly.read_text(encoding="utf-8").replace("nn: R}", "nn: 'R {org_name}'}"),
        encoding="utf-8",
    )
    refused = deployment.cli("surveys", "validate", str(mismatch), check=False)
    assert (
        refused.returncode == 1
        and (
            f"{mismatch}:5: receipt.nn: the nn text must have the same placeholders as the nb "
            "text (none); it has {org_name}"
        )
        in refused.stderr
    )

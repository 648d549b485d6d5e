"""``lyttepost members import-attributes`` and ``members facts``: a summary of what
changed, or one ``error:`` line per problem and nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e_support import Deployment


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    workdir = tmp_path_factory.mktemp("cli-facts")
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{workdir / 'cli.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=workdir,
    )
    deployment.cli_json("db", "upgrade")
    return deployment


def written(tmp_path: Path, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "fakta.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def facts(deployment: Deployment, org: str) -> dict[str, object]:
    return deployment.cli_json("members", "facts", org)  # type: ignore[no-any-return]


def test_an_excel_file_is_imported_and_summarised(deployment: Deployment, tmp_path: Path) -> None:
    excel = "\ufefforg;population;kostra_group;region;language\r\n3301;102 273;K13;Buskerud;\r\n4601;291 940;K14;Vestland;nn\r\n"
    result = deployment.cli("members", "import-attributes", written(tmp_path, excel))
    first, *details = result.stdout.splitlines()
    assert first.startswith(
        "2 organisations updated (population 2, kostra_group 2, region 2, language 1)"
    )
    assert any(
        line.strip().startswith("4601 Bergen:") and "language nb -> nn" in line for line in details
    )
    assert facts(deployment, "4601") == {
        "org": "4601", "name": "Bergen", "population": 291940, "kostra_group": "K14",
        "region": "Vestland", "language": "nn",
    }  # fmt: skip
    human = deployment.cli("members", "facts", "Bergen").stdout
    assert "4601 Bergen" in human and "nn (nynorsk)" in human and "291940" in human

    again = deployment.cli_json("members", "import-attributes", written(tmp_path, excel))
    assert (again["updated"], again["unchanged"], again["changes"]) == (0, 2, [])
    assert (
        "nothing changed"
        in deployment.cli("members", "import-attributes", written(tmp_path, excel)).stdout
    )
    (entry,) = deployment.cli_json("audit", "--action", "organisation.facts_import")
    assert entry["door"] == "cli" and entry["detail"]["updated"] == 2


def test_a_bad_file_prints_one_error_per_problem_and_changes_nothing(
    deployment: Deployment, tmp_path: Path
) -> None:
    before = facts(deployment, "1103")
    bad = "org,population,region,fylke\n"
    result = deployment.cli("members", "import-attributes", written(tmp_path, bad), check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        == 'error: line 1, column 4: unknown column "fylke"; the columns are org, population, kostra_group, region, language'
    )

    bad = "org,population,language\n1103,150000,nb\n9999,12 000x,nb\n4601,5,xx\n"
    result = deployment.cli("members", "import-attributes", written(tmp_path, bad), check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        'error: line 3, org: "9999" is no member organisation\'s code or name',
        'error: line 3, population: "12 000x" is not a whole number',
        'error: line 4, language: "xx" is not a language code; use nb, nn or se (empty: nb)',
    ]
    assert facts(deployment, "1103") == before  # line 2 was good, but nothing is saved
    as_json = deployment.cli(
        "members", "import-attributes", written(tmp_path, bad), "--json", check=False
    )
    assert as_json.returncode == 1 and '"errors": [' in as_json.stdout


def test_unreadable_input_is_one_clear_line(deployment: Deployment, tmp_path: Path) -> None:
    cases = {
        written(tmp_path, "org;region\n3301;Drammensregionen\n", "utf-16"): "not UTF-8 text",
        str(tmp_path / "missing.csv"): "does not exist",
    }
    for path, message in cases.items():
        result = deployment.cli("members", "import-attributes", path, check=False)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert message in result.stderr, result.stderr
    result = deployment.cli("members", "facts", "Herøy", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().startswith('error: org: "Herøy" names several organisations')

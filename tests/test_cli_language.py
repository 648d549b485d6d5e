"""``lyttepost members language ORG [nb|nn|se]``: show or set the language an
organisation's members read; a wrong organisation or code is one ``error:`` line and
exit code 1, and a change is in the audit log like the other edits of facts."""

from __future__ import annotations

import pytest

from tests.e2e_support import Deployment


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    workdir = tmp_path_factory.mktemp("cli-language")
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{workdir / 'cli.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=workdir,
    )
    deployment.cli_json("db", "upgrade")
    return deployment


def test_set_show_and_audit(deployment: Deployment) -> None:
    assert deployment.cli("members", "language", "3301").stdout == "3301 Drammen: nb (bokmål)\n"

    changed = deployment.cli("members", "language", "3301", "nn")
    assert changed.stdout == "3301 Drammen: language nb -> nn (nynorsk)\n"
    assert deployment.cli("members", "language", "Drammen").stdout == "3301 Drammen: nn (nynorsk)\n"
    assert deployment.cli_json("members", "facts", "3301")["language"] == "nn"
    again = deployment.cli("members", "language", "drammen", "NN")
    assert again.stdout == "3301 Drammen: language already nn (nynorsk)\n"

    shown = deployment.cli_json("members", "language", "3301")
    assert shown == {"org": "3301", "name": "Drammen", "language": "nn", "before": None,
                     "changed": False, "own_choices": []}  # fmt: skip
    entries = deployment.cli_json("audit", "--action", "organisation.facts")
    assert len(entries) == 1  # the unchanged second call wrote nothing
    assert entries[0]["target"] == "organisation:3301"
    assert entries[0]["detail"] == {"language": {"before": "nb", "after": "nn"}}
    assert entries[0]["door"] == "cli"

    as_json = deployment.cli_json("members", "language", "3301", "se")
    assert (as_json["before"], as_json["language"], as_json["changed"]) == ("nn", "se", True)


WRONG = [
    (("9999", "nn"), 'error: org: "9999" is no member organisation\'s code or name'),
    (("Atlantis",), 'error: org: "Atlantis" is no member organisation\'s code or name'),
    (("Herøy", "nn"), 'error: org: "Herøy" names several organisations; use the code'),
    (("3301", "en"), 'error: language: "en" is not a language code; use nb, nn or se'),
    (("3301", "nynorsk"), 'error: language: "nynorsk" is not a language code'),
    (("3301", ""), 'error: language: "" is not a language code'),
]


def test_a_wrong_organisation_or_code_is_one_error_line(deployment: Deployment) -> None:
    before = deployment.cli_json("members", "language", "3301")["language"]
    for args, message in WRONG:
        result = deployment.cli("members", "language", *args, check=False)
        assert result.returncode == 1, (args, result)
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert deployment.cli_json("members", "language", "3301")["language"] == before

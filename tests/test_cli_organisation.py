"""``lyttepost contacts replace`` and ``lyttepost rounds approval``: what they print, and
one clear error line for every wrong input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e_support import Deployment


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    workdir = tmp_path_factory.mktemp("cli-org")
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{workdir / 'cli.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=workdir,
    )
    deployment.cli_json("db", "upgrade")
    return deployment


def added(deployment: Deployment, org: str, name: str, role: str = "radmann") -> int:
    return deployment.cli_json("contacts", "add", "--org", org, "--name", name, "--role", role)[
        "id"
    ]


def one_error(deployment: Deployment, *args: str) -> str:
    result = deployment.cli(*args, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_replace_by_a_new_person_prints_their_code_and_deactivates_the_old(
    deployment: Deployment,
) -> None:
    old = added(deployment, "3301", "Kari Nordmann")
    done = deployment.cli_json(
        "contacts", "replace", str(old), "--by", "Nina Ny", "--email", "nina@drammen.kommune.no"
    )
    assert done["old_id"] == old and done["name"] == "Nina Ny" and done["org"] == "3301"
    assert len(done["code"]) == 10 and done["expires_at"] and done["responses_moved"] == []
    contacts = {c["id"]: c for c in deployment.cli_json("contacts", "list", "--org", "3301")}
    assert contacts[old]["active"] is False and contacts[done["new_id"]]["active"] is True
    audit = deployment.cli_json("audit", "--action", "contact.replace")
    assert audit[0]["target"] == f"contact:{old}"

    human = deployment.cli("contacts", "replace", str(done["new_id"]), "--by", "Ola Tredje")
    assert "replaced by" in human.stdout and "invitation code for Ola Tredje: " in human.stdout


def test_replace_by_an_existing_contact_of_the_same_organisation(deployment: Deployment) -> None:
    old = added(deployment, "1103", "Stavanger Leder")
    colleague = added(deployment, "1103", "Stavanger Assistent", "assistent")
    done = deployment.cli_json("contacts", "replace", str(old), "--by", str(colleague))
    assert done["new_id"] == colleague and done["code"]  # no chat yet: a code


def test_replace_refuses_wrong_input_with_one_clear_line(deployment: Deployment) -> None:
    first = added(deployment, "4601", "Bergen Leder")
    other_org = added(deployment, "5001", "Trondheim Leder")
    assert "no contact with id 99999" in one_error(
        deployment, "contacts", "replace", "99999", "--by", str(first)
    )
    assert "no contact with id 99998" in one_error(
        deployment, "contacts", "replace", str(first), "--by", "99998"
    )
    assert "another organisation" in one_error(
        deployment, "contacts", "replace", str(first), "--by", str(other_org)
    )
    assert "cannot replace themselves" in one_error(
        deployment, "contacts", "replace", str(first), "--by", str(first)
    )
    assert "--role and --email describe a new person" in one_error(
        deployment, "contacts", "replace", str(first), "--by", str(other_org), "--role", "x"
    )
    assert "does not look like an address" in one_error(
        deployment, "contacts", "replace", str(first), "--by", "Ny Person", "--email", "nope"
    )
    assert "--by is an existing contact's id or the new person's name" in one_error(
        deployment, "contacts", "replace", str(first), "--by", " "
    )
    deployment.cli("contacts", "deactivate", str(first))
    assert "already deactivated" in one_error(
        deployment, "contacts", "replace", str(first), "--by", "Ny Person"
    )


def test_rounds_approval_on_and_off(deployment: Deployment, tmp_path: Path) -> None:
    created = deployment.cli_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--closes", "2099-12-31",
        "--county", "11", "--opens", "2099-01-01",
    )  # fmt: skip
    round_id = str(created["id"])
    on = deployment.cli_json("rounds", "approval", round_id, "--on")
    assert on == {"id": created["id"], "require_approval": True, "was": False}
    assert deployment.cli_json("rounds", "approval", round_id, "--off")["was"] is True
    history = deployment.cli_json("rounds", "history", round_id)
    assert any("require_approval" in str(event) for event in history)
    unsaid = deployment.cli("rounds", "approval", round_id, check=False)
    assert unsaid.returncode == 2 and "--on" in unsaid.stderr and "Traceback" not in unsaid.stderr
    assert "no round with id 999" in one_error(deployment, "rounds", "approval", "999", "--on")

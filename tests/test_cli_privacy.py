"""The privacy and contact life-cycle commands as operators run them (SQLite, real CLI)."""

from __future__ import annotations

import getpass
import json
import sqlite3
import stat
from pathlib import Path

from tests.e2e_support import Deployment


def test_privacy_and_contact_commands(tmp_path: Path) -> None:
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=tmp_path,
        extra_env={"RAW_MESSAGE_RETENTION_DAYS": "14", "PRIVACY_CONTACT": "personvern@ks.no"},
    )
    deployment.cli("db", "upgrade")
    kari = deployment.cli_json(
        "contacts", "add", "--org", "3301", "--name", "Kari Nordmann", "--role", "radmann",
        "--email", "kari@drammen.kommune.no",
    )["id"]  # fmt: skip
    per = deployment.cli_json(
        "contacts", "add", "--org", "3301", "--name", "Per Hansen", "--role", "assistent"
    )["id"]
    deployment.cli_json("contacts", "add", "--org", "4601", "--name", "Ola", "--role", "radmann")
    listed = deployment.cli_json("contacts", "list", "--org", "3301")
    assert [(c["id"], c["name"], c["active"]) for c in listed] == [
        (kari, "Kari Nordmann", True), (per, "Per Hansen", True),
    ]  # fmt: skip
    assert "not registered" in deployment.cli("contacts", "list").stdout
    bad_org = deployment.cli("contacts", "list", "--org", "9999", check=False)
    assert bad_org.returncode == 1 and "unknown organisation" in bad_org.stderr

    created = deployment.cli_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--closes", "2099-12-31",
        "--orgs", "3301", "--retention-months", "36",
    )  # fmt: skip
    refused = deployment.cli(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--closes", "2099-12-31",
        "--retention-months", "0", check=False,
    )  # fmt: skip
    assert refused.returncode == 1 and "1-120 months" in refused.stderr

    deactivated = deployment.cli_json("contacts", "deactivate", str(per))
    assert deactivated["already"] is False
    assert deployment.cli_json("contacts", "deactivate", str(per))["already"] is True
    assert "[deactivated]" in deployment.cli("contacts", "list", "--org", "3301").stdout
    assert deployment.cli_json("contacts", "activate", str(per))["activated"] is True

    out = tmp_path / "innsyn" / "kari.json"
    deployment.cli("privacy", "export", "--contact", str(kari), "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["contact"]["email"] == "kari@drammen.kommune.no"
    assert document["status"] == "active"

    asked = deployment.cli("privacy", "erase", "--contact", str(kari), check=False)
    assert asked.returncode == 1 and "would remove" in asked.stdout and "--yes" in asked.stderr
    erased = deployment.cli_json("privacy", "erase", "--contact", str(kari), "--yes",
                                 "--actor", "saksbehandler@ks.no")  # fmt: skip
    assert erased["erased"] is True and erased["files_scrubbed"]["vacuumed"] is True
    again = deployment.cli("privacy", "export", "--contact", str(kari))
    assert json.loads(again.stdout)["contact"] is None and "was erased" in again.stderr
    unknown = deployment.cli("privacy", "export", "--contact", "99999", check=False)
    assert unknown.returncode == 1 and "no contact with id 99999" in unknown.stderr
    assert (
        deployment.cli_json("privacy", "erase", "--contact", str(kari), "--yes")["erased"] is False
    )
    assert b"kari@drammen.kommune.no" not in (tmp_path / "cli.db").read_bytes()

    swept = deployment.cli_json("privacy", "sweep")
    assert swept["rounds_erased"] == []
    status = deployment.cli_json("privacy", "status")
    assert status["raw_message_retention_days"] == 14
    assert [(r["id"], r["retention_months"], r["state"]) for r in status["rounds"]] == [
        (created["id"], 36, "running")
    ]
    assert status["contacts"] == {"active": 2, "deactivated": 0, "erased": 1}
    assert status["last_sweep"] is not None
    human = deployment.cli("privacy", "status").stdout
    assert "daily sweep: next" in human and "36 months after it closes" in human
    # The privacy log says who did what to which contact, never the data.
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        log = connection.execute(
            "SELECT actor, action, contact_id, detail FROM privacy_log ORDER BY id"
        ).fetchall()
    assert [(a, action, c) for a, action, c, _ in log if action != "sweep"] == [
        (f"cli:{getpass.getuser()}", "deactivate", per),
        (f"cli:{getpass.getuser()}", "export", kari),
        ("saksbehandler@ks.no", "erase", kari),
        (f"cli:{getpass.getuser()}", "export", kari),
    ]
    assert not any("Kari" in detail or "drammen.kommune" in detail for *_, detail in log)

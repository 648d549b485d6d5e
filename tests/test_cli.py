"""The command-line contract: exit codes, one JSON document with --json, clear errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.e2e_support import Deployment


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    workdir = tmp_path_factory.mktemp("cli")
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{workdir / 'cli.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=workdir,
    )
    first = deployment.cli_json("db", "upgrade")
    again = deployment.cli_json("db", "upgrade")
    assert first["organisations"] == again["organisations"] == 371
    assert again["organisations_inserted"] == 0 and again["surveys"][0]["created"] is False
    return deployment


def test_members_list_and_county_filter(deployment: Deployment) -> None:
    members = deployment.cli_json("members", "list")
    assert len(members) == 371
    vestland = deployment.cli_json("members", "list", "--county", "46")
    assert {m["county"] for m in vestland} == {"46"} and any(
        m["kind"] == "fylkeskommune" for m in vestland
    )


def test_contacts_invites_round_and_empty_export(deployment: Deployment, tmp_path: Path) -> None:
    added = deployment.cli_json(
        "contacts", "add", "--org", "4601", "--name", "Bergen Leder", "--role", "byradsleder"
    )
    assert isinstance(added["id"], int)
    path = tmp_path / "contacts.csv"
    path.write_text(
        "org,name,role,email\n1103,Stavanger Leder,kommunedirektor,leder@stavanger.kommune.no\n",
        encoding="utf-8",
    )
    imported = deployment.cli_json("contacts", "import", str(path))
    assert len(imported["added"]) == 1 and imported["errors"] == []
    invites = deployment.cli_json("invites", "create", "--all-pending")
    assert {i["org"] for i in invites} >= {"4601", "1103"}
    assert all(i["link"].endswith(i["code"]) for i in invites)
    assert deployment.cli_json("invites", "create", "--all-pending") == []  # live codes are kept
    created = deployment.cli_json(
        "rounds",
        "create",
        "--survey",
        "kvartalsvis-behov",
        "--closes",
        "2099-12-31",
        "--county",
        "11",
    )
    rounds = deployment.cli_json("rounds", "list")
    assert (
        rounds[-1]["id"] == created["id"] and rounds[-1]["organisations"] == 24
    )  # 23 municipalities and Rogaland fylkeskommune
    assert (
        json.loads(
            deployment.cli("export", "--round", str(created["id"]), "--format", "json").stdout
        )
        == []
    )
    header = next(
        csv.reader(
            io.StringIO(
                deployment.cli(
                    "export", "--round", str(created["id"]), "--format", "csv"
                ).stdout.lstrip("\ufeff")
            )
        )
    )
    assert header[:3] == ["org", "org_name", "county"] and "omrader" in header
    for_excel = deployment.cli(
        "export", "--round", str(created["id"]), "--format", "csv", "--excel"
    ).stdout
    assert for_excel.startswith("\ufefforg;org_name;county;")  # Norwegian Excel: BOM and ';'
    out = tmp_path / "round.xlsx"
    deployment.cli("export", "--round", str(created["id"]), "--format", "xlsx", "--out", str(out))
    assert load_workbook(out).active["A1"].value == "org"


def test_invites_carry_a_teams_link_when_the_teams_app_id_is_set(deployment: Deployment) -> None:
    app_id = "11111111-2222-3333-4444-555555555555"
    teams = replace(deployment, extra_env={"MICROSOFT_APP_ID": app_id})
    added = teams.cli_json("contacts", "add", "--org", "5001", "--name", "Trondheim Leder",
                           "--role", "kommunedirektor")  # fmt: skip
    (invite,) = teams.cli_json("invites", "create", "--contact", str(added["id"]))
    assert invite["teams_link"] == (
        f"https://teams.microsoft.com/l/chat/0/0?users=28:{app_id}&message={invite['code']}"
    )
    assert invite["link"].endswith(invite["code"])  # Telegram's is still there
    (plain,) = deployment.cli_json("invites", "create", "--contact", str(added["id"]))
    assert plain["teams_link"] is None  # no Teams app: no Teams link


def test_errors_are_clear_and_non_zero(deployment: Deployment, tmp_path: Path) -> None:
    unknown = deployment.cli(
        "contacts", "add", "--org", "9999", "--name", "X", "--role", "radmann", check=False
    )
    assert unknown.returncode == 1 and "unknown organisation code" in unknown.stderr
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("org,name,role\n9999,X,radmann\n", encoding="utf-8")
    result = deployment.cli("contacts", "import", str(bad_csv), check=False)
    assert result.returncode == 1 and "line 2: unknown organisation code" in result.stderr
    past = deployment.cli(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--closes", "2001-01-01", check=False
    )
    assert past.returncode == 1 and "passed" in past.stderr
    missing = deployment.cli("export", "--round", "999", "--format", "json", check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    dead = Deployment(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        api_base_url="",
        workdir=tmp_path,
    )
    down = dead.cli("members", "list", check=False)
    assert (
        down.returncode == 1 and "database error" in down.stderr and "Traceback" not in down.stderr
    )


def test_run_refuses_an_unmigrated_database_and_a_missing_token(tmp_path: Path) -> None:
    fresh = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'new.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=tmp_path,
    )
    result = fresh.cli("run", check=False)
    assert result.returncode != 0 and "lyttepost db upgrade" in result.stderr
    fresh.extra_env = {"TELEGRAM_BOT_TOKEN": ""}
    result = fresh.cli("run", check=False)
    assert result.returncode == 1 and "lyttepost db upgrade" in result.stderr
    assert "no chat channel configured" in result.stderr  # said, and not a reason to stop


def test_run_without_a_chat_channel_serves_the_workspace(tmp_path: Path) -> None:
    """A newcomer with no tokens sees KS's workspace and the annual cycle runs."""
    import httpx

    bare = Deployment(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bare.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=tmp_path,
        extra_env={"TELEGRAM_BOT_TOKEN": ""},
    )
    bare.cli("db", "upgrade")
    bare.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{bare.http_port}") as client:
            assert client.get("/healthz").json()["status"] == "ok"
            login = client.get("/logg-inn")
            assert login.status_code == 200 and "Logg inn i Lyttepost" in login.text
            secret = "Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1saW5rLXNlY3JldA"
            assert client.get(f"/logg-inn/lenke/{secret}").status_code == 200
    finally:
        bare.stop()
    log = bare.log()
    assert "no chat channel configured" in log
    assert "/logg-inn/lenke/[secret]" in log and secret not in log  # the access log line


def test_surveys_validate_reports_file_line_and_field(
    deployment: Deployment, tmp_path: Path
) -> None:
    shipped = (
        Path(__file__).resolve().parent.parent / "dialogs" / "surveys" / "kvartalsvis-behov.yaml"
    )
    ok = deployment.cli("surveys", "validate", str(shipped))
    assert ok.returncode == 0 and "OK" in ok.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "key: x1\nversion: 1\ntitle: T\nintro: I\nreceipt: R\nquestions:\n  - {id: a, type: scale, text: A, scale_min: 4, scale_max: 2}\n",
        encoding="utf-8",
    )
    result = deployment.cli("surveys", "validate", str(broken), check=False)
    assert result.returncode == 1 and f"{broken}:7: questions[0].scale_max:" in result.stderr
    assert deployment.cli_json("surveys", "list")[0]["key"] == "kvartalsvis-behov"


def test_demo_runs_unattended_and_writes_the_export(tmp_path: Path) -> None:
    demo = Deployment(database_url="", api_base_url="", workdir=tmp_path)
    result = demo.cli(
        "demo",
        "--auto",
        "--database",
        str(tmp_path / "demo.db"),
        "--exports",
        str(tmp_path / "exports"),
        "--no-workspace",
    )
    assert "Takk, Kari Nordmann" in result.stdout
    exported = json.loads((tmp_path / "exports" / "demo-round-1.json").read_text(encoding="utf-8"))
    assert exported[0]["status"] == "submitted" and exported[0]["org_name"] == "Drammen"
    assert (tmp_path / "exports" / "demo-round-1.xlsx").stat().st_size > 0


EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "docs" / "examples" / "arshjul-2027.yaml"


def test_plan_apply_show_and_the_round_commands(deployment: Deployment, tmp_path: Path) -> None:
    dry = deployment.cli_json("plan", "apply", str(EXAMPLE_PLAN), "--dry-run")
    assert dry["dry_run"] and [r["action"] for r in dry["rounds"]] == ["created"] * 4
    applied = deployment.cli_json("plan", "apply", str(EXAMPLE_PLAN))
    assert [r["key"] for r in applied["rounds"]] == ["2027-1", "2027-2", "2027-3", "2027-4"]
    again = deployment.cli_json("plan", "apply", str(EXAMPLE_PLAN))
    assert [r["action"] for r in again["rounds"]] == ["unchanged"] * 4
    shown = deployment.cli("plan", "show", "--year", "2027").stdout
    assert "Årshjul 2027" in shown and "Behovsinnhenting 1. kvartal 2027" in shown
    assert "januar" in shown and "desember" in shown
    calendar = deployment.cli_json("plan", "show")
    assert {r["key"] for r in calendar} >= {"2027-1", "2027-4"}

    first = applied["rounds"][0]["id"]
    status = deployment.cli_json("rounds", "status", str(first))
    assert (status["organisations"], status["invited"], status["submitted"]) == (371, 0, 0)
    assert len(status["by_county"]) == 15 and len(status["not_answered"]) == 371
    moved = deployment.cli_json("rounds", "extend", str(first), "--closes", "2027-02-05")
    assert moved["closes_at"].startswith("2027-02-05T22:59")
    assert deployment.cli_json("rounds", "pause", str(first))["paused"] is True
    assert deployment.cli_json("rounds", "resume", str(first))["paused"] is False
    refused = deployment.cli("rounds", "cancel", str(first), check=False)
    assert refused.returncode == 1  # no --yes and no terminal to confirm on
    cancelled = deployment.cli_json("rounds", "cancel", str(first), "--yes")
    assert cancelled["status"] == "cancelled"
    again = deployment.cli("rounds", "pause", str(first), check=False)
    assert again.returncode == 1 and "er avlyst" in again.stderr
    history = deployment.cli_json("rounds", "history", str(first))
    assert [e["action"] for e in history] == [
        "planned",
        "rescheduled",
        "paused",
        "resumed",
        "cancelled",
    ]
    assert all(e["actor"].startswith("cli") for e in history)
    scheduler = deployment.cli_json("scheduler", "status")
    assert scheduler["holder"] is None
    assert f"round:{first + 1}:open" in {job["id"] for job in scheduler["jobs"]}


def test_plan_errors_name_file_line_and_field(deployment: Deployment, tmp_path: Path) -> None:
    broken = tmp_path / "plan.yaml"
    broken.write_text(
        "rounds:\n  - key: x\n    survey: kvartalsvis-behov\n    opens: 2027-13-01\n"
        "    closes: 2027-01-29\n    weekends: sometimes\n",
        encoding="utf-8",
    )
    result = deployment.cli("plan", "apply", str(broken), check=False)
    assert result.returncode == 1
    assert f"{broken}:4: rounds[0].opens:" in result.stderr
    assert f"{broken}:6: rounds[0].weekends:" in result.stderr
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(
        "rounds:\n  - key: y\n    survey: finnes-ikke\n    opens: 2030-01-14 09:00\n"
        "    closes: 2030-01-29\n",
        encoding="utf-8",
    )
    result = deployment.cli("plan", "apply", str(unknown), check=False)
    assert result.returncode == 1 and f"{unknown}:3: rounds[0].survey: no survey" in result.stderr


def test_the_old_admins_commands_point_to_staff_accounts(deployment: Deployment) -> None:
    moved = deployment.cli("admins", "grant", "--contact", "1", check=False)
    assert moved.returncode == 2 and moved.stdout == ""
    assert moved.stderr.startswith("error: the admin role belongs to staff accounts now")
    assert "lyttepost staff code --email E" in moved.stderr


def test_broadcast_draft_preview_send_and_report(deployment: Deployment, tmp_path: Path) -> None:
    contact = deployment.cli_json(
        "contacts", "add", "--org", "1103", "--name", "Stavanger Leder 2", "--role", "radmann"
    )
    image = tmp_path / "figur.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    draft = deployment.cli_json(
        "broadcast", "create", "--to", "county:11", "--text", "Hei fra KS", "--image", str(image)
    )
    assert draft["status"] == "draft" and draft["recipients"] == 0 and draft["unreachable"] >= 1
    shown = deployment.cli_json("publications", "show", str(draft["id"]))
    assert shown["text"] == "Hei fra KS" and shown["attachments"][0]["filename"] == "figur.png"
    edited = deployment.cli_json("publications", "edit", str(draft["id"]), "--text", "Hei igjen")
    assert edited["characters"] == len("Hei igjen")
    preview = deployment.cli(
        "publications", "preview", str(draft["id"]), "--contact", str(contact["id"]), check=False
    )
    assert preview.returncode == 1 and "no chat" in preview.stderr
    nobody = deployment.cli("publications", "send", str(draft["id"]), "--yes", check=False)
    assert nobody.returncode == 1 and "nobody to send to" in nobody.stderr
    report = deployment.cli_json("publications", "report", str(draft["id"]))
    assert report["status"] == "draft" and report["delivered"] == 0
    listed = deployment.cli_json("publications", "list")
    assert any(p["id"] == draft["id"] and p["kind"] == "broadcast" for p in listed)
    bad = deployment.cli("broadcast", "create", "--to", "everyone", "--text", "x", check=False)
    assert bad.returncode == 1 and "unknown segment" in bad.stderr
    not_png = tmp_path / "figur.txt"
    not_png.write_text("hei", encoding="utf-8")
    refused = deployment.cli(
        "broadcast", "create", "--to", "all", "--text", "x", "--image", str(not_png), check=False
    )
    assert refused.returncode == 1 and "PNG or JPEG" in refused.stderr
    open_round = deployment.cli_json(
        "rounds",
        "create",
        "--survey",
        "kvartalsvis-behov",
        "--closes",
        "2099-12-31",
        "--orgs",
        "1103",
    )
    early = deployment.cli(
        "report", "build", str(open_round["id"]), "--out", str(tmp_path / "r"), check=False
    )
    assert early.returncode == 1 and "ikke stengt" in early.stderr


def test_the_demo_then_serves_the_workspace_with_a_login_link_until_ctrl_c(tmp_path: Path) -> None:
    """KS's side of the demo: the link printed after the survey signs in, Ctrl-C stops it."""
    import signal
    import socket
    import time

    import httpx

    from tests.e2e_support import lyttepost_command
    from tests.workspace_support import csrf_in

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), SCHEDULER_ENABLED="false")
    env.pop("PYTHONUNBUFFERED", None)  # as a person's terminal or a pipe gets it: buffered
    errors = (tmp_path / "stderr.txt").open("w")
    process = subprocess.Popen(
        [*lyttepost_command(), "demo", "--auto", "--database", str(tmp_path / "demo.db"),
         "--exports", str(tmp_path / "exports")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=errors, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        deadline, link = time.monotonic() + 120, None
        seen: list[str] = []
        while link is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if f"http://127.0.0.1:{port}/logg-inn/lenke/" in line:
                link = line.strip()
        assert link, "".join(seen[-20:])
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as browser:
            page = browser.get(link)
            signed_in = browser.post(link, data={"csrf_token": csrf_in(page.text)})
            assert signed_in.status_code == 303
            overview = browser.get("/")
            assert "Ada Rådgiver" in overview.text and "(1 av 1)" in overview.text
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert "Arbeidsflaten er stoppet." in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
        errors.close()


def test_rounds_allow_or_stop_changes_after_submission(deployment: Deployment) -> None:
    import sqlite3

    def allowed(round_id: int) -> int:
        path = deployment.database_url.removeprefix("sqlite+aiosqlite:///")
        with sqlite3.connect(path) as db:
            return db.execute(
                "SELECT allow_edit_after_submit FROM rounds WHERE id = ?", (round_id,)
            ).fetchone()[0]

    made = deployment.cli_json("rounds", "create", "--survey", "kvartalsvis-behov",
                               "--closes", "2099-12-31", "--orgs", "0301", "--no-edits")  # fmt: skip
    assert allowed(made["id"]) == 0
    on = deployment.cli_json("rounds", "edits", str(made["id"]), "--on")
    assert on == {"id": made["id"], "allow_edit_after_submit": True} and allowed(made["id"]) == 1
    off = deployment.cli("rounds", "edits", str(made["id"]), "--off").stdout
    assert "cannot be changed" in off and allowed(made["id"]) == 0
    default = deployment.cli_json("rounds", "create", "--survey", "kvartalsvis-behov",
                                  "--closes", "2099-12-31", "--orgs", "0301")  # fmt: skip
    assert allowed(default["id"]) == 1
    unknown = deployment.cli("rounds", "edits", "999", "--on", check=False)
    assert unknown.returncode == 1 and "no round 999" in unknown.stderr

"""What a new user runs into on the command line: one-line errors, never a traceback;
the console chat showing only its own contact's messages; counts with the right noun;
``rounds list`` in Oslo time; closing a round now.

Run in-process with Typer's CliRunner on one SQLite database for the module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app

SUPPORTED = "sqlite+aiosqlite:///FILE"
ENV_PREFIXES = ("DATABASE_", "TELEGRAM_", "TEAMS_", "MICROSOFT_", "SCHEDULER_")


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


def ok(*args: str, input: str | None = None) -> Result:
    result = invoke(*args, input=input)
    assert result.exit_code == 0, f"{args}: {result.output}\n{result.exception!r}"
    return result


def as_json(*args: str) -> object:
    return json.loads(ok(*args, "--json").stdout)


def one_line_error(result: Result) -> str:
    """The command failed with exit 1 and exactly one ``error: ...`` line, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("first-use")
    url = f"sqlite+aiosqlite:///{folder / 'lyttepost.db'}"
    with pytest.MonkeyPatch.context() as patch:
        _isolate(patch, folder, url)
        ok("db", "upgrade")
    yield url


def _isolate(patch: pytest.MonkeyPatch, folder: Path, url: str) -> None:
    import os

    for name in os.environ:
        if name.startswith(ENV_PREFIXES):
            patch.delenv(name)
    patch.setenv("DATABASE_URL", url)
    patch.chdir(folder)  # no .env from the repository


@pytest.fixture(autouse=True)
def environment(database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _isolate(monkeypatch, tmp_path, database)


# --- the console channel ---------------------------------------------------------------------


def test_the_console_chat_shows_only_its_own_contacts_messages() -> None:
    mine = as_json("contacts", "add", "--org", "1804", "--name", "Bodø Leder", "--role", "radmann")
    other = as_json("contacts", "add", "--org", "5001", "--name", "Trondheim Leder", "--role", "x1")
    ok("chat", "--contact", str(other["id"]), input="/avslutt\n")  # the other's console chat
    draft = as_json("broadcast", "create", "--to", "orgs:5001", "--text", "Bare til Trondheim")
    ok("publications", "send", str(draft["id"]), "--yes", "--no-wait")
    assert as_json("publications", "report", str(draft["id"]))["pending"] == 1

    session = ok("chat", "--contact", str(mine["id"]), input="/avslutt\n")
    assert "Du chatter som kontakt" in session.stdout
    assert "Bare til Trondheim" not in session.stdout
    report = as_json("publications", "report", str(draft["id"]))
    assert (report["delivered"], report["pending"]) == (0, 1)  # still waiting for its own chat

    theirs = ok("chat", "--contact", str(other["id"]), input="/avslutt\n")
    assert "Bare til Trondheim" in theirs.stdout
    assert as_json("publications", "report", str(draft["id"]))["delivered"] == 1


def test_chat_as_an_unknown_contact_is_a_one_line_error() -> None:
    assert one_line_error(invoke("chat", "--contact", "99999")) == (
        "error: no contact with id 99999"
    )


# --- contacts import -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ("org\tname\trole\n3301\tKari\tradmann\n", "found columns separated by tabs"),
        ("org|name|role\n3301|Kari|radmann\n", "found columns separated by '|'"),
        ("org\n3301\n", "found one column, 'org'"),
    ],
    ids=["tab", "pipe", "one-column"],
)
def test_contacts_import_of_a_file_it_cannot_read_names_the_expected_header(
    tmp_path: Path, content: str, found: str
) -> None:
    path = tmp_path / "kontakter.csv"
    path.write_text(content, encoding="utf-8")
    line = one_line_error(invoke("contacts", "import", str(path)))
    assert line.startswith(f"error: {path}: line 1: ")
    assert "the header must be org,name,role,email (separated by , or ;)" in line
    assert found in line


def test_contacts_import_counts_with_the_right_noun(tmp_path: Path) -> None:
    one = tmp_path / "en.csv"
    one.write_text("org;navn;rolle\n4204;Kristiansand Leder;radmann\n", encoding="utf-8")
    assert ok("contacts", "import", str(one)).stdout.strip() == "1 contact added, 0 already there"
    two = tmp_path / "to.csv"
    two.write_text(
        "org,name,role\n4204,Kristiansand Leder,radmann\n4204,A,b1\n4204,B,b2\n", encoding="utf-8"
    )
    assert ok("contacts", "import", str(two)).stdout.strip() == "2 contacts added, 1 already there"


# --- DATABASE_URL ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["mysql://lyttepost:hemmelig@db/lyttepost", "garbage", ""])
@pytest.mark.parametrize(
    "command",
    [
        ("run",),
        ("db", "upgrade"),
        ("members", "list"),
        ("rounds", "list"),
        ("chat", "--contact", "1"),
    ],
    ids=["run", "db-upgrade", "members-list", "rounds-list", "chat"],
)
def test_an_unsupported_database_url_is_one_line_for_every_command(
    monkeypatch: pytest.MonkeyPatch, url: str, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")  # so run gets as far as the database
    line = one_line_error(invoke(*command))
    assert "DATABASE_URL" in line and SUPPORTED in line and "postgresql+asyncpg://" in line
    assert "hemmelig" not in line  # a password in the URL is never repeated


@pytest.mark.parametrize("command", [("rounds", "list"), ("members", "list")])
def test_an_unknown_time_zone_is_one_line(
    monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("TIMEZONE", "Europe/Olso")
    line = one_line_error(invoke(*command))
    assert "TIMEZONE" in line and "Europe/Olso" in line


# --- rounds list and close ---------------------------------------------------------------------


def test_rounds_list_prints_oslo_time_and_json_keeps_the_offset() -> None:
    created = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "3907",
        "--opens", "2099-06-01T09:00", "--closes", "2099-06-20",
    )  # fmt: skip
    (row,) = [r for r in as_json("rounds", "list") if r["id"] == created["id"]]
    closes = datetime.fromisoformat(row["closes_at"])
    assert closes.utcoffset() is not None
    assert closes.astimezone(ZoneInfo("Europe/Oslo")).strftime("%Y-%m-%d %H:%M") == (
        "2099-06-20 23:59"
    )
    (line,) = [
        line
        for line in ok("rounds", "list").stdout.splitlines()
        if line.lstrip().startswith(f"{created['id']} ")
    ]
    assert "opens 2099-06-01 09:00, closes 2099-06-20 23:59" in line
    assert "21:59" not in line and "+00:00" not in line


def test_rounds_close_asks_then_closes_as_the_deadline_would() -> None:
    author = as_json("contacts", "add", "--org", "3905", "--name", "Tønsberg Leder", "--role", "rd")
    created = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "3905,3907",
        "--closes", "2099-12-31",
    )  # fmt: skip
    round_id = str(created["id"])
    ok("chat", "--contact", str(author["id"]), input="/svar\n/avslutt\n")  # started, not sent

    declined = invoke("rounds", "close", round_id, input="n\n")
    assert declined.exit_code == 1
    assert f"Close round {round_id}" in declined.stderr and "before its deadline 2099-12-31 23:59"
    assert "0 organisations submitted; 1 half-done answer will be kept as incomplete and its " \
        "author told" in declined.stderr  # fmt: skip
    assert as_json("rounds", "status", round_id)["status"] == "open"

    closed = as_json("rounds", "close", round_id, "--yes")
    assert (closed["status"], closed["incomplete"]) == ("closed", 1)
    assert closed["closes_at"] <= datetime.now(ZoneInfo("UTC")).isoformat()
    (answer,) = json.loads(ok("export", "--round", round_id, "--format", "json").stdout)
    assert answer["status"] == "incomplete"
    history = as_json("rounds", "history", round_id)
    assert history[-1]["action"] in ("closed", "closed_notified")
    closing = next(e for e in history if e["action"] == "closed")
    assert closing["actor"].startswith("cli") and closing["detail"]["planned_deadline"]

    again = one_line_error(invoke("rounds", "close", round_id, "--yes"))
    assert "allerede stengt" in again
    planned = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "3905",
        "--opens", "2099-01-10", "--closes", "2099-01-31",
    )  # fmt: skip
    assert "ikke åpnet ennå" in one_line_error(invoke("rounds", "close", str(planned["id"])))
    as_json("rounds", "cancel", str(planned["id"]), "--yes")
    assert "avlyst" in one_line_error(invoke("rounds", "close", str(planned["id"]), "--yes"))
    assert "no round with id 99999" in one_line_error(invoke("rounds", "close", "99999"))


# --- every problem at once -------------------------------------------------------------------


def test_plan_apply_reports_every_problem_in_the_file_and_in_the_database(tmp_path: Path) -> None:
    plan = tmp_path / "arshjul.yaml"
    plan.write_text(
        "rounds:\n"
        "  - key: a-1\n"
        "    survey: kvartalsvis-behov\n"
        "    opens: 2099-01-14 09:00\n"
        "    closes: 2099-13-29\n"
        "  - key: a-2\n"
        "    survey: finnes-ikke\n"
        "    opens: 2099-03-09 09:00\n"
        "    closes: 2099-03-27\n"
        '    audience: {orgs: ["3301", "9999"]}\n'
        "  - key: a-3\n"
        "    survey: kvartalsvis-behov\n"
        "    opens: 2099-05-11 09:00\n"
        "    closes: 2099-05-29\n"
        "    weekends: sometimes\n",
        encoding="utf-8",
    )
    result = invoke("plan", "apply", str(plan))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [
        f"{plan}:5: rounds[0].closes: '2099-13-29': there is no such date",
        f"{plan}:7: rounds[1].survey: no survey 'finnes-ikke' in the database "
        "(see lyttepost surveys list)",
        f"{plan}:10: rounds[1].audience: unknown organisation code(s): 9999",
        f"{plan}:15: rounds[2].weekends: 'sometimes': write true or false (or yes/no)",
    ]
    keys = {r["key"] for r in as_json("plan", "show")}
    assert keys.isdisjoint({"a-1", "a-2", "a-3"})  # nothing was applied


def test_surveys_validate_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    survey = tmp_path / "skjema.yaml"
    survey.write_text(
        "key: x1\nversion: 1\ntitle: T\nintro: I {ukjent}\nreceipt: R\nquestions:\n"
        "  - {id: a, type: text, text: A, colour: red}\n"
        "  - {id: b, type: single, text: B, options: [{value: Bad, label: X}, {value: ok, label: Y}]}\n"
        "  - {id: c, type: yesno, text: C, when: {question: zz, equals: true}}\n",
        encoding="utf-8",
    )
    result = invoke("surveys", "validate", str(survey))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert [line.split(": ")[0:2] for line in result.stderr.splitlines()] == [
        [f"{survey}:4", "intro"],
        [f"{survey}:7", "questions[0].colour"],
        [f"{survey}:8", "questions[1].options[0].value"],
        [f"{survey}:9", "questions[2].when"],
        ["error", "4 problems; the file is not usable"],
    ]

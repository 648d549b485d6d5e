"""``lyttepost action-plans``: assessing against the criteria, the dissemination plan and
its notice, through the CLI; every wrong input is one ``error:`` line. In-process (Typer's
CliRunner) on one SQLite database for the module."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.db import create_engine, session_factory
from tests.action_plans_support import ks_action, link_need
from tests.views_support import contact, make_round

ENV_PREFIXES = ("DATABASE_", "TELEGRAM_", "TEAMS_", "MICROSOFT_", "PUBLIC_", "HTTP_")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> Result:
    result = invoke(*args)
    assert result.exit_code == 0, f"{args}: {result.output}\n{result.exception!r}"
    return result


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json").stdout)


def error(*args: str) -> str:
    """The one ``error: ...`` line of a command that failed as it should."""
    result = invoke(*args)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def database_call(url: str, work: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _isolate(patch: pytest.MonkeyPatch, folder: Path, url: str) -> None:
    import os

    for name in os.environ:
        if name.startswith(ENV_PREFIXES):
            patch.delenv(name)
    patch.setenv("DATABASE_URL", url)
    patch.chdir(folder)  # no .env from the repository


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("cli-action-plans")
    url = f"sqlite+aiosqlite:///{folder / 'lyttepost.db'}"
    with pytest.MonkeyPatch.context() as patch:
        _isolate(patch, folder, url)
        ok("db", "upgrade")
    yield url


@pytest.fixture(autouse=True)
def environment(database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _isolate(monkeypatch, tmp_path, database)


def an_action(database: str, title: str, linked: tuple[str, ...] = ()) -> int:
    """A KS action whose needs from ``linked`` organisations (each with a reachable contact)
    are linked to it."""

    async def work(session: Any) -> int:
        action = await ks_action(session, title)
        if linked:
            round_id = await make_round(
                session, f"Runde for {title}", list(linked), status="closed"
            )
            for code in linked:
                await contact(session, code, f"Leder {code}", chats=(("telegram", True, None),))
                await link_need(session, action, round_id, code, "need_1")
        return action

    return int(database_call(database, work))


def test_assess_and_read_the_assessment(database: str) -> None:
    action = an_action(database, "Felles rekrutteringskampanje")
    done = as_json("action-plans", "assess", str(action), "3", "met", "--why", "Mange meldte det.")
    assert (done["criterion"], done["rating_name"]) == (3, "oppfylt")
    human = ok("action-plans", "assess", str(action), "9", "not")
    assert human.stdout == f"action {action}, criterion 9: ikke oppfylt\n"
    seen = as_json("action-plans", "assessment", str(action))
    assert [c["rating"] for c in seen["criteria"]] == [None, None, "met"] + [None] * 5 + [
        "not",
        None,
    ]
    listed = ok("action-plans", "assessment", str(action)).stdout
    assert " 3. [oppfylt] Gjenspeiler sektorens behov" in listed
    assert "    Mange meldte det." in listed and " 1. [ikke vurdert]" in listed
    entries = as_json("audit", "--action", "action.assess")
    assert {e["target"] for e in entries} == {f"action:{action}"} and len(entries) == 2


def test_a_plan_is_added_listed_and_its_notice_sent(database: str) -> None:
    staff = as_json("staff", "add", "--name", "Kari", "--email", "kari@ks.no", "--role", "staff")
    action = an_action(database, "Heltidskultur", ("3301", "4601"))
    step = as_json(
        "action-plans", "plan", "add", str(action), "--staff", str(staff["id"]),
        "--channel", "nyhetsbrev", "--due", "2027-03-10", "--description", "Kort sak.",
    )  # fmt: skip
    assert (step["action_id"], step["staff_name"], step["due_on"]) == (action, "Kari", "2027-03-10")
    listed = ok("action-plans", "plan", "list", str(action)).stdout
    assert (
        listed == f"step {step['id']}: due 2027-03-10, nyhetsbrev, Kari [waiting]\n    Kort sak.\n"
    )
    sent = as_json("action-plans", "plan", "notify", str(step["id"]), "--text", "Saken er ute.")
    assert (sent["organisations"], sent["messages"]) == (2, 2)
    assert "notice sent" in ok("action-plans", "plan", "list", str(action)).stdout
    assert "allerede sendt" in error(
        "action-plans", "plan", "notify", str(step["id"]), "--text", "Igjen."
    )


def test_wrong_input_is_one_error_line(database: str) -> None:
    staff = as_json("staff", "add", "--name", "Per", "--email", "per@ks.no", "--role", "staff")
    action = str(an_action(database, "Tiltak"))
    assert "fant ikke tiltak 9999" in error("action-plans", "assessment", "9999")
    assert "fra 1 til 10" in error("action-plans", "assess", action, "11", "met", "--why", "x")
    assert "ukjent vurdering 'kanskje'" in error("action-plans", "assess", action, "2", "kanskje")
    assert "skriv en begrunnelse" in error("action-plans", "assess", action, "2", "met")
    add = ("action-plans", "plan", "add", action, "--channel", "nyhetsbrev")
    assert "YYYY-MM-DD" in error(*add, "--staff", str(staff["id"]), "--due", "10.03.2027")
    assert "ingen ansatt med id 4242" in error(*add, "--staff", "4242", "--due", "2027-03-10")
    assert "fant ikke steg 4242" in error("action-plans", "plan", "notify", "4242", "--text", "x")
    assert "fant ikke tiltak 9999" in error("action-plans", "plan", "list", "9999")

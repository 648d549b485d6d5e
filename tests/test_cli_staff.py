"""``lyttepost staff`` and ``lyttepost audit``: accounts, their secrets, wrong input, and an
audit entry for every write. In-process (Typer's CliRunner) on one SQLite database for the
module; each test uses e-mail addresses of its own."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from bot.cli import app
from services import staff_access
from storage.db import create_engine, session_factory
from storage.orm import Chat, Staff, StaffToken

ENV_PREFIXES = ("DATABASE_", "TELEGRAM_", "TEAMS_", "MICROSOFT_", "PUBLIC_", "HTTP_")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> Result:
    result = invoke(*args)
    assert result.exit_code == 0, f"{args}: {result.output}\n{result.exception!r}"
    return result


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json").stdout)


def error(*args: str, code: int = 1) -> str:
    """The one ``error: ...`` line of a command that failed as it should."""
    result = invoke(*args)
    assert result.exit_code == code and isinstance(result.exception, SystemExit), result.output
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def audit_of(action: str) -> list[dict[str, Any]]:
    """The audit log's entries for one action, newest first."""
    entries: list[dict[str, Any]] = as_json("audit", "--action", action)
    return entries


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
    folder = tmp_path_factory.mktemp("cli-staff")
    url = f"sqlite+aiosqlite:///{folder / 'lyttepost.db'}"
    with pytest.MonkeyPatch.context() as patch:
        _isolate(patch, folder, url)
        ok("db", "upgrade")
    yield url


@pytest.fixture(autouse=True)
def environment(database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _isolate(monkeypatch, tmp_path, database)


def test_add_list_change_role_and_deactivate(database: str) -> None:
    added = as_json("staff", "add", "--name", " Kari  Nordmann ", "--email", "Kari@KS.no",
                    "--role", "staff")  # fmt: skip
    assert added == {"id": added["id"], "name": "Kari Nordmann", "email": "kari@ks.no",
                     "role": "staff", "active": True}  # fmt: skip
    person = ok("staff", "add", "--name", "Per Viken", "--email", "per@ks.no", "--role", "viewer")
    assert person.stdout.endswith("per@ks.no added as viewer\n")
    listed = {s["email"]: s for s in as_json("staff", "list")}
    assert (listed["kari@ks.no"]["role"], listed["kari@ks.no"]["chats"]) == ("staff", 0)
    human = ok("staff", "list").stdout
    assert "Kari Nordmann" in human and "kari@ks.no" in human and "0 chats" in human

    assert ok("staff", "role", "--email", "KARI@ks.no", "admin").stdout == (
        "kari@ks.no is now admin (was staff)\n"
    )
    assert (
        ok("staff", "role", "--email", "kari@ks.no", "admin").stdout == "kari@ks.no is now admin\n"
    )
    assert ok("staff", "deactivate", "--email", "per@ks.no").stdout.startswith(
        "per@ks.no deactivated"
    )
    assert as_json("staff", "deactivate", "--email", "per@ks.no")["already"] is True
    listed = {s["email"]: s for s in as_json("staff", "list")}
    assert listed["per@ks.no"]["active"] is False and "[deactivated]" in ok("staff", "list").stdout

    # One entry per change, in the order made; repeating a no-op records nothing.
    mine = [
        (e["action"], e["door"], e["actor"], e["detail"])
        for e in reversed(as_json("audit"))
        if e["target"] in {f"staff:{added['id']}", f"staff:{listed['per@ks.no']['id']}"}
    ]
    assert mine == [
        ("staff.add", "cli", "cli", {"email": "kari@ks.no", "role": "staff"}),
        ("staff.add", "cli", "cli", {"email": "per@ks.no", "role": "viewer"}),
        ("staff.role", "cli", "cli", {"before": "staff", "after": "admin"}),
        ("staff.deactivate", "cli", "cli", {}),
    ]


def test_wrong_input_is_one_line_and_changes_nothing() -> None:
    ok("staff", "add", "--name", "Ola", "--email", "ola@ks.no", "--role", "staff")
    before = len(as_json("audit"))
    assert error("staff", "add", "--name", "Ola N", "--email", "OLA@ks.no", "--role", "admin") == (
        "error: ola@ks.no already has a staff account (id "
        + str(next(s["id"] for s in as_json("staff", "list") if s["email"] == "ola@ks.no"))
        + ")"
    )
    assert error("staff", "add", "--name", "X", "--email", "x@ks.no", "--role", "boss", code=2) == (
        "error: unknown role 'boss': choose viewer, staff or admin"
    )
    assert error("staff", "add", "--name", "X", "--email", "not-an-address", "--role", "staff") == (
        "error: not an e-mail address: 'not-an-address'"
    )
    assert error("staff", "role", "--email", "ola@ks.no", "chief", code=2).startswith(
        "error: unknown role 'chief'"
    )
    for command in (
        ("staff", "role", "--email", "nobody@ks.no", "admin"),
        ("staff", "deactivate", "--email", "nobody@ks.no"),
        ("staff", "code", "--email", "nobody@ks.no"),
        ("staff", "login-link", "--email", "nobody@ks.no"),
        ("staff", "token", "--email", "nobody@ks.no"),
        ("staff", "tokens", "--email", "nobody@ks.no"),
        ("audit", "--staff", "nobody@ks.no"),
    ):
        assert error(*command) == "error: no staff account with e-mail nobody@ks.no", command
    assert error("staff", "revoke-token", "999999").startswith(
        "error: no live token with id 999999"
    )
    assert error("audit", "--since", "2026-13-01", code=2) == (
        "error: cannot read --since '2026-13-01' as a date (YYYY-MM-DD)"
    )
    assert len(as_json("audit")) == before  # nothing was recorded, nothing changed


def test_a_chat_code_is_printed_with_its_links(monkeypatch: pytest.MonkeyPatch) -> None:
    ok("staff", "add", "--name", "Liv", "--email", "liv@ks.no", "--role", "admin")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@lyttepost_bot")
    monkeypatch.setenv("MICROSOFT_APP_ID", "00000000-0000-0000-0000-000000000001")
    issued = as_json("staff", "code", "--email", "liv@ks.no")
    code = issued["code"]
    assert len(code) == 10 and code.isalnum() and code.upper() == code
    assert issued["link"] == f"https://t.me/lyttepost_bot?start={code}"
    assert issued["teams_link"].endswith(
        f"users=28:00000000-0000-0000-0000-000000000001&message={code}"
    )
    expires = datetime.fromisoformat(issued["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    human = ok("staff", "code", "--email", "liv@ks.no").stdout.splitlines()
    assert human[0].startswith("liv@ks.no: ") and human[1].startswith("  https://t.me/")
    assert "single use" in human[-1]
    [entry, *_] = audit_of("staff.chat_code")
    assert entry["door"] == "cli" and code not in json.dumps(entry)  # never the secret


def test_a_login_link_works_once_for_fifteen_minutes(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("staff", "add", "--name", "Eva", "--email", "eva@ks.no", "--role", "viewer")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://lyttepost.ks.no/")
    link = as_json("staff", "login-link", "--email", "eva@ks.no")
    assert link["url"].startswith("https://lyttepost.ks.no/logg-inn/lenke/")
    expires = datetime.fromisoformat(link["expires_at"])
    assert timedelta(minutes=14) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    secret = link["url"].rsplit("/", 1)[1]

    async def use(session: Any) -> list[str]:
        now = datetime.now(UTC)
        first = await staff_access.redeem(session, secret, "login_link", now)
        again = await staff_access.redeem(session, secret, "login_link", now)
        assert first.staff is not None and first.staff.email == "eva@ks.no"
        return [first.outcome, again.outcome]

    assert database_call(database, use) == ["ok", "used"]
    assert ok("staff", "login-link", "--email", "eva@ks.no").stdout.startswith("https://")
    ok("staff", "deactivate", "--email", "eva@ks.no")
    assert error("staff", "login-link", "--email", "eva@ks.no") == (
        "error: the staff account eva@ks.no is deactivated"
    )
    assert len(audit_of("staff.login_link")) >= 2


def test_api_tokens_are_shown_once_listed_without_secrets_and_revocable(database: str) -> None:
    ok("staff", "add", "--name", "Siri", "--email", "siri@ks.no", "--role", "viewer")
    issued = as_json("staff", "token", "--email", "siri@ks.no", "--label", "Power BI")
    assert issued["label"] == "Power BI" and len(issued["token"]) >= 40
    plain = ok("staff", "token", "--email", "siri@ks.no")
    assert plain.stdout.count("\n") == 1 and "shown once" in plain.stderr

    listed = as_json("staff", "tokens", "--email", "siri@ks.no")
    assert [t["label"] for t in listed] == [None, "Power BI"]
    assert issued["token"] not in json.dumps(listed)
    assert all(t["revoked_at"] is None for t in listed)
    stored = database_call(
        database,
        lambda s: s.scalars(select(StaffToken.token_hash).where(StaffToken.purpose == "api")),
    )
    assert staff_access.hash_secret(issued["token"]) in list(stored)

    assert ok("staff", "revoke-token", str(issued["id"])).stdout == (
        f"token {issued['id']} of siri@ks.no revoked\n"
    )
    assert error("staff", "revoke-token", str(issued["id"])).startswith("error: no live token")
    revoked = {t["id"]: t for t in as_json("staff", "tokens", "--email", "siri@ks.no")}
    assert revoked[issued["id"]]["revoked_at"] is not None
    assert "revoked" in ok("staff", "tokens", "--email", "siri@ks.no").stdout

    actions = [
        (e["action"], e["target"])
        for e in as_json("audit")
        if e["action"].startswith("staff.token")
    ]
    assert actions[0] == ("staff.token_revoke", f"token:{issued['id']}")
    assert ("staff.token", f"token:{issued['id']}") in actions


def test_deactivating_ends_everything_at_once(database: str) -> None:
    account = as_json("staff", "add", "--name", "Tor", "--email", "tor@ks.no", "--role", "admin")
    token = as_json("staff", "token", "--email", "tor@ks.no")

    async def bind(session: Any) -> None:
        session.add(Chat(channel="telegram", address="tor-chat", staff_id=account["id"]))

    database_call(database, bind)
    assert next(s for s in as_json("staff", "list") if s["id"] == account["id"])["chats"] == 1
    ok("staff", "deactivate", "--email", "tor@ks.no")

    async def state(session: Any) -> tuple[Any, ...]:
        chat = await session.scalar(select(Chat).where(Chat.address == "tor-chat"))
        staff = await session.get(Staff, account["id"])
        found = await staff_access.api_staff(session, token["token"], datetime.now(UTC))
        return chat.staff_id, staff.active, found

    assert database_call(database, state) == (None, False, None)
    assert error("staff", "code", "--email", "tor@ks.no") == (
        "error: the staff account tor@ks.no is deactivated"
    )
    again = as_json("staff", "add", "--name", "Tor", "--email", "tor@ks.no", "--role", "viewer")
    assert (again["id"], again["active"], again["role"]) == (account["id"], True, "viewer")


def test_the_audit_log_filters_by_person_action_and_day(database: str) -> None:
    ok("staff", "add", "--name", "Filter", "--email", "filter@ks.no", "--role", "staff")

    async def from_chat(session: Any) -> int:
        from services import audit

        staff = await session.scalar(select(Staff).where(Staff.email == "filter@ks.no"))
        actor = audit.Actor.for_staff(staff, "chat")
        audit.record(session, actor, "round.pause", "round:7", datetime.now(UTC), withheld=3)
        audit.record(session, actor, "round.pause", "round:8", datetime(2020, 1, 1, tzinfo=UTC))
        return int(staff.id)

    staff_id = database_call(database, from_chat)
    by_person = as_json("audit", "--staff", "FILTER@ks.no")
    assert [(e["action"], e["target"], e["door"], e["staff_name"]) for e in by_person] == [
        ("round.pause", "round:7", "chat", "Filter"),
        ("round.pause", "round:8", "chat", "Filter"),
    ]
    assert all(e["actor"] == f"staff:{staff_id}" for e in by_person)
    assert {e["action"] for e in as_json("audit", "--action", "round.pause")} == {"round.pause"}
    recent = as_json("audit", "--since", "2021-01-01", "--action", "round.pause")
    assert "round:8" not in {e["target"] for e in recent} and "round:7" in {
        e["target"] for e in recent
    }
    human = ok("audit", "--staff", "filter@ks.no").stdout.splitlines()
    assert len(human) == 2 and "Filter" in human[0] and "round.pause" in human[0]
    assert human[0].endswith("round:7  (withheld=3)")
    nothing = invoke("audit", "--action", "no.such")
    assert (nothing.exit_code, nothing.stdout, nothing.stderr) == (0, "", "no entries\n")


def test_the_other_commands_that_write_are_in_the_audit_log_too(
    database: str, tmp_path: Path
) -> None:
    start = max((e["id"] for e in as_json("audit")), default=0)
    cid = as_json("contacts", "add", "--org", "1815", "--name", "Vega Leder", "--role", "ks")["id"]
    ok("contacts", "channel", "--contact", str(cid), "--channel", "telegram")
    ok("invites", "create", "--contact", str(cid))
    rid = as_json("rounds", "create", "--survey", "kvartalsvis-behov", "--opens", "2099-01-04",
                  "--closes", "2099-01-29", "--orgs", "1815")["id"]  # fmt: skip
    ok("rounds", "pause", str(rid))
    ok("rounds", "resume", str(rid))
    ok("rounds", "extend", str(rid), "--closes", "2099-02-05")
    ok("rounds", "cancel", str(rid), "--yes")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: Revisjon 2098\nrounds:\n  - key: rev-1\n    survey: kvartalsvis-behov\n"
        "    opens: 2098-03-02 09:00\n    closes: 2098-03-20\n",
        encoding="utf-8",
    )
    ok("plan", "apply", str(plan), "--dry-run")  # changes nothing: no entry
    ok("plan", "apply", str(plan))
    draft = as_json("broadcast", "create", "--to", "orgs:1815", "--text", "Hei")["id"]
    ok("publications", "edit", str(draft), "--text", "Hei igjen")
    ok("contacts", "deactivate", str(cid))
    ok("contacts", "activate", str(cid))

    entries = [e for e in reversed(as_json("audit")) if e["id"] > start]
    assert [(e["action"], e["target"]) for e in entries] == [
        ("contact.add", f"contact:{cid}"),
        ("contact.channel", f"contact:{cid}"),
        ("invite.create", f"contact:{cid}"),
        ("round.create", f"round:{rid}"),
        ("round.pause", f"round:{rid}"),
        ("round.resume", f"round:{rid}"),
        ("round.deadline", f"round:{rid}"),
        ("round.cancel", f"round:{rid}"),
        ("plan.apply", "plan:Revisjon 2098"),
        ("publication.draft", f"publication:{draft}"),
        ("publication.edit", f"publication:{draft}"),
        ("contact.deactivate", f"contact:{cid}"),
        ("contact.activate", f"contact:{cid}"),
    ]
    assert {(e["actor"], e["door"]) for e in entries} == {("cli", "cli")}
    assert entries[8]["detail"] == {"created": 1}


def test_a_preview_goes_to_a_staff_members_chat(database: str) -> None:
    account = as_json("staff", "add", "--name", "Pia", "--email", "pia@ks.no", "--role", "staff")
    draft = as_json("broadcast", "create", "--to", "all", "--text", "Til alle")["id"]
    assert error("publications", "preview", str(draft), "--staff", "pia@ks.no") == (
        "error: pia@ks.no has no chat: lyttepost staff code --email pia@ks.no"
    )
    assert error("publications", "preview", str(draft)) == (
        "error: give either --contact ID or --staff EMAIL"
    )

    async def bind(session: Any) -> None:
        session.add(Chat(channel="console", address="pia-chat", staff_id=account["id"]))

    database_call(database, bind)
    queued = as_json("publications", "preview", str(draft), "--staff", "PIA@ks.no")
    assert queued == {"id": draft, "staff": "pia@ks.no", "messages": 1}

    async def sent(session: Any) -> list[tuple[str, str, Any]]:
        from storage.orm import OutboxMessage

        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.address == "pia-chat")
        )
        return [(r.kind, r.payload["text"], r.contact_id) for r in rows]

    assert database_call(database, sent) == [("preview", "Til alle", None)]
    [entry, *_] = audit_of("publication.preview")
    assert (entry["target"], entry["detail"]) == (
        f"publication:{draft}",
        {"messages": 1, "staff": "PIA@ks.no"},
    )

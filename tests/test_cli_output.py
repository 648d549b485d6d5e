"""What the annual-cycle and publication commands print, for people and with ``--json``.

These pin the output of ``plan``, ``rounds`` (create, status, history and the changes),
``scheduler status``, ``broadcast``, ``notice``, ``publications``,
``report build``, ``members list``, ``surveys list``, ``contacts channel``, ``invites
create``, ``privacy`` and the contacts' life cycle, so their database work can move into
``services/`` without a visible change. Run in-process with Typer's CliRunner on one SQLite database for the
module; each test uses organisations of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app

ENV_PREFIXES = ("DATABASE_", "TELEGRAM_", "TEAMS_", "MICROSOFT_", "SCHEDULER_")
SEGMENT_HELP = (
    "all | county:NN | kind:kommune|fylkeskommune | role:ROLE | respondents:ROUND | "
    "non-respondents:ROUND | invited:ROUND | orgs:NNNN,NN | area:ROUND:AREA | action:ID"
)


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


def ok(*args: str, input: str | None = None) -> Result:
    result = invoke(*args, input=input)
    assert result.exit_code == 0, f"{args}: {result.output}\n{result.exception!r}"
    return result


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json").stdout)


def error(*args: str, input: str | None = None) -> str:
    """The one ``error: ...`` line of a command that failed as it should."""
    result = invoke(*args, input=input)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def lines(text: str) -> list[str]:
    return text.splitlines()


def _isolate(patch: pytest.MonkeyPatch, folder: Path, url: str) -> None:
    import os

    for name in os.environ:
        if name.startswith(ENV_PREFIXES):
            patch.delenv(name)
    patch.setenv("DATABASE_URL", url)
    patch.chdir(folder)  # no .env from the repository


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("cli-output")
    url = f"sqlite+aiosqlite:///{folder / 'lyttepost.db'}"
    with pytest.MonkeyPatch.context() as patch:
        _isolate(patch, folder, url)
        ok("db", "upgrade")
    yield url


@pytest.fixture(autouse=True)
def environment(database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _isolate(monkeypatch, tmp_path, database)


def contact_in_chat(org: str, name: str) -> int:
    """A contact whose console chat exists (so messages to them wait in the outbox)."""
    contact = as_json("contacts", "add", "--org", org, "--name", name, "--role", "radmann")
    ok("chat", "--contact", str(contact["id"]), input="/avslutt\n")
    return int(contact["id"])


# --- plan ------------------------------------------------------------------------------------

PLAN = """\
name: Årshjul 2098
defaults:
  survey: kvartalsvis-behov
  reminders:
    - {days_before: 2, at: "09:00"}
rounds:
  - key: out-1
    title: Første runde 2098
    opens: 2098-01-13 09:00
    closes: CLOSES
    audience: {county: "46"}
  - key: out-2
    title: Andre runde 2098
    opens: 2098-03-10 09:00
    closes: 2098-03-21
    audience: {orgs: ["3301", "46", "1103", "5001", "1804", "4204"]}
"""

AGENDA_FROM_FILE = """\
#0 out-1 «Første runde 2098» – planlagt
    åpner        ma. 13. jan. kl. 09.00
    påminnelser  22. jan. kl. 09.00
    frist        fr. 24. jan. kl. 23.59
    målgruppe    fylke 46

#0 out-2 «Andre runde 2098» – planlagt
    åpner        ma. 10. mars kl. 09.00
    påminnelser  19. mars kl. 09.00
    frist        fr. 21. mars kl. 23.59
    målgruppe    6 utvalgte medlemmer (3301, 46, 1103, 5001, 1804 …)
"""


def agenda(shown: str) -> str:
    """The part of ``plan show`` below the month grids and the legend (echo ends it with \\n)."""
    assert shown.startswith("Årshjul 2098 (tider i Europe/Oslo)\n") and shown.endswith("\n\n")
    return shown.split("Tegnforklaring:", 1)[1].split("\n\n", 1)[1].removesuffix("\n")


def test_plan_apply_and_show_print_what_they_did(tmp_path: Path) -> None:
    plan = tmp_path / "arshjul.yaml"
    plan.write_text(PLAN.replace("CLOSES", "2098-01-24"), encoding="utf-8")

    from_file = ok("plan", "show", str(plan), "--year", "2098").stdout
    assert agenda(from_file) == AGENDA_FROM_FILE
    assert as_json("plan", "show", str(plan))[0] == {
        "id": 0, "key": "out-1", "title": "Første runde 2098", "status": "planned",
        "paused": False, "opens_at": "2098-01-13T08:00:00+00:00",
        "closes_at": "2098-01-24T22:59:00+00:00", "reminders": ["2098-01-22T08:00:00+00:00"],
        "audience": "fylke 46",
    }  # fmt: skip

    dry = ok("plan", "apply", str(plan), "--dry-run")
    assert [re.sub(r"round +\d+", "round N", line) for line in lines(dry.stdout)] == [
        "out-1        round N planned   created",
        "out-2        round N planned   created",
    ]
    assert dry.stderr == "dry run: nothing was changed\n"
    applied = ok("plan", "apply", str(plan))
    ids = {r["key"]: r["id"] for r in as_json("plan", "apply", str(plan))["rounds"]}
    assert lines(applied.stdout) == [
        f"out-1        round {ids['out-1']:>3} planned   created",
        f"out-2        round {ids['out-2']:>3} planned   created",
    ]
    assert applied.stderr == "plan applied\n"

    from_database = ok("plan", "show", "--year", "2098").stdout
    assert agenda(from_database) == (
        AGENDA_FROM_FILE.replace("#0 out-1", f"#{ids['out-1']} out-1")
        .replace("#0 out-2", f"#{ids['out-2']} out-2")
        .replace("målgruppe    fylke 46", "målgruppe    fylke 46 (44)")
    )
    (first,) = [r for r in as_json("plan", "show") if r["key"] == "out-1"]
    assert (first["id"], first["audience"], first["reminders"]) == (
        ids["out-1"], "fylke 46 (44)", ["2098-01-22T08:00:00+00:00"],
    )  # fmt: skip

    edited = tmp_path / "endret.yaml"
    edited.write_text(
        PLAN.replace("CLOSES", "2098-01-25T12:00").split("  - key: out-2")[0], encoding="utf-8"
    )
    changed = ok("plan", "apply", str(edited))
    assert lines(changed.stdout) == [
        f"out-1        round {ids['out-1']:>3} planned   updated (closes)"
    ]
    assert lines(changed.stderr) == [
        f"note: round {ids['out-2']} (out-2, planned) is not in the file; it is left as it is "
        "(lyttepost rounds cancel ID to cancel it)",
        "plan applied",
    ]
    again = as_json("plan", "apply", str(edited))
    assert again["not_in_file"] == [{"key": "out-2", "id": ids["out-2"], "status": "planned"}]
    assert again["dry_run"] is False

    jobs = ok("scheduler", "status").stdout
    assert jobs.startswith("scheduler: no process runs it now\n")
    assert f"  2098-01-13 09:00  round:{ids['out-1']}:open\n" in jobs
    assert f"  2098-01-25 12:00  round:{ids['out-1']}:close\n" in jobs
    status = as_json("scheduler", "status")
    assert status["holder"] is None and status["expires_at"] is None
    assert {"id": f"round:{ids['out-1']}:open", "at": "2098-01-13T08:00:00+00:00"} in status["jobs"]
    ok("rounds", "cancel", str(ids["out-2"]), "--yes")
    ok("rounds", "cancel", str(ids["out-1"]), "--yes")


# --- rounds: status, history and changes -------------------------------------------------------

HISTORY_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d  (\S+) +(\S+) +(.*)")


def test_round_changes_say_how_many_were_told_and_history_lists_them() -> None:
    contact_in_chat("1804", "Bodø Leder")
    created = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "1804", "--closes", "2099-12-31"
    )  # fmt: skip
    round_id = str(created["id"])

    assert ok("rounds", "pause", round_id).stdout == (
        f"round {round_id} paused; 1 undelivered message held\n"
    )
    extended = ok("rounds", "extend", round_id, "--closes", "2099-12-30T12:00").stdout
    assert re.fullmatch(
        rf"round {round_id}: opens \d+\. \w+ \d{{4}} kl\. \d\d\.\d\d, closes 30\. desember 2099 "
        r"kl\. 12\.00; 1 member told of the new deadline\n",
        extended,
    ), extended
    assert ok("rounds", "resume", round_id).stdout == (
        f"round {round_id} resumed; 1 held message released\n"
    )
    moved = as_json("rounds", "reschedule", round_id, "--closes", "2099-12-31")
    assert moved == {
        "id": created["id"], "status": "open", "paused": False,
        "opens_at": moved["opens_at"], "closes_at": "2099-12-31T22:59:00+00:00",
        "withdrawn": 0, "notified": 1, "released": 0, "incomplete": 0,
    }  # fmt: skip

    status = ok("rounds", "status", round_id).stdout
    assert lines(status)[1:] == [
        "Invitert: 1 av 1 · påbegynt: 0 · sendt inn: 0 (0%)",
        "",
        "Per fylke (sendt inn / medlemmer):",
        "  Nordland: 0/1 (0%)",
        "",
        "Ikke svart (1; påbegynte og inviterte først):",
        "  1804 Bodø – invitert",
    ]
    assert as_json("rounds", "status", round_id)["invited"] == 1

    history = [
        HISTORY_LINE.fullmatch(line) for line in lines(ok("rounds", "history", round_id).stdout)
    ]
    assert all(history), history
    assert [(m[1], re.sub(r"=\d+$", "=N", m[3]) if m[1] == "opened" else m[3])
            for m in history if m] == [
        ("opened", "survey_version=N"),
        ("invited", "queued=1"),
        ("paused", "held=1"),
        ("rescheduled", f"opens_at={moved['opens_at']}, closes_at=2099-12-30T11:00:00+00:00, "
         "notified=1"),
        ("resumed", "released=1"),
        ("rescheduled", f"opens_at={moved['opens_at']}, closes_at=2099-12-31T22:59:00+00:00, "
         "notified=1"),
    ]  # fmt: skip
    events = as_json("rounds", "history", round_id)
    assert [(m[1], m[2]) for m in history if m] == [(e["action"], e["actor"]) for e in events]
    assert events[1] == {
        "at": events[1]["at"], "actor": "cli", "action": "invited", "detail": {"queued": 1},
    }  # fmt: skip
    assert events[2]["actor"].startswith("cli")

    assert ok("rounds", "cancel", round_id, "--yes").stdout == (
        f"round {round_id} cancelled; 3 undelivered messages withdrawn, 0 members told\n"
    )  # the invitation and two deadline notices never reached the chat
    assert (
        error("rounds", "resume", round_id)
        == f"error: runde {round_id} er avlyst og kan ikke gjenopptas"
    )


def test_rounds_reschedule_of_a_planned_round_and_errors() -> None:
    planned = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "1806",
        "--opens", "2099-06-01T09:00", "--closes", "2099-06-20",
    )  # fmt: skip
    round_id = str(planned["id"])
    moved = ok("rounds", "reschedule", round_id, "--opens", "2099-06-02", "--closes", "2099-06-21")
    assert moved.stdout == (
        f"round {round_id}: opens 2. juni 2099 kl. 08.00, closes 21. juni 2099 kl. 23.59; "
        "0 members told of the new deadline\n"
    )
    assert ok("rounds", "pause", round_id).stdout == (
        f"round {round_id} paused; 0 undelivered messages held\n"
    )
    assert error("rounds", "reschedule", round_id) == "error: give --opens and/or --closes"
    assert error("rounds", "pause", "99999") == "error: no round with id 99999"
    assert error("rounds", "history", "99999") == "error: no history for round 99999"
    assert as_json("rounds", "history", "99999") == []
    assert error("rounds", "status", "99999") == "error: no round with id 99999"
    assert ok("rounds", "cancel", round_id, "--yes").stdout == (
        f"round {round_id} cancelled; 0 undelivered messages withdrawn, 0 members told\n"
    )


def test_rounds_close_says_what_became_of_the_half_done_answers() -> None:
    author = as_json("contacts", "add", "--org", "1811", "--name", "Bindal Leder", "--role", "rd")
    created = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "1811", "--closes", "2099-12-31"
    )  # fmt: skip
    round_id = str(created["id"])
    ok("chat", "--contact", str(author["id"]), input="/svar\n/avslutt\n")  # started, not sent
    closed = ok("rounds", "close", round_id, "--yes").stdout
    told = (
        "1 half-done answer kept as incomplete, 1 author told",
        "1 half-done answer kept as incomplete; its author is told when members may be "
        "messaged again (quiet hours)",
    )  # which one depends on the time of day
    assert closed in {
        f"round {round_id} closed; {t}; 0 undelivered messages withdrawn\n" for t in told
    }


# --- broadcasts, notices and publications ------------------------------------------------------


def test_drafts_are_created_with_files_and_their_reach(tmp_path: Path) -> None:
    contact_in_chat("1815", "Vega Leder")
    as_json("contacts", "add", "--org", "1816", "--name", "Vevelstad Leder", "--role", "radmann")
    text = tmp_path / "tekst.txt"
    text.write_text("  Hei fra KS  \n", encoding="utf-8")
    image = tmp_path / "figur.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    document = tmp_path / "notat.pdf"
    document.write_bytes(b"%PDF-1.4 notat")

    made = ok(
        "broadcast", "create", "--to", "orgs:1815,1816", "--text-file", str(text),
        "--image", str(image), "--document", str(document),
    )  # fmt: skip
    draft_id = int(made.stdout.split()[1])
    assert made.stdout == (
        f"draft {draft_id} created; it would reach 1 contact (1 unreachable). Next: lyttepost "
        f"publications preview {draft_id} --contact ID, then lyttepost publications send {draft_id}\n"
    )
    shown = as_json("publications", "show", str(draft_id))
    assert shown == {
        "id": draft_id, "kind": "broadcast", "title": "Melding fra KS", "status": "draft",
        "round": None, "text": "Hei fra KS", "translations": {},
        "attachments": shown["attachments"],
        "segment": {"kind": "orgs", "value": "1815,1816"}, "recipients": 0,
    }  # fmt: skip
    assert [(a["kind"], a["filename"]) for a in shown["attachments"]] == [
        ("photo", "figur.png"), ("document", "notat.pdf"),
    ]  # fmt: skip
    assert ok("publications", "show", str(draft_id)).stdout == (
        f"#{draft_id} broadcast «Melding fra KS» – draft\n\nHei fra KS\n"
        "[photo: figur.png]\n[document: notat.pdf]\n"
    )
    as_broadcast = as_json(
        "broadcast", "create", "--to", "orgs:1816", "--text", "x", "--title", "T"
    )
    assert {k: as_broadcast[k] for k in ("kind", "status", "recipients", "unreachable")} == {
        "kind": "broadcast", "status": "draft", "recipients": 0, "unreachable": 1,
    }  # fmt: skip

    round_ = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "1815",
        "--opens", "2099-06-01T09:00", "--closes", "2099-06-20",
    )  # fmt: skip
    notice = ok("notice", "create", "--round", str(round_["id"]), "--text", "Vi gjør dette")
    notice_id = int(notice.stdout.split()[1])
    assert notice.stdout == (
        f"draft {notice_id} created. Next: lyttepost publications preview {notice_id} --contact "
        f"ID, then lyttepost publications send {notice_id}\n"
    )
    assert (
        as_json("notice", "create", "--round", str(round_["id"]), "--text", "Mer")["recipients"]
        is None
    )
    listed = {int(line.split()[0]): line for line in lines(ok("publications", "list").stdout)}
    assert listed[draft_id] == f"{draft_id:>4} broadcast draft     Melding fra KS"
    assert listed[notice_id] == (
        f"{notice_id:>4} notice    draft     Dette gjør KS med innspillene deres "
        f"(round {round_['id']})"
    )
    (row,) = [p for p in as_json("publications", "list") if p["id"] == notice_id]
    assert row == {
        "id": notice_id, "kind": "notice", "title": "Dette gjør KS med innspillene deres",
        "status": "draft", "round": round_["id"], "recipients": 0, "published_at": None,
    }  # fmt: skip

    missing = tmp_path / "finnes-ikke.png"
    assert error("notice", "create", "--round", "99999", "--text", "x") == (
        "error: no round with id 99999"
    )
    assert error("notice", "create", "--round", str(round_["id"]), "--text", "x",
                 "--text-file", str(text)) == "error: give --text or --text-file"  # fmt: skip
    assert error("broadcast", "create", "--to", "all", "--text", "x", "--image", str(missing)) == (
        f"error: {missing}: No such file or directory"
    )
    assert error("broadcast", "create", "--to", "all", "--text", "") == (
        "error: en melding må ha tekst eller en fil"
    )
    assert error("broadcast", "create", "--to", "orgs:9999", "--text", "x") == (
        "error: unknown organisation code(s): 9999"
    )
    ok("rounds", "cancel", str(round_["id"]), "--yes")


def test_a_draft_is_edited_previewed_sent_and_reported(tmp_path: Path) -> None:
    reader = contact_in_chat("1818", "Herøy Leder")
    as_json("contacts", "add", "--org", "1820", "--name", "Alstahaug Leder", "--role", "radmann")
    draft = as_json("broadcast", "create", "--to", "orgs:1818,1820", "--text", "Første tekst")
    draft_id = str(draft["id"])

    assert ok("publications", "edit", draft_id, "--text", "Hei igjen").stdout == (
        f"draft {draft_id}: text replaced (9 characters)\n"
    )
    assert as_json("publications", "preview", draft_id, "--contact", str(reader)) == {
        "id": draft["id"], "contact": reader, "messages": 1,
    }  # fmt: skip
    assert as_json("publications", "edit", draft_id, "--text", "Hei igjen!") == {
        "id": draft["id"],
        "language": "nb",
        "characters": 10,
        "languages": ["nb"],
    }  # fmt: skip (a new version, so the next preview is not the same one again)
    assert ok("publications", "preview", draft_id, "--contact", str(reader)).stdout == (
        f"preview queued: 1 message to contact {reader}\n"
    )
    assert error("publications", "preview", draft_id, "--contact", "99999") == (
        "error: fant ikke kontakt 99999"
    )
    assert error("publications", "preview", "99999", "--contact", str(reader)) == (
        "error: fant ikke utkast 99999"
    )

    reach = (
        "«utvalgte medlemmer (1818,1820)»: 1 contact in 1 organisation will get it; "
        "1 contact has no chat Lyttepost can reach."
    )
    declined = invoke("publications", "send", draft_id, input="n\n")
    assert declined.exit_code == 1 and declined.stderr.startswith(reach + "\nSend it now? [y/N]")
    sent = ok("publications", "send", draft_id, "--yes", "--no-wait")
    assert lines(sent.stderr) == [reach, "queued for 1 contact; lyttepost run delivers it"]
    assert lines(sent.stdout) == [
        f"publication {draft_id}: 0 of 2 delivered, 1 pending, 1 unreachable, 0 failed, "
        "0 uncertain",
        "  unreachable: 1820 Alstahaug – Alstahaug Leder",
    ]
    report = as_json("publications", "report", draft_id)
    assert report == {
        "publication": draft["id"], "status": "published", "recipients": 2, "delivered": 0,
        "pending": 1, "failed": [], "uncertain": [],
        "unreachable": [{"contact_id": report["unreachable"][0]["contact_id"],
                         "name": "Alstahaug Leder", "org": "1820", "org_name": "Alstahaug",
                         "reason": "no chat"}],
    }  # fmt: skip
    assert ok("publications", "report", draft_id).stdout == sent.stdout
    listed = [
        line for line in lines(ok("publications", "list").stdout) if line.split()[0] == draft_id
    ]
    assert listed == [f"{draft_id:>4} broadcast published Melding fra KS, 1 recipient"]
    (row,) = [p for p in as_json("publications", "list") if p["id"] == draft["id"]]
    assert row["status"] == "published" and row["recipients"] == 1 and row["published_at"]

    assert error("publications", "send", draft_id, "--yes") == (
        f"error: publication {draft_id} is already published"
    )
    assert error("publications", "edit", draft_id, "--text", "x") == (
        f"error: utkast {draft_id} er allerede sendt"
    )
    assert error("publications", "send", "99999", "--yes") == "error: fant ikke utkast 99999"
    round_ = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "1818",
        "--opens", "2099-06-01T09:00", "--closes", "2099-06-20",
    )  # fmt: skip
    notice = as_json("notice", "create", "--round", str(round_["id"]), "--text", "Slik")
    assert error("publications", "send", str(notice["id"]), "--yes") == (
        f"error: say who gets it: --to {SEGMENT_HELP}"
    )
    nobody = invoke("publications", "send", str(notice["id"]), "--to", "orgs:1820", "--yes")
    assert nobody.exit_code == 1 and lines(nobody.stderr) == [
        "«utvalgte medlemmer (1820)»: 0 contacts in 0 organisations will get it; 1 contact has "
        "no chat Lyttepost can reach.",
        "error: nobody to send to",
    ]
    assert error("publications", "send", str(notice["id"]), "--to", "county:99", "--yes") == (
        "error: no members in county 99"
    )
    assert error("publications", "report", "99999") == "error: fant ikke utkast 99999"
    ok("rounds", "cancel", str(round_["id"]), "--yes")


# --- report build --------------------------------------------------------------------------------


def test_report_build_lists_its_files_and_the_draft(tmp_path: Path) -> None:
    author = as_json(
        "contacts", "add", "--org", "1822", "--name", "Leirfjord Leder", "--role", "radmann"
    )
    created = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "1822", "--closes", "2099-12-31"
    )  # fmt: skip
    round_id = str(created["id"])
    assert error("report", "build", round_id, "--out", str(tmp_path / "early")) == (
        f"error: runde {round_id} er ikke stengt ennå; oppsummeringen lages når svarene er endelige"
    )
    ok("chat", "--contact", str(author["id"]), input="/svar\n/avslutt\n")
    ok("rounds", "close", round_id, "--yes")

    out = tmp_path / "rapport"
    built = ok("report", "build", round_id, "--out", str(out))
    files = sorted(str(p) for p in out.iterdir())
    assert {Path(f).name for f in files} >= {"report.pdf", "report.xlsx", "summary.json",
                                            "summary.txt"}  # fmt: skip
    assert lines(built.stdout) == files
    draft_id = int(built.stderr.split()[1])
    assert built.stderr == (
        f"draft {draft_id} made: lyttepost publications show {draft_id}, preview {draft_id} "
        f"--contact ID, send {draft_id} --to invited:{round_id}\n"
    )
    shown = as_json("publications", "show", str(draft_id))
    assert (shown["kind"], shown["round"], shown["status"]) == ("summary", created["id"], "draft")

    bare = tmp_path / "uten-utkast"
    document = as_json("report", "build", round_id, "--out", str(bare), "--no-draft")
    assert document == {
        "round": created["id"], "draft": None, "files": sorted(str(p) for p in bare.iterdir()),
    }  # fmt: skip
    assert [Path(f).name for f in document["files"]] == [Path(f).name for f in files]
    default = ok("report", "build", round_id, "--no-draft")
    assert lines(default.stdout)[0].startswith(f"exports/round-{round_id}-report/")
    assert default.stderr == ""
    assert error("report", "build", "99999", "--out", str(tmp_path / "x")) == (
        "error: no round with id 99999"
    )


# --- members, surveys, contacts' channel, invitations ------------------------------------------


def test_members_and_surveys_list_print_one_line_each() -> None:
    troms = ok("members", "list", "--county", "55").stdout
    assert lines(troms)[:3] == [
        "  55  Troms fylkeskommune            fylkeskommune             Troms",
        "5501  Tromsø                         kommune                   Troms",
        "5503  Harstad                        kommune                   Troms",
    ]
    rows = as_json("members", "list", "--county", "55")
    assert len(rows) == len(lines(troms)) == 22
    assert rows[1] == {
        "org": "5501", "name": "Tromsø", "kind": "kommune", "county": "55", "county_name": "Troms",
    }  # fmt: skip
    assert [r["org"] for r in as_json("members", "list", "--county", "3")] == ["0301"]  # 03: Oslo
    everyone = as_json("members", "list")
    assert len(everyone) == len(lines(ok("members", "list").stdout)) == 371
    assert [r["org"] for r in everyone] == sorted(r["org"] for r in everyone)

    # The module's database is shared: earlier tests' rounds are counted on the same line.
    (survey,) = as_json("surveys", "list")
    uses = ", ".join(f"{n} {status}" for status, n in survey["rounds"].items())
    assert ok("surveys", "list").stdout == (
        "kvartalsvis-behov v1: Kvartalsvis behovsinnhenting (kvartalsvis-behov.yaml)"
        " – newest: rounds that open ask it" + (f"; rounds: {uses}" if uses else "") + "\n"
    )
    assert survey == {
        "key": "kvartalsvis-behov", "version": 1, "title": "Kvartalsvis behovsinnhenting",
        "source": "kvartalsvis-behov.yaml", "id": survey["id"], "created_at": survey["created_at"],
        "newest": True, "rounds": survey["rounds"],
    }  # fmt: skip
    assert all(isinstance(n, int) and n > 0 for n in survey["rounds"].values())
    assert datetime.fromisoformat(survey["created_at"]).utcoffset() is not None


def test_contacts_channel_says_where_a_contact_is_reached() -> None:
    contact = contact_in_chat("5503", "Harstad Leder")
    assert ok("contacts", "channel", "--contact", str(contact), "--channel", "teams").stdout == (
        f"contact {contact}: reached on teams (no teams chat yet)\n"
    )
    assert as_json("contacts", "channel", "--contact", str(contact), "--channel", "telegram") == {
        "id": contact, "preferred_channel": "telegram", "channels": ["console"],
    }  # fmt: skip
    (listed,) = as_json("contacts", "list", "--org", "5503")
    assert listed["preferred_channel"] == "telegram"
    assert ok("contacts", "channel", "--contact", str(contact), "--channel", "auto").stdout == (
        f"contact {contact}: reached on auto\n"
    )
    (listed,) = as_json("contacts", "list", "--org", "5503")
    assert listed["preferred_channel"] is None
    assert error("contacts", "channel", "--contact", str(contact), "--channel", "fax") == (
        "error: --channel is telegram, teams or auto"
    )
    assert error("contacts", "channel", "--contact", "99999", "--channel", "teams") == (
        "error: no contact with id 99999"
    )


def test_invites_create_prints_codes_and_says_when_none_are_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = as_json("contacts", "add", "--org", "5510", "--name", "Kvæfjord Leder",
                    "--role", "radmann", "--email", "leder@kvafjord.kommune.no")["id"]  # fmt: skip
    second = as_json("contacts", "add", "--org", "5512", "--name", "Tjeldsund Leder",
                     "--role", "radmann")["id"]  # fmt: skip
    unlinked = invoke("invites", "create", "--contact", str(first))
    assert unlinked.exit_code == 0 and unlinked.stderr == (
        "warning: no TELEGRAM_BOT_USERNAME, TELEGRAM_BOT_TOKEN or MICROSOFT_APP_ID; links left out\n"
    )
    assert re.fullmatch(rf"{first:>5} 5510 Kvæfjord Leder {' ' * 15} [A-Z2-9]{{10}}  \n",
                        unlinked.stdout), unlinked.stdout  # fmt: skip

    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@lyttepost_bot")
    shown = ok("invites", "create", "--contact", str(first))
    code = shown.stdout.split()[4]
    assert (shown.stdout, shown.stderr) == (
        f"{first:>5} 5510 Kvæfjord Leder {' ' * 15} {code}  "
        f"https://t.me/lyttepost_bot?start={code}\n",
        "",
    )
    issued = {row["contact_id"]: row for row in as_json("invites", "create", "--all-pending")}
    assert first not in issued  # its code is still live
    row = issued[second]
    assert list(row) == ["contact_id", "name", "email", "org", "org_name", "code", "link",
                         "teams_link", "expires_at"]  # fmt: skip
    assert row == {
        "contact_id": second, "name": "Tjeldsund Leder", "email": None, "org": "5512",
        "org_name": "Dielddanuorri", "code": row["code"],
        "link": f"https://t.me/lyttepost_bot?start={row['code']}", "teams_link": None,
        "expires_at": row["expires_at"],
    }  # fmt: skip
    left = datetime.fromisoformat(row["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=59, hours=23) < left <= timedelta(days=60)
    none_left = ok("invites", "create", "--all-pending")
    assert (none_left.stdout, none_left.stderr) == ("", "no contacts need a code\n")
    assert as_json("invites", "create", "--all-pending") == []

    assert error("invites", "create") == "error: give either --contact ID or --all-pending"
    assert error("invites", "create", "--contact", str(first), "--all-pending") == (
        "error: give either --contact ID or --all-pending"
    )
    ok("contacts", "deactivate", str(second))
    assert error("invites", "create", "--contact", str(second)) == (
        f"error: no active contact with id {second} (see lyttepost contacts list)"
    )
    assert error("invites", "create", "--contact", "99999") == (
        "error: no active contact with id 99999 (see lyttepost contacts list)"
    )


# --- rounds create -------------------------------------------------------------------------------


def test_rounds_create_opens_now_or_plans_and_refuses_what_it_cannot_make() -> None:
    contact_in_chat("5514", "Ibestad Leder")
    opened = ok(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "5514", "--closes", "2099-12-31"
    )  # fmt: skip
    round_id = int(opened.stdout.split()[1])
    assert opened.stdout == f"round {round_id} open; 1 invitation queued\n"
    events = as_json("rounds", "history", str(round_id))
    assert [(e["action"], e["actor"]) for e in events] == [("opened", "cli"), ("invited", "cli")]
    (listed,) = [r for r in as_json("rounds", "list") if r["id"] == round_id]
    assert (listed["title"], listed["status"], listed["audience"]) == (
        "Kvartalsvis behovsinnhenting", "open", {"kind": "orgs", "codes": ["5514"]},
    )  # fmt: skip

    planned = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--county", "55",
        "--opens", "2099-06-01", "--closes", "2099-06-20", "--title", "Troms i juni",
    )  # fmt: skip
    assert planned == {
        "id": planned["id"], "status": "planned", "survey": "kvartalsvis-behov",
        "survey_version": 1, "invitations_queued": 0,
    }  # fmt: skip
    (listed,) = [r for r in as_json("rounds", "list") if r["id"] == planned["id"]]
    assert (listed["title"], listed["opens_at"], listed["organisations"]) == (
        "Troms i juni", "2099-06-01T06:00:00+00:00", 22,
    )  # fmt: skip
    started = as_json(
        "rounds", "create", "--survey", "kvartalsvis-behov", "--orgs", "5516",
        "--opens", "2001-01-01T09:00", "--closes", "2099-06-20",
    )  # fmt: skip
    assert (started["status"], started["invitations_queued"]) == ("open", 0)  # an opening passed

    survey = ("rounds", "create", "--survey", "kvartalsvis-behov")
    assert error(*survey, "--closes", "2001-01-01") == "error: the closing date has passed"
    assert error("rounds", "create", "--survey", "ukjent", "--closes", "2099-01-01") == (
        "error: no survey 'ukjent'; see 'lyttepost surveys list' (run 'lyttepost db upgrade' first)"
    )
    assert error(*survey, "--closes", "2099-01-01", "--orgs", "5514", "--county", "55") == (
        "error: give --orgs or --county, not both"
    )
    assert error(*survey, "--closes", "2099-01-01", "--opens", "2099-02-01") == (
        "error: the round must close after it opens"
    )
    assert error(*survey, "--closes", "2099-01-01", "--orgs", "9999") == (
        "error: unknown organisation code(s): 9999"
    )
    assert error(*survey, "--closes", "snart") == (
        "error: cannot read 'snart' as a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM)"
    )
    for made in (round_id, planned["id"], started["id"]):
        ok("rounds", "cancel", str(made), "--yes")


# --- privacy and the contacts' life cycle --------------------------------------------------------

ERASED = """\
contact {id} erased:
       1  chats (addresses, Teams references)
       0  invitation codes
       0  failed code attempts
       2  messages from them
       2  messages to them
       0    of which still queued
       0  free-text answers they wrote
       0  responses unlinked (the organisation's answers stay)
       0  round invitations unlinked
       0  delivery lists naming them
       0  history entries with them as actor
       0  messages to others naming them (name removed)
"""


def test_privacy_and_life_cycle_commands_print_what_they_did() -> None:
    contact = contact_in_chat("5518", "Loabák Leder")
    cid = str(contact)
    assert ok("contacts", "deactivate", cid).stdout == (
        f"contact {cid} deactivated: 1 chat unbound, 0 codes revoked, 0 queued messages withdrawn\n"
    )
    assert ok("contacts", "deactivate", cid).stdout == f"contact {cid} was deactivated already\n"
    assert ok("contacts", "list", "--org", "5518").stdout == (
        f"{contact:>5} 5518 Loabák Leder                   radmann            not registered"
        "  [deactivated]\n"
    )
    assert ok("contacts", "activate", cid).stdout == (
        f"contact {cid} activated; give them a code: lyttepost invites create --contact {cid}\n"
    )
    assert ok("contacts", "activate", cid).stdout == f"contact {cid} is active already\n"
    assert error("contacts", "activate", "99999") == "error: no contact with id 99999"
    ok("chat", "--contact", cid, input="/avslutt\n")

    exported = ok("privacy", "export", "--contact", cid)
    document = json.loads(exported.stdout)
    assert (document["status"], document["contact"]["name"], exported.stderr) == (
        "active", "Loabák Leder", "",
    )  # fmt: skip
    asked = invoke("privacy", "erase", "--contact", cid)
    assert asked.exit_code == 1 and asked.stdout == (
        ERASED.replace("contact {id} erased:", f"Erasing contact {cid} (active) would remove:")
    )
    assert asked.stderr == f"nothing erased; run again with --yes to erase contact {cid}\n"
    erased = ok("privacy", "erase", "--contact", cid, "--yes")
    assert (erased.stdout, erased.stderr) == (ERASED.format(id=cid), "")
    assert ok("privacy", "erase", "--contact", cid).stdout == f"contact {cid} is erased already\n"
    again = ok("privacy", "export", "--contact", cid)
    assert again.stderr.startswith(f"contact {cid} was erased on ")
    assert error("privacy", "export", "--contact", "99999") == "error: no contact with id 99999"
    assert error("privacy", "erase", "--contact", "99999") == "error: no contact with id 99999"

    swept = ok("privacy", "sweep").stdout
    assert re.fullmatch(
        r"rounds erased: none; free-text answers 0, responses unlinked 0; inbound messages "
        r"deleted 0, sent texts removed 0, code attempts deleted 0\n",
        swept,
    ), swept
    status = lines(ok("privacy", "status").stdout)
    assert re.fullmatch(r"daily sweep: next \d{4}-\d\d-\d\d 04:30, last \d{4}-\d\d-\d\d", status[0])
    assert status[1] == "rounds (free text and links to persons):"
    assert re.fullmatch(r"contacts: \d+ active, \d+ deactivated, [1-9]\d* erased", status[-1])

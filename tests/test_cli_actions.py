"""``lyttepost actions``: what each command prints, that links tell members through the
outbox, and one clear error line (exit code 1) for every wrong input."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import create_engine, session_factory
from storage.orm import OutboxMessage
from tests.e2e_support import Deployment
from tests.views_support import NOW, contact, make_round, need_answers, respond


async def _seed(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            round_id = await make_round(session, "Vår 2027", ["3301", "4601"], status="closed",
                                        opens_at=NOW - timedelta(days=30),
                                        closes_at=NOW - timedelta(days=2))  # fmt: skip
            ids = {
                "round": round_id,
                "drammen": await respond(session, round_id, "3301", need_answers(
                    {"helse": ("Flere sykepleiere", 5, False, ["ks"])})),
                "bergen": await respond(session, round_id, "4601", need_answers(
                    {"helse": ("Flere fastleger", 4, False, ["staten"]),
                     "digitalisering": ("Felles journal", 3, False, ["ks"])})),
            }  # fmt: skip
            await contact(session, "3301", "Kari", chats=(("telegram", True, NOW),))
            await contact(session, "4601", "Bodil", chats=(("telegram", True, NOW),))
        return ids
    finally:
        await engine.dispose()


async def _notices(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "action_notice")
            )
            return [row.payload["text"] for row in rows]
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    workdir = tmp_path_factory.mktemp("cli-actions")
    deployment = Deployment(
        database_url=f"sqlite+aiosqlite:///{workdir / 'cli.db'}",
        api_base_url="http://127.0.0.1:9/bot",
        workdir=workdir,
    )
    deployment.cli_json("db", "upgrade")
    return deployment


@pytest.fixture(scope="module")
def ids(deployment: Deployment) -> dict[str, int]:
    return asyncio.run(_seed(deployment.database_url))


def one_error(deployment: Deployment, *args: str) -> str:
    result = deployment.cli(*args, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_create_link_status_show_and_list(deployment: Deployment, ids: dict[str, int]) -> None:
    created = deployment.cli_json(
        "actions", "create", "Rekrutteringsløft", "--description", "Felles kampanje",
        "--status", "planlagt", "--unit", "KS Arbeidsgiverpolitikk",
        "--starts", "2027-04-01", "--ends", "2027-09-30",
    )  # fmt: skip
    action = str(created["id"])
    assert created["status"] == "planned"
    drammen = f"{ids['drammen']}:omrader.helse.behov"
    bergen = [
        f"{ids['bergen']}:omrader.helse.behov",
        f"{ids['bergen']}:omrader.digitalisering.behov",
    ]
    # Several needs after one --needs, and an area of the round.
    linked = deployment.cli_json(
        "actions", "link", action, "--needs", drammen, *bergen, "--area", f"{ids['round']}:helse"
    )
    assert linked["needs"] == [drammen, *bergen] and linked["areas"] == [f"{ids['round']}:helse"]
    assert linked["organisations_told"] == 2
    again = deployment.cli("actions", "link", action, "--needs", drammen)
    assert "linked 0 needs and 0 areas" in again.stdout and f"already so: {drammen}" in again.stdout
    texts = asyncio.run(_notices(deployment.database_url))
    assert len(texts) == 2 and any("«Flere sykepleiere»" in t for t in texts)

    status = deployment.cli("actions", "status", action, "in_progress")
    assert status.stdout.strip() == f"action {action}: planned → in_progress; 2 organisations told"
    assert "already in_progress" in deployment.cli("actions", "status", action, "i gang").stdout
    assert len(asyncio.run(_notices(deployment.database_url))) == 4

    shown = deployment.cli_json("actions", "show", action)
    assert shown["status_name"] == "i gang" and shown["organisations"] == 2
    assert [n["org"] for n in shown["needs"]] == ["3301", "4601", "4601"]
    assert shown["areas"][0]["area_label"] == "Helse og omsorg"
    human = deployment.cli("actions", "show", action).stdout
    assert "3 needs from 2 organisations" in human and "«Flere fastleger»" in human

    listed = deployment.cli_json("actions", "list")
    mine = next(a for a in listed if a["id"] == created["id"])
    assert (mine["needs"], mine["organisations"], mine["areas"]) == (3, 2, 1)
    assert "Rekrutteringsløft, KS Arbeidsgiverpolitikk" in deployment.cli("actions", "list").stdout

    edited = deployment.cli_json(
        "actions", "edit", action, "--title", "Helseløftet", "--ends", "none"
    )
    assert edited["title"] == "Helseløftet"
    assert deployment.cli_json("actions", "show", action)["ends_on"] is None

    unlinked = deployment.cli_json("actions", "unlink", action, "--needs", bergen[1])
    assert unlinked["needs"] == [bergen[1]] and unlinked["organisations_told"] == 0
    audit = [entry["action"] for entry in deployment.cli_json("audit", "--limit", "20")]
    for expected in ("action.create", "action.link_needs", "action.link_area", "action.status",
                     "action.edit", "action.unlink_needs"):  # fmt: skip
        assert expected in audit


def test_wrong_input_is_one_error_line(deployment: Deployment, ids: dict[str, int]) -> None:
    action = str(deployment.cli_json("actions", "create", "Til feilprøving")["id"])
    cases = {
        ("actions", "create", " "): "tittelen kan ikke være tom",
        ("actions", "create", "T", "--status", "snart"): "ukjent status «snart»",
        ("actions", "create", "T", "--starts", "1. mai"): "cannot read '1. mai' as a date",
        (
            "actions",
            "create",
            "T",
            "--starts",
            "2027-05-01",
            "--ends",
            "2027-04-01",
        ): "før startdatoen",
        ("actions", "show", "9999"): "fant ikke tiltak 9999",
        ("actions", "status", "9999", "done"): "fant ikke tiltak 9999",
        ("actions", "status", action, "ferdigish"): "ukjent status",
        ("actions", "link", action): "give --needs",
        ("actions", "link", action, "stray"): "unexpected argument 'stray'",
        ("actions", "link", action, "--needs", "abc"): "ugyldig behov 'abc'",
        (
            "actions",
            "link",
            action,
            "--needs",
            "99999:omrader.helse.behov",
        ): "fant ikke behov 99999",
        ("actions", "link", action, "--area", "helse"): "--area is ROUND:AREA",
        ("actions", "link", action, "--area", f"{ids['round']}:fisk"): "har ikke området «fisk»",
        ("actions", "link", action, "--tag", f"{ids['round']}:Ukjent"): "merkelappen «Ukjent»",
        ("actions", "list", "--status", "x"): "ukjent status",
    }
    for args, message in cases.items():
        assert message in one_error(deployment, *args), args
    # A command that fails half-way changes nothing: the area is not linked either.
    one_error(
        deployment, "actions", "link", action, "--area", f"{ids['round']}:helse",
        "--needs", "99999:omrader.helse.behov",
    )  # fmt: skip
    assert deployment.cli_json("actions", "show", action)["areas"] == []


def test_segments_take_areas_and_actions(deployment: Deployment, ids: dict[str, int]) -> None:
    action = deployment.cli_json("actions", "create", "Segmentprøve")["id"]
    deployment.cli_json(
        "actions", "link", str(action), "--needs", f"{ids['drammen']}:omrader.helse.behov"
    )
    text = Path(deployment.workdir / "hei.txt")
    text.write_text("Hei fra KS", encoding="utf-8")
    draft = deployment.cli(
        "broadcast", "create", "--to", f"action:{action}", "--text-file", str(text)
    )
    assert "it would reach 1 contact (0 unreachable)" in draft.stdout, draft.stdout
    wrong = one_error(deployment, "broadcast", "create", "--to", "area:1", "--text", "Hei")
    assert "needs a round and an area" in wrong

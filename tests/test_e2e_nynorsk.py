"""End to end in nynorsk (issue 15): a chief executive of an organisation whose language is
nynorsk reads Lyttepost in nynorsk from the welcome to the summary, on Telegram and on
Teams, through the real ``lyttepost run`` process and its channel adapters.

Every text the member gets after registering (messages, edits, button labels, card texts)
is checked against a list of bokmål-only words (``tests/bokmal_words.py``). Before
registering, the chat does not know whose it is and speaks bokmål; that is checked too.
Names (of people, organisations and the round) are data, chosen here so they are not
bokmål words.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.console_session import choose_answer, middle
from tests.bokmal_words import bokmal_words
from tests.e2e_support import Deployment
from tests.teams_standin import TeamsStandIn
from tests.telegram_standin import SentMessage, TelegramStandIn
from tests.test_e2e_cycle import act, buttons, cli, oslo_text

pytestmark = pytest.mark.e2e

OSLO = ZoneInfo("Europe/Oslo")
KARI = 700001  # Drammen (3301), bokmål
OLA = 700002  # Bergen (4601), set to nynorsk
NEED = "Vi treng felles digitale løysingar for dialog med innbyggjarane."


def _nynorsk(deployment: Deployment, tmp_path: Path, org: str) -> None:
    facts = tmp_path / "sprak.csv"
    facts.write_text(f"org;language\n{org};nn\n", encoding="utf-8")
    deployment.cli("members", "import-attributes", str(facts))


def _texts(message: SentMessage) -> list[str]:
    """Everything the member reads in one message: its text, every version of it, its buttons."""
    return [message.text, *(label for label, _ in buttons(message))]


def _bokmal_in(texts: list[str]) -> list[tuple[str, list[str]]]:
    return [(text, bokmal_words(text)) for text in texts if bokmal_words(text)]


async def _register(
    standin: TelegramStandIn, deployment: Deployment, chat: int, org: str, name: str
):
    contact = await cli(
        deployment, "contacts", "add", "--org", org, "--name", name, "--role", "kommunedirektor"
    )
    code = (await cli(deployment, "invites", "create", "--contact", str(contact["id"])))[0]["code"]
    standin.user_sends_text(chat, "/start FEILKODE99", first_name=name)
    await standin.wait_for_message(chat, lambda m: "kjenner jeg ikke igjen" in m.text, timeout=15)
    start = len(standin.messages_for(chat))
    standin.user_sends_text(chat, f"/start {code}", first_name=name)
    await standin.wait_for_message(chat, lambda m: name in m.text, timeout=15)
    await asyncio.sleep(0.5)
    return start


async def _answer_everything(standin: TelegramStandIn, chat: int, invitation: SentMessage) -> None:
    """Press start; on the way pause and resume, go back once, open the overview and change
    an answer from it; then submit."""
    start = next(data for _, data in buttons(invitation) if data.startswith("r:"))
    await act(standin, chat, lambda: standin.user_presses(chat, invitation.message_id, start))
    paused = went_back = changed = False
    for step in range(80):
        message = next(m for m in reversed(standin.messages_for(chat)) if m.buttons)
        payloads = [data for _, data in buttons(message)]
        if "c:submit" in payloads:
            edit = next((p for p in payloads if p.startswith("e:")), None)
            if not changed and edit is not None:
                changed = True
                await act(
                    standin,
                    chat,
                    lambda m=message, e=edit: standin.user_presses(chat, m.message_id, e),
                )
                continue
            await act(
                standin,
                chat,
                lambda m=message: standin.user_presses(chat, m.message_id, "c:submit"),
            )
            return
        if step == 2 and not paused:
            paused = True
            await act(
                standin, chat, lambda m=message: standin.user_presses(chat, m.message_id, "c:pause")
            )
            await act(standin, chat, lambda: standin.user_sends_text(chat, "/svar"))
            continue
        if step == 4 and not went_back and "c:back" in payloads:
            went_back = True
            await act(
                standin, chat, lambda m=message: standin.user_presses(chat, m.message_id, "c:back")
            )
            continue
        choice = choose_answer(buttons(message), middle)
        if choice is None:
            await act(standin, chat, lambda: standin.user_sends_text(chat, NEED))
        else:
            await act(
                standin,
                chat,
                lambda m=message, c=choice: standin.user_presses(chat, m.message_id, c),
            )
    raise AssertionError("never reached the overview")


async def test_telegram_in_nynorsk_from_welcome_to_summary(tmp_path: Path) -> None:
    async with TelegramStandIn() as standin:
        deployment = Deployment(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
            api_base_url=standin.base_url,
            workdir=tmp_path,
            extra_env={"SCHEDULER_SYNC_SECONDS": "1", "SEND_CHAT_RATE_PER_SECOND": "20"},
        )
        try:
            await _run_telegram(standin, deployment, tmp_path)
        finally:
            deployment.stop()


async def _run_telegram(standin: TelegramStandIn, deployment: Deployment, tmp_path: Path) -> None:
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(_nynorsk, deployment, tmp_path, "4601")
    await asyncio.to_thread(deployment.start)

    await _register(standin, deployment, KARI, "3301", "Kari Nordmann")
    first = await _register(standin, deployment, OLA, "4601", "Ola Nordmann")
    # Before registering, nobody knows the chat's language: bokmål, as it should be.
    assert "kjenner jeg ikke igjen" in standin.messages_for(OLA)[first - 1].text
    assert any("Velkomen" in m.text for m in standin.messages_for(OLA)[first:])
    assert any("Velkommen" in m.text for m in standin.messages_for(KARI))

    opens = (datetime.now(OSLO) + timedelta(seconds=5)).replace(microsecond=0)
    plan = tmp_path / "arshjul.yaml"
    plan.write_text(
        "rounds:\n"
        "  - key: nn-1\n"
        "    title: Kvartal fire\n"
        "    survey: kvartalsvis-behov\n"
        f"    opens: {oslo_text(opens)}\n"
        f"    closes: {oslo_text(opens + timedelta(seconds=75))}\n"
        "    audience: {orgs: ['3301', '4601']}\n"
        "    reminders: [{before: 60s}]\n"  # 15 s after opening
        "    quiet_hours: 'off'\n"
        "    weekends: true\n"
        "    holidays: allowed\n",
        encoding="utf-8",
    )
    applied = await cli(deployment, "plan", "apply", str(plan))
    round_id = str(applied["rounds"][0]["id"])

    invitation = await standin.wait_for_message(
        OLA, lambda m: "Kvartal fire" in m.text and m.buttons, timeout=30
    )
    reminder = await standin.wait_for_message(
        OLA,
        lambda m: m.message_id != invitation.message_id and "Kvartal fire" in m.text and m.buttons,
        timeout=40,
    )
    await _answer_everything(standin, OLA, reminder)
    for command in ("/status", "/arshjul", "/hjelp", "/personvern", "/tiltak", "/ukjent"):
        await act(standin, OLA, lambda c=command: standin.user_sends_text(OLA, c))

    # The round closes at its deadline; KS builds the summary and sends it to everyone.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        rounds = await cli(deployment, "rounds", "list")
        if next(r for r in rounds if str(r["id"]) == round_id)["status"] == "closed":
            break
        await asyncio.sleep(1)
    built = await cli(deployment, "report", "build", round_id, "--out", str(tmp_path / "report"))
    draft = str(built["draft"])
    count = len(standin.messages_for(OLA))
    await asyncio.to_thread(
        deployment.cli, "publications", "send", draft, "--to", f"invited:{round_id}", "--yes"
    )
    await standin.wait_for_message(
        OLA, lambda m: standin.messages_for(OLA).index(m) >= count, timeout=30
    )
    await asyncio.sleep(1.5)

    read = [text for message in standin.messages_for(OLA)[first:] for text in _texts(message)]
    assert len(read) > 40
    assert _bokmal_in(read) == []
    kari = [text for message in standin.messages_for(KARI) for text in _texts(message)]
    assert any("påminnelse" in text or "ikke" in text for text in kari)  # bokmål stays bokmål


async def test_teams_in_nynorsk(tmp_path: Path) -> None:
    async with TeamsStandIn(locale="nn-NO") as teams, TelegramStandIn() as telegram:
        deployment = Deployment(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}",
            api_base_url=telegram.base_url,
            workdir=tmp_path,
            extra_env={
                "TEAMS_ENABLED": "true",
                "TEAMS_CHAT_BURST": "20",
                "TEAMS_CHAT_RATE_PER_SECOND": "20",
            },
        )
        teams.bot_endpoint = f"http://127.0.0.1:{deployment.http_port}/api/messages"
        try:
            await _run_teams(teams, deployment, tmp_path)
        finally:
            deployment.stop()


async def _teams_act(teams: TeamsStandIn, conversation: str, action) -> None:
    since = time.monotonic()
    status = await action()
    assert status in (200, 201, 202), status
    await teams.wait_for_change(conversation, since, within=15)
    await asyncio.sleep(0.3)


async def _run_teams(teams: TeamsStandIn, deployment: Deployment, tmp_path: Path) -> None:
    conversation = "a:1ola-teams"
    await asyncio.to_thread(deployment.cli, "db", "upgrade")
    await asyncio.to_thread(_nynorsk, deployment, tmp_path, "4601")
    await asyncio.to_thread(deployment.start)
    contact = await cli(
        deployment,
        "contacts",
        "add",
        "--org",
        "4601",
        "--name",
        "Ola Nordmann",
        "--role",
        "radmann",
    )
    code = (await cli(deployment, "invites", "create", "--contact", str(contact["id"])))[0]["code"]

    async def install():
        return (await teams.install(conversation, user_id="29:ola", name="Ola Nordmann"))[0]

    await _teams_act(teams, conversation, install)
    first = len(teams.messages_for(conversation))
    await _teams_act(teams, conversation, lambda: teams.user_sends_text(conversation, code))
    await cli(deployment, "rounds", "create", "--survey", "kvartalsvis-behov", "--closes", "2099-12-31",
              "--orgs", "4601", "--title", "Kvartal fire")  # fmt: skip
    invitation = await teams.wait_for_activity(
        conversation,
        lambda m: any("Kvartal fire" in t for t in [m.text or "", *m.card_texts]),
        timeout=15,
    )
    start = next(data for _, data in invitation.actions if data["payload"].startswith("r:"))
    await _teams_act(teams, conversation, lambda: teams.user_submits(conversation, start))
    for _ in range(80):
        card = next(m for m in reversed(teams.messages_for(conversation)) if m.actions)
        pairs = [(title, data["payload"]) for title, data in card.actions]
        if any(p == "c:submit" for _, p in pairs):
            await _teams_act(
                teams,
                conversation,
                lambda: teams.user_submits(conversation, {"payload": "c:submit"}),
            )
            break
        choice = choose_answer(pairs, middle)
        if choice is None:
            await _teams_act(teams, conversation, lambda: teams.user_sends_text(conversation, NEED))
        else:
            await _teams_act(
                teams,
                conversation,
                lambda c=choice: teams.user_submits(conversation, {"payload": c}),
            )
    else:
        raise AssertionError("never reached the overview")
    for command in ("/status", "/arshjul", "/hjelp"):
        await _teams_act(
            teams, conversation, lambda c=command: teams.user_sends_text(conversation, c)
        )

    read: list[str] = []
    for message in teams.messages_for(conversation)[first:]:
        read.extend(
            [message.text or "", *message.card_texts, *(title for title, _ in message.actions)]
        )
        read.extend(message.suggested_titles)
    assert len(read) > 20
    assert any("Velkomen" in text for text in read)
    assert _bokmal_in(read) == []

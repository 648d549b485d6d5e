"""Command menus: the one list of commands, which chat gets which menu, and the adapter
that sets them in Telegram (against the Bot API stand-in), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Bot

from bot.teams_app import build_manifest
from bot.telegram_menus import TelegramMenus, bot_commands
from dialogs import admin, commands, notices
from dialogs.commands import (
    COMMANDS,
    MAX_DESCRIPTION,
    TEAMS_MAX_COMMANDS,
    TELEGRAM_MAX_COMMANDS,
    MenuCommand,
    describe,
    menu_commands,
    names_doing,
    teams_commands,
)
from dialogs.i18n import LANGUAGES, speaking
from dialogs.privacy import help_line
from services import admins, audit, language_choice
from services.command_menus import ChatMenu, chat_menus, default_menu, staff_menu
from services.contacts import add_contact
from services.organisation_facts import set_language
from services.staff import add_staff, deactivate, require_staff, set_role
from storage.orm import Chat, Contact
from tests.bokmal_words import bokmal_words
from tests.cycle_support import World, oslo
from tests.telegram_standin import TelegramStandIn

APP_ID = "0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


def names(menu: tuple[MenuCommand, ...] | None) -> list[str]:
    return [c.name for c in menu or ()]


def slash_names(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w/])/([a-z_]+)", text))


# --- the one list --------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_command_fits_telegram_and_teams(language: str) -> None:
    every_name = [name for c in COMMANDS for name in c.names]
    assert len(every_name) == len(set(every_name)), "a name means one command only"
    with speaking(language):
        for command in COMMANDS:
            assert re.fullmatch(r"[a-z0-9_]{1,32}", command.name), command.name
            text = command.describe()
            assert 1 <= len(text) <= MAX_DESCRIPTION <= 256, (language, command.name)
            assert text == text.strip() and not text.startswith("commands."), command.name
    assert len(teams_commands()) <= TEAMS_MAX_COMMANDS
    for role in admin.ROLE_ORDER:
        for member in (True, False):
            assert len(staff_menu(role, member=member)) <= TELEGRAM_MAX_COMMANDS


def test_members_command_lines_follow_the_language_and_staff_lines_stay_bokmal() -> None:
    svar = next(c for c in COMMANDS if c.name == "svar")
    lukk = next(c for c in COMMANDS if c.name == "lukk")
    assert describe(svar) == "Start eller fortsett undersøkelsen"  # bokmål: as before
    with speaking("nn"):
        assert describe(svar) == "Start eller hald fram med undersøkinga"
        assert describe(lukk) == "Steng en åpen runde før fristen"
        nynorsk = [describe(c) for c in COMMANDS if c.audience == "member"]
    with speaking("en"):
        assert describe(svar) == "Start or continue the survey"
    with speaking("se"):
        assert describe(svar) == "Álggat dahje joatkke iskkadeami"
        samisk = {describe(c) for c in COMMANDS if c.audience == "member"}
    assert [w for line in nynorsk for w in bokmal_words(line)] == []
    bokmal = {describe(c) for c in COMMANDS if c.audience == "member"}
    assert len(bokmal & set(nynorsk)) <= 2  # «Send inn …», «Hopp over …» read the same
    assert not bokmal & samisk


def test_the_commands_the_conversation_knows_come_from_the_list() -> None:
    assert commands.ANSWER_COMMANDS == {"svar", "answer", "fortsett"}
    assert commands.WHEEL_COMMANDS == {"arshjul", "årshjul", "aarshjul"}
    assert commands.CONTROL_COMMANDS["tilbake"] == "back"
    assert commands.CONTROL_COMMANDS["hopp"] == "skip"
    assert commands.LANGUAGE_COMMANDS == {"sprak", "språk", "language"}
    assert admin.ADMIN_COMMANDS == {c.name: c.does for c in COMMANDS if c.audience == "staff"}
    # Every staff command needs a role, or default deny would refuse it to everyone.
    assert set(admin.ADMIN_COMMANDS.values()) <= set(admin.ROLE_NEEDED)
    assert "hopp" not in names(menu_commands("member"))  # a button, not a menu entry


def test_adding_a_command_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = MenuCommand("merknad", "Skriv en merknad til KS", "remark")
    monkeypatch.setattr(commands, "COMMANDS", (*COMMANDS, extra))
    assert "merknad" in names(commands.menu_commands("member"))
    assert names_doing("remark") == {"merknad"}
    assert "merknad" in names(default_menu())


def test_the_help_texts_list_the_commands_of_the_menus() -> None:
    members = set(names(menu_commands("member")))
    shown = slash_names(notices.help_text(registered=True).text)
    # /start is in the menus for those who have no registration yet; the help is for
    # registered members.
    assert shown == members - {"start"}
    assert "/personvern" in help_line()
    for role in admin.ROLE_ORDER:
        menu = staff_menu(role, member=False)
        staff_names = {c.name for c in menu if c.audience == "staff"}
        in_help = slash_names(admin.help_text(role, member=False).text)
        assert in_help & set(admin.ADMIN_COMMANDS) == staff_names - {"adminhjelp"}, role
        assert in_help - set(admin.ADMIN_COMMANDS) <= {c.name for c in menu}, role


def test_the_teams_manifest_lists_the_same_commands() -> None:
    manifest = build_manifest(APP_ID, "1.0.0", "bot.example.no")
    (command_list,) = manifest["bots"][0]["commandLists"]
    assert command_list["commands"] == [
        {"title": c.name, "description": describe(c)} for c in teams_commands()
    ]
    # Bokmål whatever is being spoken: the package is one for every organisation.
    with speaking("nn"):
        assert build_manifest(APP_ID, "1.0.0", "bot.example.no") == manifest
    # Teams' list is Telegram's menu in the same order, less what is on every card's buttons
    # and /sprak (the list holds ten; the language is offered after registration, and
    # "sprak" typed in Teams is the command all the same).
    titles = [c["title"] for c in command_list["commands"]]
    assert titles == [name for name in names(default_menu()) if name in titles]
    assert set(names(default_menu())) - set(titles) == {"tilbake", "pause", "send", "sprak"}
    assert len(titles) == TEAMS_MAX_COMMANDS


# --- which chat gets which menu ------------------------------------------------------------


def test_a_staff_menu_holds_what_the_role_may_use() -> None:
    admin_menu = names(staff_menu("admin", member=True))
    assert admin_menu[: len(default_menu())] == names(default_menu())
    assert set(admin_menu) - set(names(default_menu())) == set(admin.ADMIN_COMMANDS)
    viewer = names(staff_menu("viewer", member=False))
    assert viewer == ["personvern", "hjelp", "runder", "rundestatus", "logginn", "adminhjelp"]
    staff = set(names(staff_menu("staff", member=False)))
    assert {"publiser", "rapport"} <= staff and not {"lukk", "frist"} & staff
    assert names(staff_menu("unknown", member=False)) == ["personvern", "hjelp"]


@pytest.fixture
async def world(sessions) -> World:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(["3301"])
    async with sessions() as session, session.begin():
        await add_staff(session, "Anne Admin", "anne@ks.no", "admin", world.clock.now)
        await add_staff(session, "Vera Leser", "vera@ks.no", "viewer", world.clock.now)
    return world


async def bind(world: World, chat: str, email: str) -> None:
    async with world.sessions() as session, session.begin():
        staff = await require_staff(session, email)
        code = (await admins.issue_chat_code(session, staff, world.clock.now)).secret
    await world.say(chat, f"/start {code}")


async def plan(world: World, channel: str = "telegram") -> dict[str, tuple[str, ...] | None]:
    async with world.sessions() as session:
        return {menu.address: menu.key for menu in await chat_menus(session, channel)}


async def test_staff_chats_get_their_menu_and_lose_it_when_unbound(world: World) -> None:
    bound: list[int] = []
    world.conversation.on_staff_chat_bound = lambda: bound.append(1)
    assert await plan(world) == {}  # members only: the default menu is enough

    await bind(world, "3301", "anne@ks.no")  # a member's chat, bound to an admin
    await bind(world, "ks-vera", "vera@ks.no")  # a chat of its own, a viewer's
    assert len(bound) == 2
    menus = await plan(world)
    assert menus["chat-3301"] == ("nb", *names(staff_menu("admin", member=True)))
    assert menus["chat-ks-vera"] == ("nb", *names(staff_menu("viewer", member=False)))
    assert await plan(world, "teams") == {}

    async with world.sessions() as session, session.begin():
        await set_role(session, await require_staff(session, "anne@ks.no"), "viewer")
        await deactivate(session, await require_staff(session, "vera@ks.no"), world.clock.now)
    menus = await plan(world)
    assert menus["chat-3301"] == ("nb", *names(staff_menu("viewer", member=True)))
    assert menus["chat-ks-vera"] is None  # bound once, not now: its own menu goes


async def test_a_wrong_code_binds_nothing_and_plans_nothing(world: World) -> None:
    bound: list[int] = []
    world.conversation.on_staff_chat_bound = lambda: bound.append(1)
    await world.say("ks-nobody", "/start ABCDE23456")
    assert bound == [] and await plan(world) == {}


# --- menus in the member's language --------------------------------------------------------


@pytest.fixture
async def members(sessions) -> World:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(["3301", "4601"])
    async with sessions() as session, session.begin():
        await add_staff(session, "Anne Admin", "anne@ks.no", "admin", world.clock.now)
    return world


async def test_a_member_chat_in_nynorsk_gets_the_menu_in_nynorsk_until_back_in_bokmal(
    members: World,
) -> None:
    chosen: list[int] = []
    members.conversation.on_language_chosen = lambda: chosen.append(1)
    await members.say("3301", "/sprak nn")
    await members.say("3301", "/sprak nynorsk")  # no change: no second look
    assert chosen == [1]
    async with members.sessions() as session:
        (menu,) = await chat_menus(session, "telegram")  # 4601 reads bokmål: none
    assert (menu.address, menu.language, menu.commands) == ("chat-3301", "nn", default_menu())
    lines = {c.command: c.description for c in bot_commands(menu.commands, menu.language)}
    assert lines["svar"] == "Start eller hald fram med undersøkinga"
    assert lines["sprak"] == "Vel språk: bokmål, nynorsk eller nordsamisk"
    assert bokmal_words(" ".join(lines.values())) == []

    await members.say("3301", "/sprak nb")
    assert chosen == [1, 1]
    assert await plan(members) == {"chat-3301": None}  # its own menu goes: the default fits


async def test_a_staff_chat_in_nynorsk_gets_the_staff_menu_with_nynorsk_member_lines(
    members: World,
) -> None:
    await bind(members, "3301", "anne@ks.no")
    await members.say("3301", "/sprak nn")
    admin_menu = names(staff_menu("admin", member=True))
    assert await plan(members) == {"chat-3301": ("nn", *admin_menu)}
    async with members.sessions() as session:
        (menu,) = await chat_menus(session, "telegram")
    assert menu.commands is not None
    lines = {c.command: c.description for c in bot_commands(menu.commands, menu.language)}
    assert lines["oversikt"] == "Sjå alle svara dine og endre dei"
    assert lines["lukk"] == "Steng en åpen runde før fristen"  # staff's lines: bokmål

    await members.say("3301", "/sprak nb")  # still a staff chat: keeps a menu, in bokmål
    assert await plan(members) == {"chat-3301": ("nb", *admin_menu)}


async def test_the_organisations_language_gives_its_chats_their_menu(members: World) -> None:
    async def organisation_reads(language: str) -> None:
        async with members.sessions() as session, session.begin():
            await set_language(session, "4601", language, audit.CLI, members.clock.now)

    await organisation_reads("se")
    assert await plan(members) == {"chat-4601": ("se", *names(default_menu()))}
    await members.say("4601", "/sprak nb")  # the contact's own choice wins
    assert await plan(members) == {"chat-4601": None}
    await members.say("4601", "/sprak org")
    assert await plan(members) == {"chat-4601": ("se", *names(default_menu()))}
    await organisation_reads("nb")
    assert await plan(members) == {"chat-4601": None}  # known from the audit: removed


# --- the adapter against the Bot API stand-in ----------------------------------------------


@pytest.fixture
async def standin() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn() as server:
        yield server


@pytest.fixture
async def bot(standin: TelegramStandIn) -> AsyncIterator[Bot]:
    async with Bot("1:T", base_url=standin.base_url) as bot:
        yield bot


async def bind_directly(sessions, address: str, email: str) -> None:
    async with sessions() as session, session.begin():
        staff = await add_staff(session, "Anne Admin", email, "admin", NOW)
        chat = Chat(channel="telegram", address=address, created_at=NOW)
        session.add(chat)
        await session.flush()
        await admins.bind_chat(session, chat, staff, NOW)


def scoped(standin: TelegramStandIn, method: str) -> list[tuple[Any, list[str]]]:
    return [
        (
            (call.params.get("scope") or {}).get("chat_id", "default"),
            [c["command"] for c in call.params.get("commands") or []],
        )
        for call in standin.calls_to(method)
    ]


async def test_the_adapter_sets_the_default_then_only_what_changed(
    sessions, standin: TelegramStandIn, bot: Bot
) -> None:
    menus = TelegramMenus(bot, sessions)
    await menus.reconcile()
    assert scoped(standin, "setMyCommands") == [("default", names(default_menu()))]
    assert standin.calls_to("setMyCommands")[0].params["scope"] == {"type": "default"}

    await bind_directly(sessions, "5001", "anne@ks.no")
    await menus.reconcile()
    await menus.reconcile()  # nothing changed: no call
    assert scoped(standin, "setMyCommands")[1:] == [
        (5001, names(staff_menu("admin", member=False)))
    ]
    chat_scope = '{"chat_id": 5001, "type": "chat"}'
    assert "lukk" in [c["command"] for c in standin.commands[(chat_scope, "")]]

    async with sessions() as session, session.begin():
        await deactivate(session, await require_staff(session, "anne@ks.no"), NOW)
    await menus.reconcile()
    assert [scope for scope, _ in scoped(standin, "deleteMyCommands")] == [5001]
    assert (chat_scope, "") not in standin.commands  # back to the default menu
    await menus.reconcile()
    assert len(standin.calls_to("deleteMyCommands")) == 1

    # A new process does not know what the old one set: it removes it once more.
    await TelegramMenus(bot, sessions).reconcile()
    assert [scope for scope, _ in scoped(standin, "deleteMyCommands")] == [5001, 5001]


async def test_a_refused_menu_is_tried_again(sessions, standin: TelegramStandIn, bot: Bot) -> None:
    await bind_directly(sessions, "5002", "anne@ks.no")
    menus = TelegramMenus(bot, sessions)
    standin.fail_next("setMyCommands", 500, "Internal Server Error", times=2)
    await menus.reconcile()  # the default and the chat's menu both fail
    assert not any(call.ok for call in standin.calls_to("setMyCommands"))
    await menus.reconcile()
    assert [scope for scope, _ in scoped(standin, "setMyCommands")][-2:] == ["default", 5002]
    assert all(call.ok for call in standin.calls_to("setMyCommands")[-2:])


async def test_a_poke_after_a_binding_reconciles_without_waiting_for_the_interval(
    sessions, standin: TelegramStandIn, bot: Bot
) -> None:
    menus = TelegramMenus(bot, sessions, interval=3600, settle=0.05)
    task = asyncio.create_task(menus.run())
    try:
        await standin.wait_for_call("setMyCommands", timeout=5)
        await bind_directly(sessions, "5003", "anne@ks.no")
        menus.poke_after_commit()
        call = await standin.wait_for_call("setMyCommands", after_count=1, timeout=5)
        assert call.params["scope"] == {"type": "chat", "chat_id": 5003}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def member_chat(sessions, address: str, org: str, name: str) -> int:
    async with sessions() as session, session.begin():
        contact = await add_contact(session, org, name, "radgiver", None)
        session.add(
            Chat(channel="telegram", address=address, contact_id=contact.id, created_at=NOW)
        )
    return contact.id


async def choose(sessions, contact_id: int, language: str) -> None:
    async with sessions() as session, session.begin():
        contact = await session.get(Contact, contact_id)
        assert contact is not None
        await language_choice.command(session, contact, language, NOW, staff=False)


async def test_the_adapter_sends_a_members_menu_in_their_language_and_takes_it_back(
    sessions, standin: TelegramStandIn, bot: Bot
) -> None:
    kari = await member_chat(sessions, "6001", "3301", "Kari Nordmann")
    await member_chat(sessions, "6002", "3301", "Ola Nordmann")
    await choose(sessions, kari, "nn")
    menus = TelegramMenus(bot, sessions)
    await menus.reconcile()
    assert scoped(standin, "setMyCommands") == [
        ("default", names(default_menu())),
        (6001, names(default_menu())),
    ]
    default, nynorsk = standin.calls_to("setMyCommands")
    assert default.params["commands"][1]["description"] == "Start eller fortsett undersøkelsen"
    lines = {c["command"]: c["description"] for c in nynorsk.params["commands"]}
    assert lines["svar"] == "Start eller hald fram med undersøkinga"
    assert bokmal_words(" ".join(lines.values())) == []

    await choose(sessions, kari, "se")  # the same commands, another language: sent again
    await menus.reconcile()
    (sami,) = [call for call in standin.calls_to("setMyCommands")[2:]]
    assert sami.params["commands"][1]["description"] == "Álggat dahje joatkke iskkadeami"

    await choose(sessions, kari, "nb")
    await menus.reconcile()
    await menus.reconcile()
    assert [scope for scope, _ in scoped(standin, "deleteMyCommands")] == [6001]
    # A new process does not know what the old one set: the audit says Kari changed.
    await TelegramMenus(bot, sessions).reconcile()
    assert [scope for scope, _ in scoped(standin, "deleteMyCommands")] == [6001, 6001]


async def test_a_poke_after_a_language_choice_reconciles_at_once(
    sessions, standin: TelegramStandIn, bot: Bot
) -> None:
    kari = await member_chat(sessions, "6003", "3301", "Kari Nordmann")
    menus = TelegramMenus(bot, sessions, interval=3600, settle=0.05)
    task = asyncio.create_task(menus.run())
    try:
        await standin.wait_for_call("setMyCommands", timeout=5)
        await choose(sessions, kari, "nn")
        menus.committed()  # nothing expected yet: no look
        menus.poke_after_commit()
        menus.committed()
        call = await standin.wait_for_call("setMyCommands", after_count=1, timeout=5)
        assert call.params["scope"] == {"type": "chat", "chat_id": 6003}
        await choose(sessions, kari, "nb")
        menus.changed()  # the workspace's poke: already committed
        removed = await standin.wait_for_call("deleteMyCommands", timeout=5)
        assert removed.params["scope"] == {"type": "chat", "chat_id": 6003}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_chat_menu_key_tells_a_removal_from_an_empty_menu_and_names_the_language() -> None:
    assert ChatMenu("1", None).key is None
    assert ChatMenu("1", ()).key == ("nb",)
    assert ChatMenu("1", default_menu()).key == ("nb", *names(default_menu()))
    assert ChatMenu("1", default_menu(), "nn").key == ("nn", *names(default_menu()))

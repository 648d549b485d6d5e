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
from bot.telegram_menus import TelegramMenus
from dialogs import admin, commands, notices
from dialogs.commands import (
    COMMANDS,
    MAX_DESCRIPTION,
    TEAMS_MAX_COMMANDS,
    TELEGRAM_MAX_COMMANDS,
    MenuCommand,
    menu_commands,
    names_doing,
    teams_commands,
)
from dialogs.privacy import help_line
from services import admins
from services.command_menus import ChatMenu, chat_menus, default_menu, staff_menu
from services.staff import add_staff, deactivate, require_staff, set_role
from storage.orm import Chat
from tests.cycle_support import World, oslo
from tests.telegram_standin import TelegramStandIn

APP_ID = "0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


def names(menu: tuple[MenuCommand, ...] | None) -> list[str]:
    return [c.name for c in menu or ()]


def slash_names(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w/])/([a-z_]+)", text))


# --- the one list --------------------------------------------------------------------------


def test_every_command_fits_telegram_and_teams() -> None:
    every_name = [name for c in COMMANDS for name in c.names]
    assert len(every_name) == len(set(every_name)), "a name means one command only"
    for command in COMMANDS:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.name), command.name
        assert 1 <= len(command.description) <= MAX_DESCRIPTION <= 256, command.name
        assert command.description == command.description.strip()
    assert len(teams_commands()) <= TEAMS_MAX_COMMANDS
    for role in admin.ROLE_ORDER:
        for member in (True, False):
            assert len(staff_menu(role, member=member)) <= TELEGRAM_MAX_COMMANDS


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
        {"title": c.name, "description": c.description} for c in teams_commands()
    ]
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
    assert menus["chat-3301"] == tuple(names(staff_menu("admin", member=True)))
    assert menus["chat-ks-vera"] == tuple(names(staff_menu("viewer", member=False)))
    assert await plan(world, "teams") == {}

    async with world.sessions() as session, session.begin():
        await set_role(session, await require_staff(session, "anne@ks.no"), "viewer")
        await deactivate(session, await require_staff(session, "vera@ks.no"), world.clock.now)
    menus = await plan(world)
    assert menus["chat-3301"] == tuple(names(staff_menu("viewer", member=True)))
    assert menus["chat-ks-vera"] is None  # bound once, not now: its own menu goes


async def test_a_wrong_code_binds_nothing_and_plans_nothing(world: World) -> None:
    bound: list[int] = []
    world.conversation.on_staff_chat_bound = lambda: bound.append(1)
    await world.say("ks-nobody", "/start ABCDE23456")
    assert bound == [] and await plan(world) == {}


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


def test_chat_menu_key_tells_a_removal_from_an_empty_menu() -> None:
    assert ChatMenu("1", None).key is None
    assert ChatMenu("1", default_menu()).key == tuple(names(default_menu()))

"""Which command menu each chat gets: the decision behind Telegram's ``setMyCommands``.

Everyone gets the members' menu (the default). A chat bound to an active staff account
gets a menu of its own with the staff commands its role may use, after the members'
commands if the chat is also a member's. A chat that was bound once and no longer is
(unbound, or its account deactivated) gets its own menu removed, so it falls back to the
default. The adapter (``bot/telegram_menus.py``) only translates this plan into Bot API
calls; the commands and their texts come from ``dialogs/commands.py``. See
docs/decisions/0022.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import admin
from dialogs.commands import MenuCommand, menu_commands
from storage.orm import AuditEntry, Chat, Staff

BOUND_ACTION = "staff.chat_bound"  # services/admins.bind_chat's audit entry
STAFF_ONLY_MEMBER_COMMANDS = {"help", "privacy"}  # what a chat without a survey still has


@dataclass(frozen=True)
class ChatMenu:
    """One chat's own menu; ``commands`` None: remove it (the chat sees the default)."""

    address: str
    commands: tuple[MenuCommand, ...] | None

    @property
    def key(self) -> tuple[str, ...] | None:
        """What identifies the menu, to tell whether it changed."""
        return None if self.commands is None else tuple(c.name for c in self.commands)


def default_menu() -> tuple[MenuCommand, ...]:
    """The menu every chat has unless it has one of its own: the members' commands."""
    return menu_commands("member")


def staff_menu(role: str, *, member: bool) -> tuple[MenuCommand, ...]:
    """A staff chat's menu: the staff commands ``role`` may use (default deny), after the
    members' commands when the chat is a member's too, else only /hjelp and /personvern."""
    staff = tuple(
        c for c in menu_commands("staff") if admin.may(role, admin.ADMIN_COMMANDS[c.name])
    )
    members = tuple(c for c in default_menu() if member or c.does in STAFF_ONLY_MEMBER_COMMANDS)
    return (*members, *staff)


async def chat_menus(session: AsyncSession, channel: str) -> list[ChatMenu]:
    """Every chat of ``channel`` that needs a menu of its own, and every chat that was
    bound to a staff account once and is not now (its menu to remove), by address."""
    rows = await session.execute(
        select(Chat.id, Chat.address, Chat.contact_id, Staff.role)
        .join(Staff, Staff.id == Chat.staff_id)
        .where(Chat.channel == channel, Staff.active.is_(True))
    )
    menus: dict[str, ChatMenu] = {}
    staff_chats: set[int] = set()
    for chat_id, address, contact_id, role in rows:
        staff_chats.add(chat_id)
        menus[address] = ChatMenu(address, staff_menu(role, member=contact_id is not None))
    bound_once: set[int] = set()
    for detail in await session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == BOUND_ACTION)
    ):
        bound = detail.get("chat") if isinstance(detail, dict) else None
        if isinstance(bound, int) and detail.get("channel") == channel:
            bound_once.add(bound)
    former = bound_once - staff_chats
    if former:
        for address in await session.scalars(
            select(Chat.address).where(Chat.id.in_(former), Chat.channel == channel)
        ):
            menus.setdefault(address, ChatMenu(address, None))
    return sorted(menus.values(), key=lambda menu: menu.address)

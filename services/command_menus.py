"""Which command menu each chat gets: the decision behind Telegram's ``setMyCommands``.

Everyone gets the members' menu in bokmål (the default). A chat gets a menu of its own when
the default does not fit it:

- a chat bound to an active staff account: the staff commands its role may use, after the
  members' commands if the chat is also a member's (staff's lines are bokmål, members'
  lines in the contact's language);
- a member's chat whose contact reads another language than bokmål (their own choice,
  else their organisation's: ``services/languages``): the members' menu in that language.

A chat that had a menu of its own and no longer needs one gets it removed, so it falls
back to the default: a chat bound once and not now (unbound, or its account deactivated),
and a chat whose language went back to bokmål (known from the audit log: the contact's
``/sprak`` choices and an organisation's language edits). The adapter
(``bot/telegram_menus.py``) translates this plan into Bot API calls and also removes
what it set itself and the plan no longer lists; the commands and their texts come from
``dialogs/commands.py``. See docs/decisions/0022.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import admin
from dialogs.commands import MenuCommand, menu_commands
from dialogs.i18n import SOURCE
from services.languages import contact_languages
from storage.orm import AuditEntry, Chat, Contact, Organisation, Staff

BOUND_ACTION = "staff.chat_bound"  # services/admins.bind_chat's audit entry
# Audit entries of language changes (services/language_choice, services/organisation_facts):
# a member chat they touched may carry a menu in another language to remove.
CONTACT_LANGUAGE_ACTION = "contact.language"
ORGANISATION_FACTS_ACTION = "organisation.facts"
STAFF_ONLY_MEMBER_COMMANDS = {"help", "privacy"}  # what a chat without a survey still has


@dataclass(frozen=True)
class ChatMenu:
    """One chat's own menu in ``language``; ``commands`` None: remove it (the chat sees
    the default)."""

    address: str
    commands: tuple[MenuCommand, ...] | None
    language: str = SOURCE

    @property
    def key(self) -> tuple[str, ...] | None:
        """What identifies the menu, to tell whether it changed (the language too, so a
        change of language sends it again)."""
        if self.commands is None:
            return None
        return (self.language, *(c.name for c in self.commands))


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


async def _language_changed_once(session: AsyncSession) -> tuple[set[int], set[str]]:
    """Contacts (ids) and organisations (codes) whose language was ever changed."""
    contacts: set[int] = set()
    for target in await session.scalars(
        select(AuditEntry.target).where(AuditEntry.action == CONTACT_LANGUAGE_ACTION)
    ):
        kind, _, number = (target or "").partition(":")
        if kind == "contact" and number.isdigit():
            contacts.add(int(number))
    organisations: set[str] = set()
    for target, detail in await session.execute(
        select(AuditEntry.target, AuditEntry.detail).where(
            AuditEntry.action == ORGANISATION_FACTS_ACTION
        )
    ):
        kind, _, code = (target or "").partition(":")
        if kind == "organisation" and isinstance(detail, dict) and "language" in detail:
            organisations.add(code)
    return contacts, organisations


async def _bound_once(session: AsyncSession, channel: str) -> set[int]:
    """The chats of ``channel`` ever bound to a staff account (by chat id)."""
    bound: set[int] = set()
    for detail in await session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == BOUND_ACTION)
    ):
        chat = detail.get("chat") if isinstance(detail, dict) else None
        if isinstance(chat, int) and detail.get("channel") == channel:
            bound.add(chat)
    return bound


async def chat_menus(session: AsyncSession, channel: str) -> list[ChatMenu]:
    """Every chat of ``channel`` that needs a menu of its own, and every chat that may
    have had one and needs none now (its menu to remove), by address."""
    staff_rows = (
        await session.execute(
            select(Chat.id, Chat.address, Chat.contact_id, Staff.role)
            .join(Staff, Staff.id == Chat.staff_id)
            .where(Chat.channel == channel, Staff.active.is_(True))
        )
    ).all()
    changed_contacts, changed_organisations = await _language_changed_once(session)
    # Member chats not in bokmål now, or in bokmål after a change (a menu to take away).
    member_rows = (
        await session.execute(
            select(Chat.id, Chat.address, Chat.contact_id)
            .join(Contact, Contact.id == Chat.contact_id)
            .join(Organisation, Organisation.id == Contact.organisation_id)
            .where(
                Chat.channel == channel,
                or_(
                    Contact.language.is_not(None),
                    Organisation.language != SOURCE,
                    Contact.id.in_(changed_contacts),
                    Organisation.code.in_(changed_organisations),
                ),
            )
        )
    ).all()
    languages = await contact_languages(
        session,
        [row.contact_id for row in (*staff_rows, *member_rows) if row.contact_id is not None],
    )

    def language(contact_id: int | None) -> str:
        return SOURCE if contact_id is None else languages.get(str(contact_id), SOURCE)

    menus: dict[str, ChatMenu] = {}
    staff_chats: set[int] = set()
    for chat_id, address, contact_id, role in staff_rows:
        staff_chats.add(chat_id)
        commands = staff_menu(role, member=contact_id is not None)
        menus[address] = ChatMenu(address, commands, language(contact_id))
    for chat_id, address, contact_id in member_rows:
        if chat_id in staff_chats:
            continue
        spoken = language(contact_id)
        # In bokmål (again): the default fits; remove what an earlier language set.
        menus[address] = ChatMenu(address, default_menu() if spoken != SOURCE else None, spoken)
    former = await _bound_once(session, channel) - staff_chats
    if former:
        for address in await session.scalars(
            select(Chat.address).where(Chat.id.in_(former), Chat.channel == channel)
        ):
            menus.setdefault(address, ChatMenu(address, None))
    return sorted(menus.values(), key=lambda menu: menu.address)

"""Telegram's command menus: the plan of ``services/command_menus.py`` as Bot API calls.

At start the default menu (members' commands in bokmål, for every chat app language) is
set and every chat's own menu reconciled (staff chats, and member chats reading nynorsk or
nordsamisk); then the plan is read again when this process changed something it depends
on: a chat bound to a staff account, a contact's ``/sprak`` (both poked by the
conversation once the turn commits), an organisation's language edited in the workspace
(poked by it, already committed), and once a minute for changes made elsewhere (``lyttepost
members language``, ``members import-attributes``, unbindings and deactivations by the
CLI). Only what changed since this process last set it is sent. Decides nothing: which
chat gets which menu, in which language, is the service's. A menu is not a message, so it
does not go through the outbox; a failed call is logged and tried again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import BadRequest, Forbidden, TelegramError

from dialogs.commands import MenuCommand
from dialogs.i18n import SOURCE, speaking
from services.command_menus import ChatMenu, chat_menus, default_menu
from storage.sessions import Sessions

log = logging.getLogger(__name__)

CHANNEL = "telegram"
CALL_GAP_SECONDS = 0.05  # between menu calls, so a start with many staff chats is no burst


def bot_commands(commands: Sequence[MenuCommand], language: str = SOURCE) -> list[BotCommand]:
    """The Bot API's form of a menu, its descriptions in ``language``."""
    with speaking(language):
        return [BotCommand(c.name, c.describe()) for c in commands]


class TelegramMenus:
    """Keeps the default menu and the chats' own menus as the service plans them."""

    def __init__(
        self,
        bot: Bot,
        sessions: Sessions,
        *,
        interval: float = 60.0,
        settle: float = 0.5,
    ) -> None:
        self._bot = bot
        self._sessions = sessions
        self._interval = interval
        self._settle = settle
        self._poke = asyncio.Event()
        self._default_set = False
        self._applied: dict[str, tuple[str, ...] | None] = {}  # address -> menu key
        self._swept = False  # every planned menu sent once (resets included)
        self._expecting = False
        self.calls = 0

    def poke_after_commit(self) -> None:
        """A chat was bound, or a contact chose a language, in a transaction still
        committing: look again once an inbound event has committed (``committed``), and
        shortly in any case."""
        self._expecting = True
        with contextlib.suppress(RuntimeError):  # no running loop: the next interval does it
            asyncio.get_running_loop().call_later(self._settle, self._poke.set)

    def changed(self) -> None:
        """Something the plan reads changed and is committed (the workspace edited an
        organisation's language): look now."""
        self._poke.set()

    def committed(self) -> None:
        """An inbound event's transaction committed: if a binding was expected, look now."""
        if self._expecting:
            self._expecting = False
            self._poke.set()

    async def run(self) -> None:
        """Reconcile now, then on every poke and every interval, until cancelled."""
        while True:
            self._poke.clear()
            try:
                await self.reconcile()
            except SQLAlchemyError as error:
                log.warning("telegram menus: cannot read the plan (%s)", type(error).__name__)
            except Exception:  # a bug here must not end the loop for good
                log.exception("telegram menus: reconciling failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._poke.wait()

    async def reconcile(self) -> None:
        """Send the default menu (once) and every chat menu that differs from the last sent."""
        if not self._default_set:
            self._default_set = await self._call(
                "default", self._bot.set_my_commands(
                    bot_commands(default_menu()), scope=BotCommandScopeDefault()
                )
            )  # fmt: skip
        async with self._sessions() as session:
            plan = await chat_menus(session, CHANNEL)
        planned = {menu.address for menu in plan}
        # A chat this process gave a menu (staff's, another language's) that the plan no
        # longer lists (e.g. a whole organisation back to bokmål): remove its menu.
        gone = [
            ChatMenu(address, None)
            for address, key in self._applied.items()
            if key is not None and address not in planned
        ]
        complete = True
        for menu in [*plan, *gone]:
            if self._swept and self._applied.get(menu.address, None) == menu.key:
                continue  # a removal never sent before this process: sent at the first sweep
            if not await self._apply(menu):
                complete = False
        self._swept = self._swept or complete

    async def _apply(self, menu: ChatMenu) -> bool:
        try:
            chat_id = int(menu.address)
        except ValueError:
            log.warning("telegram menus: %r is not a chat id; skipped", menu.address)
            self._applied[menu.address] = menu.key
            return True
        scope = BotCommandScopeChat(chat_id)
        call = (
            self._bot.delete_my_commands(scope=scope)
            if menu.commands is None
            else self._bot.set_my_commands(bot_commands(menu.commands, menu.language), scope=scope)
        )
        done = await self._call(f"chat {chat_id}", call)
        if done:
            self._applied[menu.address] = menu.key
        await asyncio.sleep(CALL_GAP_SECONDS)
        return done

    async def _call(self, what: str, call: Awaitable[bool]) -> bool:
        """Await one Bot API call; True when it is done (or can never be done)."""
        self.calls += 1
        try:
            await call
        except (Forbidden, BadRequest) as error:
            if "chat not found" in error.message.lower() or isinstance(error, Forbidden):
                log.info("telegram menus: %s cannot have a menu (%s)", what, error.message)
                return True  # a chat that blocked the bot: nothing to keep trying
            log.warning("telegram menus: %s refused (%s)", what, error.message)
            return False
        except TelegramError as error:
            log.warning("telegram menus: %s failed (%s); trying again later", what, error)
            return False
        return True

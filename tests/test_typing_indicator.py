"""Typing indicators: shown only for a slow reply, at most once per few seconds per chat,
only with room to spare in the sender's pacing (never before a waiting message), and a
failure is a DEBUG line, nothing more."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.typing_indicator import TypingIndicator
from dialogs.messages import OutgoingMessage
from services.delivery import Pacing, Sender


class Shown:
    """A channel's "typing…", recorded."""

    def __init__(self, fail: bool = False) -> None:
        self.addresses: list[str] = []
        self.fail = fail

    async def __call__(self, address: str) -> None:
        self.addresses.append(address)
        if self.fail:
            raise OSError("network down")


class Busy:
    """Which chats are still being handled; a test ends the handling at will."""

    def __init__(self) -> None:
        self.chats: set[tuple[str, str]] = set()

    def __call__(self, channel: str, address: str) -> bool:
        return (channel, address) in self.chats


def indicator(shown: Shown, busy: Busy, spare: Any = None, **timing: float) -> TypingIndicator:
    return TypingIndicator(
        {"telegram": shown},
        busy,
        spare or (lambda channel, address: True),
        **{"delay": 0.05, "gap": 10.0, **timing},
    )


async def test_a_fast_reply_costs_no_call() -> None:
    shown, busy = Shown(), Busy()
    typing = indicator(shown, busy)
    typing.accepted("telegram", "1")  # handled before the delay runs out
    await asyncio.sleep(0.15)
    assert shown.addresses == []


async def test_a_slow_reply_shows_typing_once_per_gap() -> None:
    shown, busy = Shown(), Busy()
    busy.chats.add(("telegram", "1"))
    typing = indicator(shown, busy)
    typing.accepted("telegram", "1")
    typing.accepted("telegram", "1")  # a second event of the same chat: the same watch
    await asyncio.sleep(0.2)
    assert shown.addresses == ["1"]
    busy.chats.clear()
    await asyncio.sleep(0.05)
    busy.chats.add(("telegram", "1"))
    typing.accepted("telegram", "1")  # the next slow event, within the gap: not again
    await asyncio.sleep(0.2)
    assert shown.addresses == ["1"] and typing.sent == 1
    await typing.close()


async def test_a_long_handling_shows_typing_again_after_the_gap() -> None:
    shown, busy = Shown(), Busy()
    busy.chats.add(("telegram", "1"))
    typing = indicator(shown, busy, gap=0.1, longest=0.25)
    typing.accepted("telegram", "1")
    await asyncio.sleep(0.6)
    assert 2 <= len(shown.addresses) <= 4  # every gap while handled, up to ``longest``
    await typing.close()


async def test_no_spare_room_means_no_typing_and_other_channels_are_left_alone() -> None:
    shown, busy = Shown(), Busy()
    busy.chats |= {("telegram", "1"), ("console", "1")}
    typing = indicator(shown, busy, spare=lambda channel, address: False)
    typing.accepted("telegram", "1")
    typing.accepted("console", "1")  # no typing for a channel that cannot show it
    await asyncio.sleep(0.15)
    assert shown.addresses == [] and typing.sent == 0


async def test_a_failure_is_logged_at_debug_and_ignored(caplog) -> None:
    shown, busy = Shown(fail=True), Busy()
    busy.chats.add(("telegram", "1"))
    typing = indicator(shown, busy)
    with caplog.at_level(logging.DEBUG, logger="bot.typing_indicator"):
        typing.accepted("telegram", "1")
        await asyncio.sleep(0.15)
    assert shown.addresses == ["1"]
    failures = [r for r in caplog.records if "typing: telegram failed" in r.getMessage()]
    assert failures and all(r.levelno == logging.DEBUG for r in failures)
    await typing.close()


# --- the sender's spare room ---------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Transport:
    channel = "telegram"

    async def deliver(self, address: str, message: OutgoingMessage, replace_id: str | None) -> str:
        return "1"


def sender(clock: Clock) -> Sender:
    return Sender(
        None,  # type: ignore[arg-type]  # spare_call never reads the database
        {"telegram": Transport()},
        Pacing(per_second=2.0, chat_per_second=1.0, chat_burst=3),
        monotonic=clock,
    )


async def test_spare_room_is_taken_only_from_an_idle_chat_with_its_full_burst() -> None:
    clock = Clock()
    outbox = sender(clock)
    assert outbox.spare_call("telegram", "1")
    assert not outbox.spare_call("telegram", "1")  # its burst is no longer full
    clock.now += 0.2
    assert not outbox.spare_call("telegram", "2")  # the overall pace (2/s) has no room yet
    clock.now += 0.4
    assert outbox.spare_call("telegram", "2")
    clock.now += 1.1  # the first chat's bucket refilled
    assert outbox.spare_call("telegram", "1")
    assert not outbox.spare_call("teams", "1")  # a channel this sender does not serve


async def test_spare_room_is_never_taken_before_a_waiting_message() -> None:
    clock = Clock()
    outbox = sender(clock)
    assert outbox.spare_call("telegram", "1")
    queue = outbox._queues[("telegram", "1")]
    assert not queue.grouped  # the next load looks its pace group up
    clock.now += 5
    queue.items.append(object())  # type: ignore[arg-type]  # a message waiting in this chat
    assert not outbox.spare_call("telegram", "1")
    assert not outbox.spare_call("telegram", "2")  # nor in another chat of its pace group
    queue.items.clear()
    queue.busy = True  # a message in flight
    assert not outbox.spare_call("telegram", "1")
    queue.busy = False
    assert outbox.spare_call("telegram", "1")


# --- the transports' typing ----------------------------------------------------------------


async def test_telegram_shows_typing_with_send_chat_action() -> None:
    from telegram import Bot

    from bot.telegram import TelegramTransport
    from tests.telegram_standin import TelegramStandIn

    async with TelegramStandIn() as standin, Bot("1:T", base_url=standin.base_url) as bot:
        await TelegramTransport(bot).show_typing("4242")
        assert [(chat, action) for chat, action, _ in standin.chat_actions] == [(4242, "typing")]
        assert standin.messages_for(4242) == []  # typing is not a message


async def test_teams_shows_typing_with_a_typing_activity(sessions) -> None:
    from bot.settings import Settings
    from bot.teams import TeamsTransport
    from bot.teams_auth import build_teams_auth
    from storage.files import FileStore
    from storage.orm import Chat
    from tests.teams_standin import TeamsStandIn

    async with TeamsStandIn() as teams:
        async with sessions() as session, session.begin():
            session.add(Chat(channel="teams", address="a:1", user_id="u",
                             conversation_ref=teams.conversation_reference("a:1")))  # fmt: skip
        transport = TeamsTransport(
            build_teams_auth(Settings(_env_file=None)), sessions, FileStore(sessions)
        )
        await transport.show_typing("a:1")
        assert [conversation for conversation, _ in teams.typing] == ["a:1"]
        assert teams.messages_for("a:1") == []  # typing is not a message

"""Typing indicators: "typing…" in a chat whose reply takes more than a moment.

When an inbound event is handed to the processor, a short timer starts for its chat. If
the reply is still not queued when it runs out (``delay``), the chat's channel shows
that the bot is typing (Telegram ``sendChatAction``, a Teams ``typing`` activity), and
again every ``gap`` seconds while the handling goes on, up to ``longest``. A fast reply
costs no call at all. Each call takes room from the sender's pacing only where no
message waits for it (``Sender.spare_call``), so it never delays or replaces a real
message. Typing is not a message: it is not kept in the outbox, and a failure is logged
at DEBUG and forgotten. See docs/decisions/0022.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger(__name__)

ShowTyping = Callable[[str], Awaitable[None]]  # a channel's "typing…" for one address


class TypingIndicator:
    """Starts, per chat, the timer that shows typing for a slow reply."""

    def __init__(
        self,
        channels: Mapping[str, ShowTyping],
        pending: Callable[[str, str], bool],
        spare: Callable[[str, str], bool],
        *,
        delay: float = 0.8,
        gap: float = 4.0,
        longest: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._channels = dict(channels)
        self._pending = pending
        self._spare = spare
        self._delay = delay
        self._gap = gap
        self._longest = longest
        self._monotonic = monotonic
        self._watching: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._shown: dict[tuple[str, str], float] = {}  # when typing last went to a chat
        self.sent = 0

    def accepted(self, channel: str, address: str) -> None:
        """An event of this chat was handed over: watch for a slow reply."""
        chat = (channel, address)
        if channel not in self._channels or chat in self._watching:
            return
        try:
            task = asyncio.get_running_loop().create_task(self._watch(chat))
        except RuntimeError:  # no running loop (a CLI recovery): nobody to show it to
            return
        self._watching[chat] = task
        task.add_done_callback(lambda _: self._watching.pop(chat, None))

    async def _watch(self, chat: tuple[str, str]) -> None:
        await asyncio.sleep(self._delay)
        started = self._monotonic()
        while self._pending(*chat) and self._monotonic() - started <= self._longest:
            last = self._shown.get(chat)
            if last is None or self._monotonic() - last >= self._gap:
                await self._show(chat)
            await asyncio.sleep(self._gap / 4)

    async def _show(self, chat: tuple[str, str]) -> None:
        channel, address = chat
        if not self._spare(channel, address):
            log.debug("typing: no spare room for %s now; skipped", channel)
            return
        self._shown[chat] = self._monotonic()
        self._forget_old()
        try:
            await self._channels[channel](address)
            self.sent += 1
        except Exception as error:  # cosmetic only: the reply comes all the same
            log.debug("typing: %s failed (%s: %s)", channel, type(error).__name__, error)

    def _forget_old(self) -> None:
        if len(self._shown) <= 10_000:
            return
        cutoff = self._monotonic() - self._gap
        self._shown = {chat: at for chat, at in self._shown.items() if at >= cutoff}

    async def close(self) -> None:
        """Stop watching (at shutdown)."""
        tasks = list(self._watching.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

"""Stopping never hangs: a cancellation that arrives as a background loop is woken is kept.

Python 3.11's ``asyncio.wait_for`` swallows a cancellation that coincides with the
awaited event firing; the sender's loop then ran on, and ``Runtime.close`` waited for
it forever (seen when a reply was queued just as the web app shut down).
"""

from __future__ import annotations

import asyncio

import pytest

from services.delivery import Sender


async def test_the_sender_stops_when_cancelled_as_it_is_woken(sessions) -> None:
    sender = Sender(sessions, {}, {})
    for _ in range(20):  # the race is per wake-up: try it more than once
        task = asyncio.create_task(sender.run())
        await asyncio.sleep(0.05)  # idle, waiting to be woken
        sender.wake()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), timeout=2)

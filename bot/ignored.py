"""A tally of what arrived and was ignored on purpose, so an operator can see it.

Group chats, channel posts, reactions, polls, edits, typing... are not for surveys and
are dropped without a word to anyone; counting them per channel and kind (shown in
``/healthz``) and logging each at DEBUG tells an operator what is arriving.
"""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger(__name__)

MAX_KINDS = 200  # kinds come from the sender: keep the tally small whatever arrives


class IgnoredTally:
    """Counts of ignored updates and activities per channel and kind, since the start."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, channel: str, kind: str) -> None:
        """Count one ignored update or activity and log its kind (DEBUG)."""
        kind = kind[:60]
        if (channel, kind) not in self._counts and len(self._counts) >= MAX_KINDS:
            kind = "other"
        self._counts[(channel, kind)] += 1
        log.debug("%s: ignored %s", channel, kind)

    def count(self, channel: str, kind: str) -> int:
        return self._counts[(channel, kind)]

    def snapshot(self) -> dict[str, dict[str, int]]:
        """``{channel: {kind: count}}``, for the health check's JSON."""
        shown: dict[str, dict[str, int]] = {}
        for (channel, kind), number in sorted(self._counts.items()):
            shown.setdefault(channel, {})[kind] = number
        return shown

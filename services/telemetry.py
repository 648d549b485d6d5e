"""What the inbound processor and the sender tell an observer (``/metrics``, bot/metrics.py).

Services know nothing of Prometheus: they call these methods, and the composition root
passes an object that counts. The default counts nothing, so tests and the CLI need none.
"""

from __future__ import annotations

from typing import Literal, Protocol

# What became of one platform call that tried to deliver a message.
SendOutcome = Literal["ok", "429", "403", "error"]
# Why a message was put back to be sent again later.
RetryReason = Literal["throttled", "transient", "no_answer", "error"]


class Telemetry(Protocol):
    """Receives counts and durations as they happen; must be cheap and never raise."""

    def inbound_recorded(self, channel: str, kind: str) -> None:
        """A new inbound event (not a redelivered one) was recorded."""

    def inbound_handled(self, channel: str, seconds: float) -> None:
        """An event was handled, ``seconds`` after it was recorded."""

    def send_finished(self, channel: str, outcome: SendOutcome) -> None:
        """A delivery attempt ended with ``outcome``."""

    def send_retried(self, channel: str, reason: RetryReason) -> None:
        """A message was scheduled to be sent again."""


class NoTelemetry:
    """Counts nothing."""

    def inbound_recorded(self, channel: str, kind: str) -> None:
        pass

    def inbound_handled(self, channel: str, seconds: float) -> None:
        pass

    def send_finished(self, channel: str, outcome: SendOutcome) -> None:
        pass

    def send_retried(self, channel: str, reason: RetryReason) -> None:
        pass


NO_TELEMETRY: Telemetry = NoTelemetry()

"""Lyttepost's Prometheus metrics: counters kept in memory, gauges read at scrape time.

One registry per runtime (never prometheus_client's global one), so two runtimes in one
process, as in the tests, count apart. ``Metrics`` is the ``Telemetry`` the inbound
processor and the sender report to; ``render`` reads the database's figures
(services/gauges.py) and returns the whole text exposition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from services.gauges import Gauges, read_gauges
from services.telemetry import RetryReason, SendOutcome
from storage.sessions import Sessions

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SCRAPE_TIMEOUT_SECONDS = 5.0  # a database that does not answer leaves its gauges out
# From a fast reply (tens of ms) to an event that waited out a database outage.
PROCESSING_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
OUTCOMES: tuple[SendOutcome, ...] = ("ok", "429", "403", "error")
KINDS = ("text", "press", "other")


class DatabaseGauges(Collector):
    """The figures ``render`` just read, as gauge families (nothing between scrapes)."""

    def __init__(self, holder: str | None) -> None:
        self.holder = holder  # this process's lease identity (None: it runs no scheduler)
        self.gauges: Gauges | None = None
        self.database_up = False

    def describe(self) -> Iterable[Metric]:
        return []  # families depend on what the database holds; nothing to check up front

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "lyttepost_database_up", "1 if the database answered this scrape's queries, else 0"
        )
        up.add_metric([], 1.0 if self.database_up else 0.0)
        yield up
        gauges = self.gauges
        if gauges is None:
            return
        depth = GaugeMetricFamily(
            "lyttepost_outbox_messages",
            "Messages not yet delivered, by kind, priority and status "
            "(pending: waiting; sending: claimed by a sender; held: its round is paused)",
            labels=["kind", "priority", "status"],
        )
        for row in gauges.outbox:
            depth.add_metric([row.kind, str(row.priority), row.status], row.messages)
        yield depth
        responses = GaugeMetricFamily(
            "lyttepost_round_responses",
            "Responses to each open round: started (begun, not sent in) and submitted",
            labels=["round_id", "state"],
        )
        for round_ in gauges.rounds:
            responses.add_metric([str(round_.round_id), "started"], round_.started)
            responses.add_metric([str(round_.round_id), "submitted"], round_.submitted)
        yield responses
        holder = GaugeMetricFamily(
            "lyttepost_scheduler_lease_holder",
            "1 for the process holding the scheduler lease now (no sample: nobody holds it)",
            labels=["holder"],
        )
        if gauges.lease_holder is not None:
            holder.add_metric([gauges.lease_holder], 1.0)
        yield holder
        held = GaugeMetricFamily(
            "lyttepost_scheduler_lease_held",
            "1 if this process holds the scheduler lease, else 0",
        )
        mine = self.holder is not None and gauges.lease_holder == self.holder
        held.add_metric([], 1.0 if mine else 0.0)
        yield held
        senders = GaugeMetricFamily(
            "lyttepost_senders", "Processes sending from the outbox now (live sender leases)"
        )
        senders.add_metric([], gauges.senders)
        yield senders


class Metrics:
    """The registry, the instruments the services feed, and the scrape-time reads."""

    def __init__(
        self,
        sessions: Sessions,
        *,
        channels: Iterable[str],
        lease_name: str,
        holder: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._lease_name = lease_name
        self._clock = clock
        self._lock = asyncio.Lock()
        self.registry = CollectorRegistry(auto_describe=False)
        self.inbound = Counter(
            "lyttepost_inbound_events",
            "Inbound events recorded (redeliveries not counted), by channel and kind",
            ["channel", "kind"],
            registry=self.registry,
        )
        self.processing = Histogram(
            "lyttepost_inbound_processing_seconds",
            "Seconds from an inbound event's record to its handling committed, by channel",
            ["channel"],
            buckets=PROCESSING_BUCKETS,
            registry=self.registry,
        )
        self.sends = Counter(
            "lyttepost_sends",
            "Delivery attempts by channel and outcome (ok, 429 throttled, 403 unreachable, "
            "error: anything else)",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "lyttepost_send_retries",
            "Messages put back to be sent again, by channel and reason "
            "(throttled, transient, no_answer, error)",
            ["channel", "reason"],
            registry=self.registry,
        )
        for channel in channels:  # series exist from the start, so rate() sees the first one
            for kind in KINDS:
                self.inbound.labels(channel, kind)
            for outcome in OUTCOMES:
                self.sends.labels(channel, outcome)
        self.database = DatabaseGauges(holder)
        self.registry.register(self.database)

    # --- Telemetry -------------------------------------------------------------------------

    def inbound_recorded(self, channel: str, kind: str) -> None:
        self.inbound.labels(channel, kind).inc()

    def inbound_handled(self, channel: str, seconds: float) -> None:
        self.processing.labels(channel).observe(seconds)

    def send_finished(self, channel: str, outcome: SendOutcome) -> None:
        self.sends.labels(channel, outcome).inc()

    def send_retried(self, channel: str, reason: RetryReason) -> None:
        self.retries.labels(channel, reason).inc()

    # --- scraping --------------------------------------------------------------------------

    async def render(self) -> bytes:
        """The text exposition, with the database's figures read now.

        Scrapes take turns (the lock), so one scrape's figures never end up in another's
        text; a database that fails or is slow gives ``lyttepost_database_up 0`` and the
        in-memory metrics alone, never an error.
        """
        async with self._lock:
            gauges: Gauges | None = None
            try:
                async with asyncio.timeout(SCRAPE_TIMEOUT_SECONDS), self._sessions() as session:
                    gauges = await read_gauges(
                        session, lease_name=self._lease_name, now=self._clock()
                    )
            except (SQLAlchemyError, OSError, TimeoutError) as error:
                log.warning("metrics: database figures unavailable (%s)", type(error).__name__)
            self.database.gauges = gauges
            self.database.database_up = gauges is not None
            try:
                return generate_latest(self.registry)
            finally:
                self.database.gauges = None

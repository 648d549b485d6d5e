"""Retention: how long personal data is kept, and the sweep that erases it when it is due.

Two clocks (docs/decisions/0011):

* **Rounds.** ``retention_months`` after a round closed (or was cancelled), its free-text
  answers are erased (answer rows and the response state alike) and every link from its
  answers to a person is dropped: ``responses.contact_id``, ``round_invitees.contact_id``,
  chats still pointing at a response, outbox dedupe keys naming a response and a contact.
  Choices, scales, yes/no and numbers stay, per organisation, for trends.
  ``personal_data_erased_at`` marks the round, so the sweep is idempotent.
* **Raw messages.** ``RAW_MESSAGE_RETENTION_DAYS`` after they arrived, processed inbound
  events are deleted; finished outbox rows lose their text (``payload``) but keep the
  status, times and recipient that delivery reports count; failed code attempts go.

``sweep`` is a plain function over a session and a clock, so tests run it on a fake
clock on both databases; ``RetentionSweeper`` is what the daily scheduler job calls.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialogs.dates import iso
from services import privacy
from services.lifecycle import record_event
from services.responses import erase_free_text
from services.surveys import SurveyCatalog
from storage.db import affected_rows, scrub_files
from storage.orm import (
    Chat,
    CodeAttempt,
    Contact,
    InboundEvent,
    OutboxMessage,
    PrivacyLogEntry,
    Response,
    ResponseVersion,
    Round,
    RoundInvitee,
)

log = logging.getLogger(__name__)

FINISHED = ("sent", "failed", "cancelled", "interrupted")  # outbox rows nothing will send
ACTOR = "retention"


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the month's last day if it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def round_ended_at(round_: Round) -> datetime | None:
    """When a round stopped taking answers: its closing or its cancellation."""
    if round_.status == "closed":
        return round_.closed_at
    if round_.status == "cancelled":
        return round_.cancelled_at
    return None


def erase_due_at(round_: Round) -> datetime | None:
    """When a round's free text and links to persons are due for erasure (None: still open)."""
    ended = round_ended_at(round_)
    return add_months(ended, round_.retention_months) if ended else None


# --- the sweep --------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """What one sweep erased and purged."""

    rounds_erased: list[int] = field(default_factory=list)
    free_text_answers: int = 0
    responses_unlinked: int = 0
    invitations_unlinked: int = 0
    inbound_events_deleted: int = 0
    outbox_texts_removed: int = 0
    code_attempts_deleted: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything was erased (then SQLite's files are scrubbed)."""
        return any(asdict(self).values())

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document and the privacy log's detail."""
        return asdict(self)


async def erase_round(
    session: AsyncSession, catalog: SurveyCatalog, round_: Round, now: datetime, result: SweepResult
) -> None:
    """Erase one round's free text and its links from answers to persons, once."""
    if round_.personal_data_erased_at is not None:
        return
    survey = await catalog.get(session, round_.survey_version_id)
    responses = list(await session.scalars(select(Response).where(Response.round_id == round_.id)))
    texts = 0
    for response in responses:
        texts += await erase_free_text(session, response, survey)
        if response.contact_id is not None:
            result.responses_unlinked += 1
            response.contact_id = None
        response.approved_by_contact_id = None  # who approved a delegate's answer
    result.free_text_answers += texts
    await session.flush()
    if responses:
        await _run(session, update(Chat)
                   .where(Chat.active_response_id.in_([r.id for r in responses]))
                   .values(active_response_id=None))  # fmt: skip
        await _run(session, update(ResponseVersion)
                   .where(ResponseVersion.response_id.in_([r.id for r in responses]))
                   .values(contact_id=None))  # fmt: skip
    unlinked = await session.execute(
        update(RoundInvitee)
        .where(RoundInvitee.round_id == round_.id, RoundInvitee.contact_id.is_not(None))
        .values(contact_id=None)
        .execution_options(synchronize_session=False)
    )
    result.invitations_unlinked += affected_rows(unlinked)
    # Dedupe keys such as "round_closed:<round>:<response>:<contact>" tie a response to a
    # person; the round is long over, so nothing needs them to prevent a duplicate.
    await _run(session, update(OutboxMessage).where(OutboxMessage.round_id == round_.id)
               .values(dedupe_key=None))  # fmt: skip
    round_.personal_data_erased_at = now
    await record_event(
        session, round_, now, ACTOR, "personal_data_erased",
        free_text_answers=texts, responses=len(responses),
    )  # fmt: skip
    result.rounds_erased.append(round_.id)


async def sweep(
    session: AsyncSession, catalog: SurveyCatalog, now: datetime, *, raw_days: int
) -> SweepResult:
    """Erase and purge everything due at ``now``, in the caller's transaction."""
    result = SweepResult()
    candidates = await session.scalars(
        select(Round)
        .where(Round.status.in_(["closed", "cancelled"]), Round.personal_data_erased_at.is_(None))
        .order_by(Round.id)
    )
    for round_ in list(candidates):
        due = erase_due_at(round_)
        if due is not None and due <= now:
            await erase_round(session, catalog, round_, now, result)
    cutoff = now - timedelta(days=raw_days)
    inbound = await session.execute(
        delete(InboundEvent)
        .where(InboundEvent.processed_at.is_not(None), InboundEvent.received_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    result.inbound_events_deleted = affected_rows(inbound)
    purged = await session.execute(
        update(OutboxMessage)
        .where(*_outbox_due(cutoff))
        .values(payload={}, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    result.outbox_texts_removed = affected_rows(purged)
    attempts = await session.execute(
        delete(CodeAttempt)
        .where(CodeAttempt.attempted_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    result.code_attempts_deleted = affected_rows(attempts)
    await privacy.record(session, now, ACTOR, "sweep", None, **result.to_json())
    return result


def _outbox_due(cutoff: datetime) -> tuple[Any, ...]:
    return (
        OutboxMessage.status.in_(FINISHED),
        OutboxMessage.purged_at.is_(None),
        OutboxMessage.created_at < cutoff,
    )


async def _run(session: AsyncSession, statement: Any) -> None:
    await session.execute(statement.execution_options(synchronize_session=False))


class RetentionSweeper:
    """The daily job: one sweep in one transaction, then SQLite's files scrubbed."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        catalog: SurveyCatalog,
        clock: Callable[[], datetime],
        *,
        raw_days: int,
    ) -> None:
        self.sessions = sessions
        self.engine = engine
        self.catalog = catalog
        self.clock = clock
        self.raw_days = raw_days

    async def run(self) -> SweepResult:
        """Sweep now; logs what was done (counts only)."""
        async with self.sessions() as session, session.begin():
            result = await sweep(session, self.catalog, self.clock(), raw_days=self.raw_days)
        if result.changed:
            await scrub_files(self.engine)
        log.info("retention sweep: %s", result.to_json())
        return result

    async def catch_up(self) -> SweepResult | None:
        """Sweep now if the last sweep is more than a day old (the process was down at the
        daily time, or this process just took over the scheduler)."""
        async with self.sessions() as session:
            last = await session.scalar(
                select(func.max(PrivacyLogEntry.at)).where(PrivacyLogEntry.action == "sweep")
            )
        if last is not None and self.clock() - last < timedelta(hours=23):
            return None
        return await self.run()


# --- status -----------------------------------------------------------------------------------


async def retention_status(
    session: AsyncSession, now: datetime, *, raw_days: int, next_sweep_at: datetime | None
) -> dict[str, Any]:
    """What is due for erasure when: per round, and for the raw messages."""
    rounds = []
    for round_ in await session.scalars(select(Round).order_by(Round.id)):
        due = erase_due_at(round_)
        if round_.personal_data_erased_at is not None:
            state = "erased"
        elif due is None:
            state = "running"  # planned or open: the clock starts when it closes
        else:
            state = "due" if due <= now else "scheduled"
        rounds.append({
            "id": round_.id, "title": round_.title, "status": round_.status,
            "ended_at": iso(round_ended_at(round_)), "retention_months": round_.retention_months,
            "erase_due_at": iso(due), "erased_at": iso(round_.personal_data_erased_at),
            "state": state,
        })  # fmt: skip
    cutoff = now - timedelta(days=raw_days)
    processed = InboundEvent.processed_at.is_not(None)
    finished = (OutboxMessage.status.in_(FINISHED), OutboxMessage.purged_at.is_(None))
    raw = {
        "inbound_events": await _raw(
            session, InboundEvent.received_at, [processed], cutoff, raw_days
        ),
        "outbox_texts": await _raw(
            session, OutboxMessage.created_at, list(finished), cutoff, raw_days
        ),
        "code_attempts": await _raw(session, CodeAttempt.attempted_at, [], cutoff, raw_days),
    }
    contacts = await _contact_counts(session)
    last = await session.scalar(
        select(PrivacyLogEntry)
        .where(PrivacyLogEntry.action == "sweep")
        .order_by(PrivacyLogEntry.at.desc(), PrivacyLogEntry.id.desc())
        .limit(1)
    )
    return {
        "now": now.isoformat(),
        "raw_message_retention_days": raw_days,
        "next_sweep_at": iso(next_sweep_at),
        "last_sweep": {"at": last.at.isoformat(), **last.detail} if last else None,
        "rounds": rounds,
        "raw": raw,
        "contacts": contacts,
    }


async def _raw(
    session: AsyncSession, stamp: Any, conditions: list[Any], cutoff: datetime, raw_days: int
) -> dict[str, Any]:
    """Rows held, how many are past the cutoff (purged by the next sweep), and when the
    oldest of the others will be."""
    model = stamp.class_
    held = await session.scalar(select(func.count()).select_from(model).where(*conditions))
    due = await session.scalar(
        select(func.count()).select_from(model).where(*conditions, stamp < cutoff)
    )
    oldest = await session.scalar(select(func.min(stamp)).where(*conditions, stamp >= cutoff))
    return {
        "held": int(held or 0),
        "due_now": int(due or 0),
        "next_due_at": iso(oldest + timedelta(days=raw_days)) if oldest else None,
    }


async def _contact_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Contact.active, Contact.erased_at))
    counts = {"active": 0, "deactivated": 0, "erased": 0}
    for active, erased_at in rows:
        key = "erased" if erased_at is not None else "active" if active else "deactivated"
        counts[key] += 1
    return counts

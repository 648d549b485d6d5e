"""The transitions of a collection round: open, invite, remind, close, and admins' changes.

Each function is one step, done inside the caller's transaction, guarded by the round's
markers so that doing it twice changes nothing (a scheduler job that fires twice, a
retried transaction, an admin pressing a button twice). *When* to take a step is
decided by ``scheduler/``; these functions decide only *what* it means. Every step is
recorded in the round's history (``round_events``) with who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import cycle_texts
from dialogs.dates import format_datetime
from dialogs.engine import StepContext, step
from dialogs.events import RoundClosed
from dialogs.i18n import speaking
from dialogs.reminders import QuietRules
from dialogs.state import ResponseState
from services.languages import language_of
from services.responses import save_state
from services.rounds import (
    RoundError,
    audience_ids,
    latest_chat,
    reachable_chats,
    submitted_ids,
)
from services.surveys import SurveyCatalog, latest_version
from storage import outbox
from storage.orm import (
    Chat,
    Contact,
    Organisation,
    OutboxMessage,
    Response,
    Round,
    RoundEvent,
    RoundInvitee,
    SurveyVersion,
)
from storage.upsert import insert_ignoring_conflicts

ACTIVE = ("planned", "open")


class LifecycleError(RoundError):
    """A change an admin asked for that the round's state does not allow."""


async def load_round(session: AsyncSession, round_id: int) -> Round:
    """A round, locked for this transaction (PostgreSQL), or ``LookupError``."""
    round_ = await session.scalar(
        select(Round)
        .where(Round.id == round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if round_ is None:
        raise LookupError(f"no round with id {round_id}")
    return round_


async def record_event(
    session: AsyncSession, round_: Round, now: datetime, actor: str, action: str, **detail: Any
) -> None:
    """Add a line to the round's history."""
    session.add(RoundEvent(round_id=round_.id, at=now, actor=actor, action=action, detail=detail))
    round_.updated_at = now


# --- the cycle ------------------------------------------------------------------------------


async def open_round(
    session: AsyncSession,
    round_: Round,
    now: datetime,
    zone: ZoneInfo,
    *,
    actor: str,
    invite: bool = True,
) -> int:
    """Open a planned round; with ``invite``, queue its invitations now. Returns how many.

    The round takes the newest version of its survey now and keeps it from then on, so
    a survey file corrected after planning is the one members answer.
    """
    if round_.status == "planned":
        round_.status = "open"
        round_.opened_at = now
        pinned = await session.get(SurveyVersion, round_.survey_version_id)
        newest = await latest_version(session, pinned.key) if pinned else None
        if newest is not None:
            round_.survey_version_id = newest.id
        await record_event(
            session, round_, now, actor, "opened", survey_version=round_.survey_version_id
        )
    if round_.status != "open" or not invite:
        return 0
    return await queue_invitations(session, round_, now, zone, actor=actor)


async def queue_invitations(
    session: AsyncSession, round_: Round, now: datetime, zone: ZoneInfo, *, actor: str
) -> int:
    """Queue one invitation per reachable contact of every organisation in the audience.

    Idempotent: a contact is invited once per round (the invitee row and the outbox
    dedupe key), so opening twice, or a crash halfway through, never invites anyone twice.
    Organisations that have already submitted are skipped.
    """
    if round_.status != "open" or round_.invitations_queued_at is not None:
        return 0
    queued = 0
    invitees = []
    for chat, contact, organisation in await _waiting_for(session, round_):
        with speaking(language_of(contact, organisation)):
            message = cycle_texts.invitation(
                contact_name=contact.name,
                org_name=organisation.name,
                title=round_.title,
                closes=format_datetime(round_.closes_at, zone),
                round_id=round_.id,
            )
        queued += await _send(session, now, round_, chat, contact, [message], "invitation", "")
        invitees.append(
            {"round_id": round_.id, "contact_id": contact.id,
             "organisation_id": organisation.id, "invited_at": now}
        )  # fmt: skip
    await insert_ignoring_conflicts(
        session,
        RoundInvitee.__table__,
        invitees,
        ["round_id", "contact_id"],
    )
    round_.invitations_queued_at = now
    await record_event(session, round_, now, actor, "invited", queued=queued)
    return queued


async def send_reminders(
    session: AsyncSession,
    round_: Round,
    now: datetime,
    zone: ZoneInfo,
    *,
    due_for: datetime,
    actor: str = "scheduler",
) -> int:
    """Remind every reachable contact of each organisation that has not submitted.

    ``due_for`` is the reminder's planned moment: it names the reminder (one per contact)
    and becomes ``last_reminder_for``, so earlier missed reminders are never replayed.
    """
    if round_.status != "open" or round_.paused_at is not None:
        return 0
    if round_.last_reminder_for is not None and due_for <= round_.last_reminder_for:
        return 0
    started = set(
        await session.scalars(
            select(Response.organisation_id).where(Response.round_id == round_.id)
        )
    )
    queued = 0
    for chat, contact, organisation in await _waiting_for(session, round_):
        with speaking(language_of(contact, organisation)):
            message = cycle_texts.reminder(
                contact_name=contact.name,
                org_name=organisation.name,
                title=round_.title,
                closes=format_datetime(round_.closes_at, zone),
                round_id=round_.id,
                started=organisation.id in started,
            )
        key = f"{int(due_for.timestamp())}"
        queued += await _send(session, now, round_, chat, contact, [message], "reminder", key)
    round_.last_reminder_for = due_for
    await record_event(
        session, round_, now, actor, "reminded", due_for=due_for.isoformat(), queued=queued
    )
    return queued


async def remind_now(
    session: AsyncSession, round_: Round, now: datetime, zone: ZoneInfo, *, actor: str
) -> ChangeResult:
    """Remind the organisations still missing now, at a staff member's request.

    It counts as the reminder planned for any moment up to now, so the cycle does not
    send another one on top of it; later planned reminders still go out."""
    if round_.status != "open":
        raise LifecycleError(f"runde {round_.id} er ikke åpen, så ingen kan minnes på den")
    if round_.paused_at is not None:
        raise LifecycleError(f"runde {round_.id} er satt på pause; fortsett den først")
    queued = await send_reminders(session, round_, now, zone, due_for=now, actor=actor)
    return ChangeResult(round_.id, round_.status, notified=queued)


async def waiting_contacts(session: AsyncSession, round_: Round) -> tuple[int, int]:
    """How many reachable contacts, in how many organisations, a reminder would reach now."""
    waiting = await _waiting_for(session, round_)
    return len(waiting), len({organisation.id for _, _, organisation in waiting})


async def skip_reminder(
    session: AsyncSession, round_: Round, now: datetime, due_for: datetime
) -> None:
    """Mark a reminder as handled without sending it (it came right with the invitations)."""
    round_.last_reminder_for = due_for
    await record_event(
        session, round_, now, "scheduler", "reminder_skipped", due_for=due_for.isoformat()
    )


async def close_round(
    session: AsyncSession,
    round_: Round,
    now: datetime,
    catalog: SurveyCatalog,
    *,
    actor: str,
    **detail: Any,
) -> int:
    """Close a round at its deadline; the answers are final and ready for reporting.

    Responses not submitted are closed with what they hold (status ``incomplete``);
    invitations and reminders not yet delivered are withdrawn. The members concerned
    are told by ``notify_closed``, at a moment they may be messaged. Returns how many
    responses were closed incomplete; ``detail`` goes into the history with the rest.
    """
    if round_.status not in ACTIVE:
        return 0
    never_opened = round_.status == "planned"
    round_.status = "closed"
    round_.closed_at = now
    withdrawn = await outbox.move_round_messages(
        session, round_.id, ("pending", "held"), "cancelled"
    )
    incomplete = await _close_responses(session, round_, now, catalog)
    if never_opened or incomplete == 0:
        round_.closed_notices_at = now
    submitted = len(await submitted_ids(session, round_.id))
    await record_event(
        session, round_, now, actor, "closed",
        submitted=submitted, incomplete=incomplete, withdrawn=withdrawn, never_opened=never_opened,
        **detail,
    )  # fmt: skip
    return incomplete


async def _close_responses(
    session: AsyncSession, round_: Round, now: datetime, catalog: SurveyCatalog
) -> int:
    # Changes to a submitted response that were never sent in: the submission stands.
    for reopened in await session.scalars(
        select(Response).where(Response.round_id == round_.id, Response.draft.is_not(None))
    ):
        reopened.draft = None
    responses = list(
        await session.scalars(
            select(Response).where(Response.round_id == round_.id, Response.status != "submitted")
        )
    )
    if not responses:
        return 0
    survey = await catalog.get(session, round_.survey_version_id)
    for response in responses:
        state = ResponseState.model_validate(response.state)
        if state.phase not in ("submitted", "closed"):
            result = step(
                survey, state, RoundClosed(), StepContext(org_name="", contact_name="", closes="")
            )
            state = result.state
        await save_state(session, response, state, now, submitted=False)
        response.status = "incomplete"
    return len(responses)


async def notify_closed(session: AsyncSession, round_: Round, now: datetime, zone: ZoneInfo) -> int:
    """Tell members whose response was closed incomplete; once, and not if they already know.

    A member who wrote to Lyttepost after the close was told then (their response was
    updated after ``closed_at``), so they are not told again.
    """
    if round_.status != "closed" or round_.closed_notices_at is not None:
        return 0
    assert round_.closed_at is not None
    rows = await session.execute(
        select(Response, Contact, Organisation)
        .join(Contact, Response.contact_id == Contact.id)
        .join(Organisation, Response.organisation_id == Organisation.id)
        .where(
            Response.round_id == round_.id,
            Response.status == "incomplete",
            Response.updated_at <= round_.closed_at,
        )
    )
    planned = await _deadline_before_closing_early(session, round_)
    queued = 0
    for response, contact, organisation in rows:
        chat = await latest_chat(session, contact.id)
        if chat is None:
            continue
        with speaking(language_of(contact, organisation)):
            message = cycle_texts.round_closed(
                org_name=organisation.name,
                title=round_.title,
                closes=format_datetime(round_.closes_at, zone),
                was_due=format_datetime(planned, zone) if planned is not None else None,
            )
        queued += await _send(
            session, now, round_, chat, contact, [message], "round_closed", str(response.id)
        )
    round_.closed_notices_at = now
    await record_event(session, round_, now, "scheduler", "closed_notified", queued=queued)
    return queued


async def _deadline_before_closing_early(session: AsyncSession, round_: Round) -> datetime | None:
    """The deadline members had been given, if an admin closed the round before it."""
    detail = await session.scalar(
        select(RoundEvent.detail)
        .where(RoundEvent.round_id == round_.id, RoundEvent.action == "closed")
        .order_by(RoundEvent.id.desc())
        .limit(1)
    )
    planned = (detail or {}).get("planned_deadline")
    return datetime.fromisoformat(planned) if isinstance(planned, str) else None


# --- admins' changes -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeResult:
    """What an admin's change did, for the CLI and chat replies."""

    round_id: int
    status: str
    withdrawn: int = 0
    notified: int = 0
    released: int = 0
    incomplete: int = 0


@dataclass(frozen=True)
class ClosePreview:
    """What closing an open round now would do: for the confirmation question."""

    round_id: int
    title: str
    closes_at: datetime
    submitted: int
    unfinished: int  # responses started but not sent in: kept as incomplete, authors told


async def close_preview(session: AsyncSession, round_id: int) -> ClosePreview:
    """What ``close_now`` would do to a round; ``LifecycleError`` if it cannot be closed."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"no round with id {round_id}")
    require_open(round_)
    statuses = list(
        await session.scalars(select(Response.status).where(Response.round_id == round_id))
    )
    submitted = sum(1 for status in statuses if status == "submitted")
    return ClosePreview(
        round_.id, round_.title, round_.closes_at, submitted, len(statuses) - submitted
    )


def require_open(round_: Round) -> None:
    """Only an open round can be closed early; the message says what to do instead."""
    if round_.status == "planned":
        raise LifecycleError(
            f"runde {round_.id} er ikke åpnet ennå, så den kan ikke stenges; avlys den "
            "hvis den ikke skal holdes"
        )
    if round_.status == "closed":
        raise LifecycleError(f"runde {round_.id} er allerede stengt")
    if round_.status != "open":
        raise LifecycleError(f"runde {round_.id} er avlyst og kan ikke stenges")


async def close_now(
    session: AsyncSession,
    round_: Round,
    now: datetime,
    zone: ZoneInfo,
    catalog: SurveyCatalog,
    *,
    actor: str,
) -> ChangeResult:
    """Close an open round now, before its deadline: what the deadline itself does.

    The deadline becomes now (so every later view says when it really closed; the
    history keeps the one members had been given), then the round is closed by the
    same step the scheduler takes at a deadline: half-done answers are kept and marked
    incomplete, undelivered invitations and reminders withdrawn. Their authors are told
    now if members may be messaged now, otherwise by the scheduler at the next allowed
    moment, exactly as after a deadline.
    """
    require_open(round_)
    planned_deadline = round_.closes_at
    withdrawn = await session.scalar(
        select(func.count()).where(
            OutboxMessage.round_id == round_.id, OutboxMessage.status.in_(["pending", "held"])
        )
    )
    round_.closes_at = now
    incomplete = await close_round(
        session, round_, now, catalog, actor=actor, planned_deadline=planned_deadline.isoformat()
    )
    notified = 0
    if QuietRules.from_json(round_.quiet_rules).allows(now, zone):
        notified = await notify_closed(session, round_, now, zone)
    return ChangeResult(
        round_.id, round_.status, withdrawn=withdrawn or 0, notified=notified, incomplete=incomplete
    )


def require_active(round_: Round, what: str) -> None:
    if round_.status not in ACTIVE:
        state = {"closed": "er stengt", "cancelled": "er avlyst"}.get(round_.status, round_.status)
        raise LifecycleError(f"runde {round_.id} {state} og kan ikke {what}")


async def cancel_round(
    session: AsyncSession, round_: Round, now: datetime, *, actor: str
) -> ChangeResult:
    """Cancel a round: nothing more goes out, and members who were told of it are told it is off."""
    require_active(round_, "avlyses")
    round_.status = "cancelled"
    round_.cancelled_at = now
    withdrawn = await outbox.move_round_messages(
        session, round_.id, ("pending", "held"), "cancelled"
    )
    responses = list(
        await session.scalars(
            select(Response).where(Response.round_id == round_.id, Response.status != "submitted")
        )
    )
    for response in responses:
        response.status = "incomplete"
        response.updated_at = now
    # Those who got an invitation, or answered, hear that it is off; nobody else.
    told = select(OutboxMessage.contact_id).where(
        OutboxMessage.round_id == round_.id,
        OutboxMessage.kind.in_(outbox.OUTREACH_KINDS),
        # sending: in flight, will arrive; interrupted, uncertain: may have arrived
        OutboxMessage.status.in_(["sent", "sending", "interrupted", "uncertain"]),
    )
    answered = select(Response.contact_id).where(Response.round_id == round_.id)
    # Invitees without any outreach message registered after the round opened and were
    # offered it in chat: they know of it too.
    outreach = select(OutboxMessage.contact_id).where(
        OutboxMessage.round_id == round_.id,
        OutboxMessage.kind.in_(outbox.OUTREACH_KINDS),
        OutboxMessage.contact_id.is_not(None),
    )
    offered = select(RoundInvitee.contact_id).where(
        RoundInvitee.round_id == round_.id, RoundInvitee.contact_id.not_in(outreach)
    )
    contact_ids = (
        set(await session.scalars(told))
        | set(await session.scalars(answered))
        | set(await session.scalars(offered))
    )
    notified = 0
    for contact_id in sorted(i for i in contact_ids if i is not None):
        contact = await session.get(Contact, contact_id)
        chat = await latest_chat(session, contact_id)
        if contact is None or chat is None:
            continue
        organisation = await session.get(Organisation, contact.organisation_id)
        assert organisation is not None
        with speaking(language_of(contact, organisation)):
            message = cycle_texts.round_cancelled(org_name=organisation.name, title=round_.title)
        notified += await _send(
            session, now, round_, chat, contact, [message], "round_cancelled", ""
        )
    await record_event(
        session, round_, now, actor, "cancelled", withdrawn=withdrawn, notified=notified
    )
    return ChangeResult(round_.id, round_.status, withdrawn=withdrawn, notified=notified)


async def pause_round(
    session: AsyncSession, round_: Round, now: datetime, *, actor: str
) -> ChangeResult:
    """Hold a round's outreach: no opening, invitations or reminders until resumed.

    Members can still answer an open round, and the deadline still closes it.
    """
    require_active(round_, "settes på pause")
    if round_.paused_at is not None:
        return ChangeResult(round_.id, round_.status)
    round_.paused_at = now
    held = await outbox.move_round_messages(session, round_.id, ("pending",), "held")
    await record_event(session, round_, now, actor, "paused", held=held)
    return ChangeResult(round_.id, round_.status, withdrawn=held)


async def resume_round(
    session: AsyncSession, round_: Round, now: datetime, *, actor: str
) -> ChangeResult:
    """Release a paused round: held messages go out, and the cycle catches up."""
    require_active(round_, "gjenopptas")
    if round_.paused_at is None:
        return ChangeResult(round_.id, round_.status)
    round_.paused_at = None
    released = await outbox.move_round_messages(session, round_.id, ("held",), "pending")
    await record_event(session, round_, now, actor, "resumed", released=released)
    return ChangeResult(round_.id, round_.status, released=released)


async def change_dates(
    session: AsyncSession,
    round_: Round,
    now: datetime,
    zone: ZoneInfo,
    *,
    actor: str,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> ChangeResult:
    """Reschedule a planned round's opening, or move a round's deadline (extend or shorten).

    Organisations of an open round that have not submitted are told the new deadline.
    """
    require_active(round_, "endres")
    if opens_at is not None and opens_at != round_.opens_at:
        if round_.status != "planned":
            raise LifecycleError(f"runde {round_.id} er allerede åpnet; bare fristen kan endres")
        round_.opens_at = opens_at
    if closes_at is not None and closes_at <= now:
        raise LifecycleError("den nye fristen har allerede passert")
    new_closes = closes_at or round_.closes_at
    if new_closes <= round_.opens_at:
        raise LifecycleError("runden må stenge etter at den åpner")
    notified = 0
    changed_deadline = new_closes != round_.closes_at
    round_.closes_at = new_closes
    if changed_deadline and round_.status == "open":
        notified = await _tell_new_deadline(session, round_, now, zone)
    await record_event(
        session, round_, now, actor, "rescheduled",
        opens_at=round_.opens_at.isoformat(), closes_at=round_.closes_at.isoformat(),
        notified=notified,
    )  # fmt: skip
    return ChangeResult(round_.id, round_.status, notified=notified)


async def _tell_new_deadline(
    session: AsyncSession, round_: Round, now: datetime, zone: ZoneInfo
) -> int:
    invited = set(
        await session.scalars(
            select(RoundInvitee.contact_id).where(RoundInvitee.round_id == round_.id)
        )
    )
    notified = 0
    for chat, contact, organisation in await _waiting_for(session, round_):
        if contact.id not in invited:
            continue
        with speaking(language_of(contact, organisation)):
            message = cycle_texts.deadline_changed(
                org_name=organisation.name,
                title=round_.title,
                closes=format_datetime(round_.closes_at, zone),
                round_id=round_.id,
            )
        key = f"{int(round_.closes_at.timestamp())}"
        notified += await _send(
            session, now, round_, chat, contact, [message], "deadline_changed", key
        )
    return notified


# --- helpers -----------------------------------------------------------------------------


async def _waiting_for(
    session: AsyncSession, round_: Round
) -> list[tuple[Chat, Contact, Organisation]]:
    """Each reachable contact of every organisation in the audience that has not submitted.

    Where a delegate's answer waits for approval (ADR 20), only the contact who must
    approve it is reminded: the others have nothing left to do.
    """
    submitted = await submitted_ids(session, round_.id)
    approvers: dict[int, int | None] = {
        organisation_id: approver
        for organisation_id, approver in await session.execute(
            select(Response.organisation_id, Contact.delegate_for_contact_id)
            .join(Contact, Contact.id == Response.contact_id)
            .where(Response.round_id == round_.id, Response.status == "awaiting_approval")
        )
    }
    return [
        (chat, contact, organisation)
        for chat, contact, organisation in await reachable_chats(
            session, await audience_ids(session, round_.id)
        )
        if organisation.id not in submitted
        and (organisation.id not in approvers or approvers[organisation.id] == contact.id)
    ]


async def _send(
    session: AsyncSession,
    now: datetime,
    round_: Round,
    chat: Chat,
    contact: Contact,
    messages: list[Any],
    kind: str,
    key: str,
) -> int:
    """Queue a round's message to one contact, once: the dedupe key names round, kind and contact."""
    suffix = f"{key}:" if key else ""
    return await outbox.enqueue(
        session,
        outbox.Recipient(chat.channel, chat.address, contact.id),
        messages,
        kind=kind,
        priority=outbox.PRIORITY_INVITATION,
        dedupe_key=f"{kind}:{round_.id}:{suffix}{contact.id}",
        round_id=round_.id,
        now=now,
    )

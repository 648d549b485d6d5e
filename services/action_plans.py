"""Known priority criteria and a plan for spreading results, for each KS action (ADR 24).

Staff assess an action against KS's ten criteria (``dialogs/criteria.py``): each ``met``,
``partly`` or ``not``, with a line of reasoning members can read. Each action carries a
dissemination plan: steps with a responsible staff member, a channel, a description and
a due date. When a step comes due its responsible is reminded once (``remind_due``, run
by the scheduler), sees it under «Til oppfølging» in the workspace (``follow_ups``), and
the notice the step leads to goes once to each organisation whose needs are linked to
the action (``send_dissemination_notice``).

Every write by a person is recorded in the audit log in the caller's transaction. Error
messages are Norwegian: the workspace shows them as they are, the CLI as its one line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import dissemination_texts
from dialogs.criteria import CRITERIA, RATINGS
from dialogs.i18n import speaking
from services import audit
from services.admins import latest_chat as latest_staff_chat
from services.languages import language_of
from services.rounds import reachable_chats
from storage import outbox
from storage.db import affected_rows
from storage.orm import (
    ActionCriterion,
    ActionDissemination,
    ActionNeed,
    ActionNotice,
    KsAction,
    Response,
    Staff,
)
from storage.upsert import insert_ignoring_conflicts

log = logging.getLogger(__name__)

MAX_REASONING = 500
MAX_CHANNEL = 200  # the column's size
MAX_DESCRIPTION = 1000
MAX_NOTICE = 2000
# Actions whose results are not spread: nobody is reminded about them.
NOT_SPREAD = ("dropped",)


class PlanError(ValueError):
    """An assessment or plan step that cannot be saved or sent; the message is Norwegian."""


# --- criteria -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionAssessment:
    """One criterion of an action: its text and, once assessed, the rating and why."""

    criterion: int
    text: str
    rating: str | None
    reasoning: str
    assessed_by: str | None = None
    assessed_at: datetime | None = None

    @property
    def rating_name(self) -> str:
        """``oppfylt``, ``delvis oppfylt``, ``ikke oppfylt``, or ``ikke vurdert``."""
        return RATINGS[self.rating] if self.rating else "ikke vurdert"

    def to_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "text": self.text,
            "rating": self.rating,
            "rating_name": self.rating_name,
            "reasoning": self.reasoning,
            "assessed_by": self.assessed_by,
            "assessed_at": self.assessed_at.isoformat() if self.assessed_at else None,
        }


@dataclass(frozen=True)
class Assessment:
    """An action against all ten criteria, in the strategy's order."""

    action_id: int
    title: str
    criteria: tuple[CriterionAssessment, ...]

    @property
    def meets(self) -> tuple[CriterionAssessment, ...]:
        """The criteria it meets fully or partly: what members see with the action."""
        return tuple(c for c in self.criteria if c.rating in ("met", "partly"))

    def to_json(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "title": self.title,
            "criteria": [c.to_json() for c in self.criteria],
        }


def check_criterion(criterion: int) -> int:
    """``criterion`` if it is 1-10; ``PlanError`` otherwise."""
    if not 1 <= criterion <= len(CRITERIA):
        raise PlanError(f"kriteriet må være et tall fra 1 til {len(CRITERIA)}, ikke {criterion}")
    return criterion


UNASSESSED = "none"  # the rating that takes an assessment back


def check_rating(rating: str, reasoning: str) -> tuple[str, str]:
    """The rating and the tidied reasoning; ``PlanError`` when either will not do."""
    if rating not in RATINGS:
        names = ", ".join(f"{key} ({name})" for key, name in RATINGS.items())
        raise PlanError(f"ukjent vurdering {rating!r}: velg {names}")
    cleaned = " ".join(reasoning.split())
    if rating in ("met", "partly") and not cleaned:
        raise PlanError("skriv en begrunnelse når kriteriet er oppfylt eller delvis oppfylt")
    if len(cleaned) > MAX_REASONING:
        raise PlanError(f"begrunnelsen kan ha høyst {MAX_REASONING} tegn (den har {len(cleaned)})")
    return rating, cleaned


async def _action(session: AsyncSession, action_id: int) -> KsAction:
    action = await session.get(KsAction, action_id)
    if action is None:
        raise PlanError(f"fant ikke tiltak {action_id}")
    return action


async def assess(
    session: AsyncSession,
    action_id: int,
    criterion: int,
    rating: str,
    reasoning: str,
    *,
    actor: audit.Actor,
    now: datetime,
) -> CriterionAssessment:
    """Set (or change) an action's rating and reasoning against one criterion;
    ``UNASSESSED`` ("none") takes an assessment back, so members no longer see it."""
    check_criterion(criterion)
    action = await _action(session, action_id)
    row = await session.get(ActionCriterion, (action.id, criterion))
    before = row.rating if row is not None else None
    if rating == UNASSESSED:
        if row is not None:
            await session.delete(row)
            audit.record(
                session, actor, "action.assess", f"action:{action.id}", now,
                criterion=criterion, rating=None, was=before,
            )  # fmt: skip
        return CriterionAssessment(criterion, CRITERIA[criterion - 1], None, "")
    rating, reasoning = check_rating(rating, reasoning)
    if row is None:
        row = ActionCriterion(action_id=action.id, criterion=criterion)
        session.add(row)
    row.rating, row.reasoning = rating, reasoning
    row.assessed_by, row.assessed_at = actor.label[:120], now
    audit.record(
        session, actor, "action.assess", f"action:{action.id}", now,
        criterion=criterion, rating=rating, was=before,
    )  # fmt: skip
    return CriterionAssessment(
        criterion, CRITERIA[criterion - 1], rating, reasoning, row.assessed_by, now
    )


async def assessment(session: AsyncSession, action_id: int) -> Assessment:
    """An action's assessment against every criterion (unassessed ones included)."""
    action = await _action(session, action_id)
    rows = {
        row.criterion: row
        for row in await session.scalars(
            select(ActionCriterion).where(ActionCriterion.action_id == action.id)
        )
    }
    return Assessment(
        action.id,
        action.title,
        tuple(
            CriterionAssessment(
                number, text, row.rating, row.reasoning, row.assessed_by, row.assessed_at
            )
            if (row := rows.get(number)) is not None
            else CriterionAssessment(number, text, None, "")
            for number, text in enumerate(CRITERIA, start=1)
        ),
    )


# --- the dissemination plan ---------------------------------------------------------------


@dataclass(frozen=True)
class PlanStep:
    """One step of an action's plan for spreading its results, as the doors show it."""

    id: int
    action_id: int
    action_title: str
    staff_id: int | None
    staff_name: str | None
    staff_active: bool
    channel: str
    description: str
    due_on: date
    reminded_at: datetime | None
    notice_sent_at: datetime | None

    @property
    def task(self) -> str:
        """What to do, in a sentence or two (the workspace's «Til oppfølging»)."""
        return dissemination_texts.task(self.channel, self.description)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action_id": self.action_id,
            "action_title": self.action_title,
            "staff_id": self.staff_id,
            "staff_name": self.staff_name,
            "staff_active": self.staff_active,
            "channel": self.channel,
            "description": self.description,
            "due_on": self.due_on.isoformat(),
            "reminded_at": self.reminded_at.isoformat() if self.reminded_at else None,
            "notice_sent_at": self.notice_sent_at.isoformat() if self.notice_sent_at else None,
        }


def _steps() -> Select[ActionDissemination, KsAction, Staff]:
    return (
        select(ActionDissemination, KsAction, Staff)
        .join(KsAction, KsAction.id == ActionDissemination.action_id)
        .outerjoin(Staff, Staff.id == ActionDissemination.responsible_staff_id)
        .order_by(ActionDissemination.due_on, ActionDissemination.id)
    )


def _view(step: ActionDissemination, action: KsAction, staff: Staff | None) -> PlanStep:
    return PlanStep(
        id=step.id,
        action_id=action.id,
        action_title=action.title,
        staff_id=step.responsible_staff_id,
        staff_name=staff.name if staff is not None else None,
        staff_active=staff is not None and staff.active,
        channel=step.channel,
        description=step.description,
        due_on=step.due_on,
        reminded_at=step.reminded_at,
        notice_sent_at=step.notice_sent_at,
    )


async def step(session: AsyncSession, step_id: int) -> PlanStep:
    """One step; ``PlanError`` if there is none with that id."""
    rows = await session.execute(_steps().where(ActionDissemination.id == step_id))
    found = rows.first()
    if found is None:
        raise PlanError(f"fant ikke steg {step_id} i noen spredningsplan")
    return _view(*found)


async def plan(session: AsyncSession, action_id: int) -> list[PlanStep]:
    """An action's dissemination plan, by due date."""
    action = await _action(session, action_id)
    rows = await session.execute(_steps().where(ActionDissemination.action_id == action.id))
    return [_view(d, a, st) for d, a, st in rows]


async def _responsible(session: AsyncSession, staff_id: int) -> Staff:
    staff = await session.get(Staff, staff_id)
    if staff is None:
        raise PlanError(f"fant ingen ansatt med id {staff_id}")
    if not staff.active:
        raise PlanError(f"{staff.name} (id {staff_id}) er deaktivert og kan ikke være ansvarlig")
    return staff


def _channel(channel: str) -> str:
    cleaned = " ".join(channel.split())
    if not cleaned:
        raise PlanError("skriv hvilken kanal resultatene skal spres i (f.eks. «nyhetsbrev»)")
    if len(cleaned) > MAX_CHANNEL:
        raise PlanError(f"kanalen kan ha høyst {MAX_CHANNEL} tegn")
    return cleaned


def _description(description: str) -> str:
    cleaned = description.strip()
    if len(cleaned) > MAX_DESCRIPTION:
        raise PlanError(f"beskrivelsen kan ha høyst {MAX_DESCRIPTION} tegn")
    return cleaned


async def add_step(
    session: AsyncSession,
    action_id: int,
    *,
    staff_id: int,
    channel: str,
    due_on: date,
    description: str = "",
    actor: audit.Actor,
    now: datetime,
) -> PlanStep:
    """Add a step to an action's plan: who spreads what, how, and by when."""
    action = await _action(session, action_id)
    staff = await _responsible(session, staff_id)
    row = ActionDissemination(
        action_id=action.id,
        responsible_staff_id=staff.id,
        channel=_channel(channel),
        description=_description(description),
        due_on=due_on,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session, actor, "action.plan_add", f"dissemination:{row.id}", now,
        action_id=action.id, staff=staff.id, due_on=due_on.isoformat(),
    )  # fmt: skip
    return _view(row, action, staff)


async def edit_step(
    session: AsyncSession,
    step_id: int,
    *,
    staff_id: int | None = None,
    channel: str | None = None,
    due_on: date | None = None,
    description: str | None = None,
    actor: audit.Actor,
    now: datetime,
) -> PlanStep:
    """Change a step that is not done yet. A new responsible or a new date means a new
    reminder: the step is reminded again when it comes due."""
    row = await _open_step(session, step_id)
    changed: list[str] = []
    if staff_id is not None and staff_id != row.responsible_staff_id:
        row.responsible_staff_id = (await _responsible(session, staff_id)).id
        changed.append("staff")
    if channel is not None and (cleaned := _channel(channel)) != row.channel:
        row.channel = cleaned
        changed.append("channel")
    if description is not None and (text := _description(description)) != row.description:
        row.description = text
        changed.append("description")
    if due_on is not None and due_on != row.due_on:
        row.due_on = due_on
        changed.append("due_on")
    if {"staff", "due_on"} & set(changed):
        row.reminded_at = None
    if changed:
        audit.record(
            session, actor, "action.plan_edit", f"dissemination:{row.id}", now,
            action_id=row.action_id, changed=changed,
        )  # fmt: skip
    await session.flush()
    return await step(session, row.id)


async def remove_step(
    session: AsyncSession, step_id: int, *, actor: audit.Actor, now: datetime
) -> PlanStep:
    """Remove a step that is not done yet (a done step stays, as the record of its notice)."""
    row = await _open_step(session, step_id)
    removed = await step(session, row.id)
    await session.delete(row)
    audit.record(
        session, actor, "action.plan_remove", f"dissemination:{row.id}", now,
        action_id=row.action_id,
    )  # fmt: skip
    return removed


async def _open_step(session: AsyncSession, step_id: int) -> ActionDissemination:
    row = await session.get(ActionDissemination, step_id)
    if row is None:
        raise PlanError(f"fant ikke steg {step_id} i noen spredningsplan")
    if row.notice_sent_at is not None:
        raise PlanError(f"steg {step_id} er gjennomført: meldingen til organisasjonene er sendt")
    return row


# --- due steps: reminders and «Til oppfølging» -------------------------------------------


def today(now: datetime, zone: ZoneInfo) -> date:
    """The date in KS's zone: a step is due from the start of its day there."""
    return now.astimezone(zone).date()


def _due(now: datetime, zone: ZoneInfo) -> Select[ActionDissemination, KsAction, Staff]:
    """Steps whose day has come, whose notice is not sent, of actions still being spread."""
    return _steps().where(
        ActionDissemination.due_on <= today(now, zone),
        ActionDissemination.notice_sent_at.is_(None),
        KsAction.status.not_in(NOT_SPREAD),
    )


async def due_disseminations(
    session: AsyncSession, now: datetime, zone: ZoneInfo
) -> list[PlanStep]:
    """Steps that have come due and whose responsible has not been reminded yet.

    A step whose responsible has been deactivated waits here (and in ``plan``) until
    someone else is made responsible: there is nobody to remind."""
    rows = await session.execute(
        _due(now, zone).where(ActionDissemination.reminded_at.is_(None), Staff.active.is_(True))
    )
    return [_view(d, a, st) for d, a, st in rows]


@dataclass(frozen=True)
class FollowUp:
    """A due step on a staff member's «Til oppfølging» list, with what to do."""

    step: PlanStep
    organisations: int  # how many organisations the notice it leads to would reach

    @property
    def due(self) -> str:
        """The due date as staff read it (``12. mars 2027``)."""
        return dissemination_texts.day(self.step.due_on)


async def follow_ups(
    session: AsyncSession, staff_id: int, now: datetime, zone: ZoneInfo
) -> list[FollowUp]:
    """The due steps a staff member is responsible for and has not finished (a step is
    finished when its notice is sent), oldest due date first."""
    rows = await session.execute(
        _due(now, zone).where(ActionDissemination.responsible_staff_id == staff_id)
    )
    steps = [_view(d, a, st) for d, a, st in rows]
    counts = await _organisation_counts(session, {s.action_id for s in steps})
    return [FollowUp(s, counts.get(s.action_id, 0)) for s in steps]


async def linked_organisations(session: AsyncSession, action_id: int) -> list[int]:
    """The organisations whose needs are linked to the action, through their responses.

    Area links alone do not count: a notice names the organisation's own need
    (ADR 23); staff reach those who chose an area with the ``area:`` segment."""
    return list(
        await session.scalars(
            select(Response.organisation_id)
            .join(ActionNeed, ActionNeed.response_id == Response.id)
            .where(ActionNeed.action_id == action_id)
            .distinct()
            .order_by(Response.organisation_id)
        )
    )


async def _organisation_counts(session: AsyncSession, action_ids: set[int]) -> dict[int, int]:
    if not action_ids:
        return {}
    rows = await session.execute(
        select(ActionNeed.action_id, func.count(func.distinct(Response.organisation_id)))
        .join(Response, Response.id == ActionNeed.response_id)
        .where(ActionNeed.action_id.in_(sorted(action_ids)))
        .group_by(ActionNeed.action_id)
    )
    return {action_id: count for action_id, count in rows}


@dataclass(frozen=True)
class Reminded:
    """A step whose responsible was reminded, and whether a chat message was queued too."""

    step_id: int
    staff_id: int
    chat_messages: int


async def remind_due(session: AsyncSession, now: datetime, zone: ZoneInfo) -> list[Reminded]:
    """Remind the responsible of every step that has come due, once: the step appears on
    their «Til oppfølging» list, and a message is queued to their bound chat if they have
    one. ``reminded_at`` is claimed with a conditional update, so two runs (a job that
    fires twice, an overlapping process) remind once."""
    done: list[Reminded] = []
    for due in await due_disseminations(session, now, zone):
        claimed = await session.execute(
            update(ActionDissemination)
            .where(ActionDissemination.id == due.id, ActionDissemination.reminded_at.is_(None))
            .values(reminded_at=now)
        )
        if affected_rows(claimed) != 1 or due.staff_id is None:
            continue
        queued = 0
        chat = await latest_staff_chat(session, due.staff_id)
        if chat is not None:
            counts = await _organisation_counts(session, {due.action_id})
            message = dissemination_texts.staff_reminder(
                staff_name=due.staff_name or "",
                action_title=due.action_title,
                channel=due.channel,
                description=due.description,
                due_on=due.due_on,
                step_id=due.id,
                organisations=counts.get(due.action_id, 0),
            )
            queued = await outbox.enqueue(
                session,
                outbox.Recipient(chat.channel, chat.address, chat.contact_id),
                [message],
                kind="staff_reminder",
                priority=outbox.PRIORITY_INVITATION,
                dedupe_key=f"dissemination-reminder:{due.id}:{due.staff_id}",
                now=now,
            )
        audit.record(
            session, audit.SYSTEM, "action.plan_reminded", f"dissemination:{due.id}", now,
            action_id=due.action_id, staff=due.staff_id, chat_messages=queued,
        )  # fmt: skip
        done.append(Reminded(due.id, due.staff_id, queued))
    return done


# --- the notice a step leads to -----------------------------------------------------------


@dataclass(frozen=True)
class NoticeSent:
    """What sending a step's notice did: to how many organisations, in how many messages."""

    step_id: int
    action_id: int
    organisations: int
    messages: int

    def to_json(self) -> dict[str, Any]:
        return {
            "step_id": self.step_id,
            "action_id": self.action_id,
            "organisations": self.organisations,
            "messages": self.messages,
        }


def dissemination_change(step_id: int) -> str:
    """How ``action_notices`` names a step's notice (once per organisation per step)."""
    return f"dissemination:{step_id}"


async def send_dissemination_notice(
    session: AsyncSession, step_id: int, text: str, *, actor: audit.Actor, now: datetime
) -> NoticeSent:
    """Queue the step's notice to every organisation linked to the action: through the
    paced outbox, to each active contact with a reachable chat, once per organisation
    (``action_notices``), and mark the step done (``notice_sent_at``)."""
    cleaned = text.strip()
    if not cleaned:
        raise PlanError("skriv hva organisasjonene skal få vite")
    if len(cleaned) > MAX_NOTICE:
        raise PlanError(f"meldingen kan ha høyst {MAX_NOTICE} tegn (den har {len(cleaned)})")
    row = await session.get(ActionDissemination, step_id)
    if row is None:
        raise PlanError(f"fant ikke steg {step_id} i noen spredningsplan")
    action = await _action(session, row.action_id)
    claimed = await session.execute(
        update(ActionDissemination)
        .where(ActionDissemination.id == row.id, ActionDissemination.notice_sent_at.is_(None))
        .values(notice_sent_at=now)
    )
    if affected_rows(claimed) != 1:
        raise PlanError(f"meldingen for steg {step_id} er allerede sendt")
    change = dissemination_change(row.id)
    organisations = await linked_organisations(session, action.id)
    newly = await insert_ignoring_conflicts(
        session,
        ActionNotice.__table__,
        [
            {"action_id": action.id, "organisation_id": org, "change": change, "queued_at": now}
            for org in organisations
        ],
        ["action_id", "organisation_id", "change"],
        returning="organisation_id",
    )
    messages = 0
    for chat, contact, organisation in await reachable_chats(session, newly):
        with speaking(language_of(contact, organisation)):  # KS's words, framed in theirs
            message = dissemination_texts.dissemination_notice(
                action_title=action.title, text=cleaned
            )
        messages += await outbox.enqueue(
            session,
            outbox.Recipient(chat.channel, chat.address, contact.id),
            [message],
            kind="action_notice",
            priority=outbox.PRIORITY_BULK,
            dedupe_key=f"action:{action.id}:{change}:{contact.id}",
            now=now,
        )
    audit.record(
        session, actor, "action.dissemination_notice", f"dissemination:{row.id}", now,
        action_id=action.id, organisations=len(newly), messages=messages,
    )  # fmt: skip
    return NoticeSent(row.id, action.id, len(newly), messages)

"""Staff's changes to a round, asked for in the workspace: first what would happen and to
how many (for the confirmation), then the change itself, recorded in the audit log.

The steps are the lifecycle's own (``services/lifecycle.py``), the same the CLI's
``rounds`` commands and the chat's admin commands take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.dates import format_datetime
from dialogs.texts import antall
from services import audit, lifecycle
from services.lifecycle import ChangeResult, LifecycleError
from services.surveys import SurveyCatalog
from storage.orm import OutboxMessage, Round, RoundInvitee

RoundAction = Literal["pause", "resume", "extend", "reschedule", "close", "cancel", "remind"]
ACTIONS: tuple[RoundAction, ...] = get_args(RoundAction)
ACTION_NAMES = {
    "pause": "Sett på pause",
    "resume": "Fortsett runden",
    "extend": "Flytt fristen",
    "reschedule": "Flytt åpningen",
    "close": "Steng nå",
    "cancel": "Avlys runden",
    "remind": "Minn på dem som mangler, nå",
}


# The audit log's names, shared with the CLI's ``rounds`` commands.
AUDIT_ACTIONS = {"extend": "round.deadline", "remind": "round.remind"}


@dataclass(frozen=True)
class ActionPreview:
    """What an action would do, in a sentence staff confirm, and the count it names."""

    round_id: int
    title: str
    action: RoundAction
    summary: str
    count: int


def parse_action(value: str) -> RoundAction:
    """A known action name, or ``LifecycleError`` (shown to staff as it is)."""
    for action in ACTIONS:
        if action == value:
            return action
    raise LifecycleError(f"ukjent handling «{value[:40]}»")


async def _messages_of(session: AsyncSession, round_id: int, statuses: tuple[str, ...]) -> int:
    count = await session.scalar(
        select(func.count()).where(
            OutboxMessage.round_id == round_id, OutboxMessage.status.in_(statuses)
        )
    )
    return int(count or 0)


async def preview(
    session: AsyncSession,
    round_id: int,
    action: RoundAction,
    now: datetime,
    zone: ZoneInfo,
    *,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> ActionPreview:
    """What ``carry_out`` would do now; ``LifecycleError`` if the round's state forbids it,
    ``LookupError`` if there is no such round."""
    round_ = await lifecycle.load_round(session, round_id)
    summary, count = await _describe(session, round_, action, now, zone, opens_at, closes_at)
    return ActionPreview(round_.id, round_.title, action, summary, count)


async def _describe(
    session: AsyncSession,
    round_: Round,
    action: RoundAction,
    now: datetime,
    zone: ZoneInfo,
    opens_at: datetime | None,
    closes_at: datetime | None,
) -> tuple[str, int]:
    if action == "pause":
        lifecycle.require_active(round_, "settes på pause")
        held = await _messages_of(session, round_.id, ("pending",))
        return (
            f"Invitasjoner og påminnelser stanser til runden fortsetter; "
            f"{antall(held, 'melding', 'meldinger')} som ikke er sendt ennå, holdes tilbake. "
            "Medlemmene kan fortsatt svare, og fristen gjelder.",
            held,
        )
    if action == "resume":
        lifecycle.require_active(round_, "gjenopptas")
        held = await _messages_of(session, round_.id, ("held",))
        return (
            f"Runden fortsetter, og {antall(held, 'melding', 'meldinger')} som ble holdt "
            "tilbake, sendes.",
            held,
        )
    if action in ("extend", "reschedule"):
        lifecycle.require_active(round_, "endres")
        if action == "extend" and closes_at is None:
            raise LifecycleError("velg en ny frist")
        if action == "reschedule" and opens_at is None:
            raise LifecycleError("velg en ny åpning")
        if closes_at is not None and closes_at <= now:
            raise LifecycleError("den nye fristen har allerede passert")
        if action == "reschedule" and round_.status != "planned":
            raise LifecycleError(f"runde {round_.id} er allerede åpnet; bare fristen kan endres")
        if action == "reschedule":
            assert opens_at is not None
            return f"Runden åpner {format_datetime(opens_at, zone)} i stedet.", 0
        assert closes_at is not None
        told = (
            (await lifecycle.waiting_contacts(session, round_))[0] if round_.status == "open" else 0
        )
        return (
            f"Ny frist: {format_datetime(closes_at, zone)}. "
            f"{antall(told, 'kontakt', 'kontakter')} som ikke har svart, får beskjed.",
            told,
        )
    if action == "close":
        close = await lifecycle.close_preview(session, round_.id)
        return (
            f"Runden stenger nå. {antall(close.submitted, 'organisasjon', 'organisasjoner')} "
            f"har svart; {antall(close.unfinished, 'svar', 'svar')} som er begynt, men ikke "
            "sendt inn, tas vare på som ufullstendige, og de som skrev dem, får beskjed.",
            close.unfinished,
        )
    if action == "cancel":
        lifecycle.require_active(round_, "avlyses")
        invited = int(
            await session.scalar(select(func.count()).where(RoundInvitee.round_id == round_.id))
            or 0
        )
        return (
            "Runden avlyses: ingenting mer sendes ut, og "
            f"{antall(invited, 'kontakt', 'kontakter')} som har fått høre om den, "
            "får beskjed om at den er avlyst.",
            invited,
        )
    if round_.status != "open":
        raise LifecycleError(f"runde {round_.id} er ikke åpen, så ingen kan minnes på den")
    contacts, organisations = await lifecycle.waiting_contacts(session, round_)
    return (
        f"En påminnelse sendes nå til {antall(contacts, 'kontakt', 'kontakter')} i "
        f"{antall(organisations, 'organisasjon', 'organisasjoner')} som ikke har svart.",
        contacts,
    )


async def carry_out(
    session: AsyncSession,
    round_id: int,
    action: RoundAction,
    now: datetime,
    zone: ZoneInfo,
    catalog: SurveyCatalog,
    actor: audit.Actor,
    *,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> ChangeResult:
    """Take the step, in the caller's transaction, with its audit entry."""
    round_ = await lifecycle.load_round(session, round_id)
    who = actor.label
    result: ChangeResult
    if action == "pause":
        result = await lifecycle.pause_round(session, round_, now, actor=who)
    elif action == "resume":
        result = await lifecycle.resume_round(session, round_, now, actor=who)
    elif action in ("extend", "reschedule"):
        if action == "extend" and closes_at is None:
            raise LifecycleError("velg en ny frist")
        if action == "reschedule" and opens_at is None:
            raise LifecycleError("velg en ny åpning")
        result = await lifecycle.change_dates(
            session, round_, now, zone, actor=who, opens_at=opens_at, closes_at=closes_at
        )
    elif action == "close":
        result = await lifecycle.close_now(session, round_, now, zone, catalog, actor=who)
    elif action == "cancel":
        result = await lifecycle.cancel_round(session, round_, now, actor=who)
    else:
        result = await lifecycle.remind_now(session, round_, now, zone, actor=who)
    audit.record(
        session, actor, AUDIT_ACTIONS.get(action, f"round.{action}"), f"round:{round_.id}", now,
        withdrawn=result.withdrawn, notified=result.notified, released=result.released,
        incomplete=result.incomplete,
        **({"opens_at": opens_at.isoformat()} if opens_at else {}),
        **({"closes_at": closes_at.isoformat()} if closes_at else {}),
    )  # fmt: skip
    return result

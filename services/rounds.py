"""Collection rounds: who is asked and when; the transitions are in ``services.lifecycle``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.reminders import DEFAULT_REMINDERS, QuietRules, ReminderRule
from storage.orm import (
    Chat,
    Contact,
    Organisation,
    Response,
    Round,
    RoundInvitee,
    RoundOrganisation,
)
from storage.seed import resolve_org_code
from storage.upsert import insert_ignoring_conflicts


class RoundError(ValueError):
    """A round cannot be made as asked (unknown survey, empty audience, bad dates)."""


# How long after closing a round keeps its free text and links to persons (months).
DEFAULT_RETENTION_MONTHS = 24
MIN_RETENTION_MONTHS = 1
MAX_RETENTION_MONTHS = 120

MEMBER_KINDS = {
    "kommune": ("kommune", "kommune_og_fylkeskommune"),
    "fylkeskommune": ("fylkeskommune", "kommune_og_fylkeskommune"),
}


@dataclass(frozen=True)
class Audience:
    """Who a round asks: everyone, a county, a member type, or a list of organisation codes.

    ``kind`` is ``kommune`` or ``fylkeskommune``; Oslo, being both, belongs to either.
    """

    county: str | None = None
    org_codes: tuple[str, ...] = ()
    kind: str | None = None

    def describe(self) -> dict[str, Any]:
        """The stored description of this audience."""
        if self.org_codes:
            return {"kind": "orgs", "codes": list(self.org_codes)}
        if self.county:
            return {"kind": "county", "county": self.county.zfill(2)}
        if self.kind:
            return {"kind": "member_type", "member_type": self.kind}
        return {"kind": "all"}

    @classmethod
    def from_description(cls, stored: dict[str, Any]) -> Audience:
        """Read a stored description back."""
        kind = stored.get("kind")
        if kind == "orgs":
            return cls(org_codes=tuple(stored.get("codes", ())))
        if kind == "county":
            return cls(county=str(stored["county"]))
        if kind == "member_type":
            return cls(kind=str(stored["member_type"]))
        return cls()


async def resolve_audience(session: AsyncSession, audience: Audience) -> list[Organisation]:
    """The organisations an audience covers; unknown codes are an error, not a silent drop."""
    statement = select(Organisation).order_by(Organisation.code)
    if audience.org_codes:
        codes = [resolve_org_code(code) for code in audience.org_codes]
        found = list(await session.scalars(statement.where(Organisation.code.in_(codes))))
        missing = sorted(set(codes) - {org.code for org in found})
        if missing:
            raise RoundError(f"unknown organisation code(s): {', '.join(missing)}")
        return found
    if audience.county:
        county = audience.county.zfill(2)
        found = list(await session.scalars(statement.where(Organisation.county_code == county)))
        if not found:
            raise RoundError(f"no members in county {county}")
        return found
    if audience.kind:
        if audience.kind not in MEMBER_KINDS:
            raise RoundError(f"unknown member type {audience.kind!r}: kommune or fylkeskommune")
        kinds = MEMBER_KINDS[audience.kind]
        return list(await session.scalars(statement.where(Organisation.kind.in_(kinds))))
    return list(await session.scalars(statement))


async def create_round(
    session: AsyncSession,
    *,
    survey_version_id: int,
    title: str,
    audience: Audience,
    opens_at: datetime,
    closes_at: datetime,
    reminders: Sequence[ReminderRule] = DEFAULT_REMINDERS,
    quiet: QuietRules | None = None,
    plan_key: str | None = None,
    retention_months: int = DEFAULT_RETENTION_MONTHS,
    allow_edit_after_submit: bool = True,
) -> Round:
    """Create a planned round with its audience fixed now.

    ``retention_months`` after it closes, its free text and links to persons are erased
    (``services/retention.py``).
    """
    if closes_at <= opens_at:
        raise RoundError("the round must close after it opens")
    if not MIN_RETENTION_MONTHS <= retention_months <= MAX_RETENTION_MONTHS:
        raise RoundError(
            f"the retention must be {MIN_RETENTION_MONTHS}-{MAX_RETENTION_MONTHS} months"
        )
    organisations = await resolve_audience(session, audience)
    round_ = Round(
        survey_version_id=survey_version_id,
        title=title,
        status="planned",
        audience=audience.describe(),
        opens_at=opens_at,
        closes_at=closes_at,
        reminder_rules=[rule.to_json() for rule in reminders],
        quiet_rules=(quiet or QuietRules()).to_json(),
        plan_key=plan_key,
        retention_months=retention_months,
        allow_edit_after_submit=allow_edit_after_submit,
    )
    session.add(round_)
    await session.flush()
    await set_audience(session, round_, organisations)
    return round_


async def set_audience(
    session: AsyncSession, round_: Round, organisations: Sequence[Organisation]
) -> None:
    """Fix the organisations a round asks (replacing any earlier audience)."""
    await session.execute(delete(RoundOrganisation).where(RoundOrganisation.round_id == round_.id))
    session.add_all(
        RoundOrganisation(round_id=round_.id, organisation_id=org.id) for org in organisations
    )
    await session.flush()


async def audience_ids(session: AsyncSession, round_id: int) -> list[int]:
    """The organisation ids in a round's audience."""
    return list(
        await session.scalars(
            select(RoundOrganisation.organisation_id).where(RoundOrganisation.round_id == round_id)
        )
    )


async def submitted_ids(session: AsyncSession, round_id: int) -> set[int]:
    """Organisations that have submitted their response to a round."""
    return set(
        await session.scalars(
            select(Response.organisation_id).where(
                Response.round_id == round_id, Response.status == "submitted"
            )
        )
    )


async def reachable_chats(
    session: AsyncSession, organisation_ids: Sequence[int]
) -> list[tuple[Chat, Contact, Organisation]]:
    """Each registered, active contact's chat to reach them on (``chat_preference``), per
    organisation: where invitations, reminders and round notices go."""
    rows = await session.execute(_reachable(select(Chat, Contact, Organisation), organisation_ids))
    chosen: dict[int, tuple[Chat, Contact, Organisation]] = {}
    for chat, contact, organisation in rows:
        chosen.setdefault(contact.id, (chat, contact, organisation))
    return list(chosen.values())


async def reachable_channels(
    session: AsyncSession, organisation_ids: Sequence[int]
) -> dict[int, str]:
    """The channel ``reachable_chats`` picks for each reachable contact (by contact id),
    without loading whole rows: for overviews of every member."""
    rows = await session.execute(_reachable(select(Contact.id, Chat.channel), organisation_ids))
    chosen: dict[int, str] = {}
    for contact_id, channel in rows:
        chosen.setdefault(contact_id, channel)
    return chosen


_Selected = TypeVar("_Selected", bound=Select[*tuple[Any, ...]])


def _reachable(statement: _Selected, organisation_ids: Sequence[int]) -> _Selected:
    """Active contacts' chats not marked unreachable, best first per contact."""
    return (
        statement.select_from(Chat)
        .join(Contact, Chat.contact_id == Contact.id)
        .join(Organisation, Contact.organisation_id == Organisation.id)
        .where(
            Organisation.id.in_(list(organisation_ids)),
            Chat.unreachable_at.is_(None),
            Contact.active,
        )
        .order_by(Contact.id, *chat_preference())
    )


async def open_rounds_for(
    session: AsyncSession, organisation_id: int, now: datetime
) -> list[Round]:
    """Rounds open now whose audience includes this organisation."""
    statement = (
        select(Round)
        .join(RoundOrganisation, RoundOrganisation.round_id == Round.id)
        .where(
            RoundOrganisation.organisation_id == organisation_id,
            Round.status == "open",
            Round.opens_at <= now,
            Round.closes_at > now,
        )
        .order_by(Round.closes_at, Round.id)
    )
    return list(await session.scalars(statement))


async def record_invited(
    session: AsyncSession,
    round_ids: Sequence[int],
    contact: Contact,
    now: datetime,
) -> None:
    """Count a contact as invited to these rounds: they were offered them in chat.

    A contact who registers after a round opened never gets its invitation message
    (invitations go out once, when the round opens), but the welcome offers the open
    rounds with a start button; that offer is their invitation. Recorded once per
    round and contact, like the invitations themselves, so response rates, the
    ``invited:ROUND`` segment and deadline notices include them.
    """
    if not round_ids:
        return
    await insert_ignoring_conflicts(
        session,
        RoundInvitee.__table__,
        [
            {
                "round_id": round_id,
                "contact_id": contact.id,
                "organisation_id": contact.organisation_id,
                "invited_at": now,
            }
            for round_id in round_ids
        ],  # fmt: skip
        ["round_id", "contact_id"],
    )


async def rounds_by_opening(session: AsyncSession) -> list[tuple[Round, int]]:
    """Every round in order of opening, with how many organisations its audience holds."""
    sizes = dict(
        (
            await session.execute(
                select(RoundOrganisation.round_id, func.count()).group_by(
                    RoundOrganisation.round_id
                )
            )
        ).all()
    )
    rounds = await session.scalars(select(Round).order_by(Round.opens_at))
    return [(round_, sizes.get(round_.id, 0)) for round_ in rounds]


async def latest_chat(session: AsyncSession, contact_id: int) -> Chat | None:
    """A contact's most recently used chat that can still be reached, if any (none for a
    deactivated contact)."""
    return await session.scalar(
        select(Chat)
        .join(Contact, Chat.contact_id == Contact.id)
        .where(Chat.contact_id == contact_id, Chat.unreachable_at.is_(None), Contact.active)
        .order_by(*chat_preference())
        .limit(1)
    )


def chat_preference() -> tuple[Any, ...]:
    """How a contact's chats are ranked (with ``Contact`` joined): the channel an admin set
    first, then the one they used last."""
    return (
        case((Chat.channel == Contact.preferred_channel, 0), else_=1),
        Chat.last_seen_at.desc().nulls_last(),
        Chat.id.desc(),
    )


async def set_edit_after_submit(session: AsyncSession, round_id: int, allowed: bool) -> Round:
    """Let members change a submitted response while the round is open, or not. A
    response already opened for changes keeps its draft; sending it in is refused only
    by the engine's next step (it is told the answers can no longer be changed)."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise RoundError(f"no round {round_id}")
    round_.allow_edit_after_submit = allowed
    return round_

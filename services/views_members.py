"""The member registry as the doors read it: organisations, their contacts and how
Lyttepost reaches them, in a few queries for all 371.

A contact is *reachable* when it is active and has a chat bound to it that is not marked
unreachable; the channel shown is the one invitations and reminders go to
(``services/rounds.reachable_chats``). An organisation with no reachable contact cannot be
invited to anything and stands out. A *pending invitation* is a code that can still be
used: not used, not revoked, not expired, for an active contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.rounds import reachable_channels
from storage.orm import (
    Chat,
    Contact,
    Invitation,
    Organisation,
    Response,
    Round,
    RoundInvitee,
    RoundOrganisation,
)
from storage.seed import resolve_org_code


class UnknownOrganisation(LookupError):
    """No member organisation has that code."""


@dataclass(frozen=True)
class OrganisationRow:
    """A member organisation as the registry lists it."""

    id: int
    code: str
    name: str
    kind: str  # kommune | fylkeskommune | kommune_og_fylkeskommune
    county_code: str
    county_name: str


@dataclass(frozen=True)
class ChatRow:
    """One of a contact's chats."""

    channel: str
    reachable: bool  # not marked unreachable (the member blocked or removed the bot)
    last_seen_at: datetime | None


@dataclass(frozen=True)
class ContactRow:
    """A contact (never an erased one) with their chats and invitation.

    ``channel`` is where Lyttepost reaches them (None: unreachable); ``invitation_expires_at``
    is set while they hold a code that can still be used.
    """

    id: int
    organisation_id: int
    org_code: str
    org_name: str
    name: str
    role: str
    email: str | None
    active: bool
    preferred_channel: str | None
    deactivated_at: datetime | None
    chats: tuple[ChatRow, ...]
    channel: str | None
    invitation_expires_at: datetime | None

    @property
    def reachable(self) -> bool:
        return self.channel is not None

    @property
    def last_seen_at(self) -> datetime | None:
        """Their last activity in any chat."""
        return max((c.last_seen_at for c in self.chats if c.last_seen_at), default=None)


@dataclass(frozen=True)
class MemberRow:
    """An organisation with its active contacts, for the members overview."""

    organisation: OrganisationRow
    contacts: tuple[ContactRow, ...]

    @property
    def reachable(self) -> bool:
        """At least one contact can be reached."""
        return any(c.reachable for c in self.contacts)

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels its contacts are reached on, sorted."""
        return tuple(sorted({c.channel for c in self.contacts if c.channel}))

    @property
    def last_seen_at(self) -> datetime | None:
        """The last activity of any of its contacts."""
        return max((c.last_seen_at for c in self.contacts if c.last_seen_at), default=None)

    @property
    def pending_invitation(self) -> bool:
        """A contact holds a code that can still be used."""
        return any(c.invitation_expires_at is not None for c in self.contacts)


@dataclass(frozen=True)
class MembersOverview:
    """The organisations asked for, and how many of them (and of all) cannot be reached."""

    members: tuple[MemberRow, ...]
    total: int  # organisations matching the county filter
    unreachable: int  # of those, with no reachable contact


def _organisation_row(o: Organisation) -> OrganisationRow:
    return OrganisationRow(o.id, o.code, o.name, o.kind, o.county_code, o.county_name)


async def organisations(session: AsyncSession, county: str | None = None) -> list[OrganisationRow]:
    """Every member organisation by code, or those of one county (``46``; ``3`` is ``03``)."""
    statement = select(Organisation).order_by(Organisation.code)
    if county:
        statement = statement.where(Organisation.county_code == county.zfill(2))
    return [_organisation_row(o) for o in await session.scalars(statement)]


async def organisation_by_code(session: AsyncSession, code: str) -> OrganisationRow:
    """One organisation (``301`` is ``0301``); ``UnknownOrganisation`` if there is none."""
    found = await session.scalar(
        select(Organisation).where(Organisation.code == resolve_org_code(code.strip()))
    )
    if found is None:
        raise UnknownOrganisation(f"unknown organisation code {code!r}")
    return _organisation_row(found)


async def contact_rows(
    session: AsyncSession,
    now: datetime,
    *,
    org_code: str | None = None,
    organisation_ids: Sequence[int] | None = None,
    active_only: bool = False,
) -> list[ContactRow]:
    """Contacts by organisation code, then id, with their chats (five queries).

    ``org_code``: that organisation's only (``UnknownOrganisation`` if none);
    ``organisation_ids``: those organisations'; ``active_only``: no deactivated ones.
    """
    where: list[ColumnElement[bool]] = [Contact.erased_at.is_(None)]
    if org_code:
        organisation = await organisation_by_code(session, org_code)
        where.append(Contact.organisation_id == organisation.id)
    if organisation_ids is not None:
        where.append(Contact.organisation_id.in_(list(organisation_ids)))
    if active_only:
        where.append(Contact.active.is_(True))
    rows = (
        await session.execute(
            select(
                Contact.id,
                Contact.organisation_id,
                Organisation.code,
                Organisation.name,
                Contact.name,
                Contact.role,
                Contact.email,
                Contact.active,
                Contact.preferred_channel,
                Contact.deactivated_at,
            )
            .join(Organisation, Contact.organisation_id == Organisation.id)
            .where(*where)
            .order_by(Organisation.code, Contact.id)
        )
    ).all()
    chats: dict[int, list[ChatRow]] = {}
    for contact_id, channel, unreachable_at, last_seen_at in await session.execute(
        select(Chat.contact_id, Chat.channel, Chat.unreachable_at, Chat.last_seen_at)
        .join(Contact, Chat.contact_id == Contact.id)
        .where(*where)
        .order_by(Chat.id)
    ):
        assert contact_id is not None  # joined to a contact
        chats.setdefault(contact_id, []).append(
            ChatRow(channel, unreachable_at is None, last_seen_at)
        )
    reached = await reachable_channels(session, sorted({row[1] for row in rows}))
    codes: dict[int, datetime] = {}
    for contact_id, expires_at in await session.execute(
        select(Invitation.contact_id, Invitation.expires_at)
        .join(Contact, Invitation.contact_id == Contact.id)
        .where(
            *where,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    ):
        codes[contact_id] = max(expires_at, codes.get(contact_id, expires_at))
    return [
        ContactRow(
            id=contact_id, organisation_id=organisation_id, org_code=org_code,
            org_name=org_name, name=name, role=role, email=email, active=active,
            preferred_channel=preferred, deactivated_at=deactivated_at,
            chats=tuple(chats.get(contact_id, ())), channel=reached.get(contact_id),
            invitation_expires_at=codes.get(contact_id) if active else None,
        )
        for (contact_id, organisation_id, org_code, org_name, name, role, email, active,
             preferred, deactivated_at) in rows
    ]  # fmt: skip


async def members_overview(
    session: AsyncSession,
    now: datetime,
    *,
    county: str | None = None,
    unreachable_only: bool = False,
) -> MembersOverview:
    """The organisations (of one county) with their active contacts, channels,
    reachability, last activity and pending codes; ``unreachable_only``: only those with
    no reachable contact. ``total`` and ``unreachable`` count before that filter."""
    orgs = await organisations(session, county)
    contacts: dict[int, list[ContactRow]] = {}
    for contact in await contact_rows(
        session, now, organisation_ids=[o.id for o in orgs] if county else None, active_only=True
    ):
        contacts.setdefault(contact.organisation_id, []).append(contact)
    members = [MemberRow(o, tuple(contacts.get(o.id, ()))) for o in orgs]
    unreachable = [m for m in members if not m.reachable]
    return MembersOverview(
        members=tuple(unreachable if unreachable_only else members),
        total=len(members),
        unreachable=len(unreachable),
    )


@dataclass(frozen=True)
class InvitationRow:
    """An invitation code issued to a contact (the code itself is never kept)."""

    contact_id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        """``used``, ``revoked``, ``expired`` or ``pending``."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "pending"


@dataclass(frozen=True)
class RoundTaken:
    """A round whose audience holds the organisation, and how far it got in it."""

    round_id: int
    title: str
    status: str
    opens_at: datetime
    closes_at: datetime
    invited: bool
    response_status: str | None  # in_progress | incomplete | submitted
    submitted_at: datetime | None


@dataclass(frozen=True)
class OrganisationDetail:
    """One organisation: every contact (deactivated ones too), their codes, and its rounds
    (newest first)."""

    organisation: OrganisationRow
    contacts: tuple[ContactRow, ...]
    invitations: tuple[InvitationRow, ...]  # newest first
    rounds: tuple[RoundTaken, ...]

    @property
    def reachable(self) -> bool:
        return any(c.reachable for c in self.contacts)


async def organisation_detail(
    session: AsyncSession, code: str, now: datetime
) -> OrganisationDetail:
    """One organisation by code; ``UnknownOrganisation`` if there is none."""
    organisation = await organisation_by_code(session, code)
    contacts = await contact_rows(session, now, organisation_ids=[organisation.id])
    invitations = await session.execute(
        select(Invitation)
        .where(Invitation.contact_id.in_([c.id for c in contacts]))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    invited = set(
        await session.scalars(
            select(RoundInvitee.round_id).where(RoundInvitee.organisation_id == organisation.id)
        )
    )
    rounds = await session.execute(
        select(Round, Response.status, Response.submitted_at)
        .join(RoundOrganisation, RoundOrganisation.round_id == Round.id)
        .outerjoin(
            Response,
            and_(Response.round_id == Round.id, Response.organisation_id == organisation.id),
        )
        .where(RoundOrganisation.organisation_id == organisation.id)
        .order_by(Round.opens_at.desc(), Round.id.desc())
    )
    return OrganisationDetail(
        organisation=organisation,
        contacts=tuple(contacts),
        invitations=tuple(
            InvitationRow(i.contact_id, i.created_at, i.expires_at, i.used_at, i.revoked_at)
            for i in invitations.scalars()
        ),
        rounds=tuple(
            RoundTaken(
                r.id,
                r.title,
                r.status,
                r.opens_at,
                r.closes_at,
                r.id in invited or status is not None,
                status,
                submitted_at,
            )
            for r, status, submitted_at in rounds
        ),  # fmt: skip
    )

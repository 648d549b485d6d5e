"""Rounds as the doors read them (CLI, chat, workspace, API): one way to ask each question.

Every function returns plain frozen dataclasses, never ORM objects, and asks the
database a fixed handful of queries whatever the number of rounds or members, so a page
can call it per request.

Who counts as what follows ``services/response_rate.py`` (its ``round_progress`` is
used, not repeated): an organisation is *invited* when one of its contacts got the
invitation or was offered the round in chat, *started* when it has a response and
*submitted* when that response is sent in. Reachability follows
``services/rounds.reachable_chats``, where invitations and reminders go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.response_rate import Missing, RoundProgress, Tally, round_progress
from services.rounds import reachable_channels
from services.views_publications import PublicationRow, publication_rows
from storage.orm import (
    Contact,
    Organisation,
    Response,
    Round,
    RoundEvent,
    RoundInvitee,
    RoundOrganisation,
    SurveyVersion,
)

# --- every round ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundRow:
    """One round with its survey and how many of its organisations answered.

    ``organisations`` is the audience's size; ``in_progress``, ``incomplete`` (closed
    before being sent in) and ``submitted`` count its responses by status.
    """

    id: int
    title: str
    status: str  # planned | open | closed | cancelled
    paused: bool
    opens_at: datetime
    closes_at: datetime
    survey_key: str
    survey_version: int
    plan_key: str | None
    audience: Mapping[str, Any]  # the stored description, e.g. {"kind": "county", ...}
    organisations: int
    in_progress: int
    incomplete: int
    submitted: int

    def to_json(self) -> dict[str, Any]:
        """The round as ``rounds list --json`` and the API give it (times ISO, with offset)."""
        return {
            "id": self.id, "title": self.title, "survey": self.survey_key,
            "survey_version": self.survey_version, "status": self.status,
            "paused": self.paused, "opens_at": self.opens_at.isoformat(),
            "closes_at": self.closes_at.isoformat(), "audience": dict(self.audience),
            "organisations": self.organisations, "in_progress": self.in_progress,
            "incomplete": self.incomplete, "submitted": self.submitted,
        }  # fmt: skip


async def round_rows(
    session: AsyncSession, round_ids: Sequence[int] | None = None
) -> list[RoundRow]:
    """Every round (or those in ``round_ids``) by id, in three queries."""
    sizes_query = select(RoundOrganisation.round_id, func.count()).group_by(
        RoundOrganisation.round_id
    )
    counts_query = select(Response.round_id, Response.status, func.count()).group_by(
        Response.round_id, Response.status
    )
    rounds_query = (
        select(Round, SurveyVersion.key, SurveyVersion.version)
        .join(SurveyVersion, Round.survey_version_id == SurveyVersion.id)
        .order_by(Round.id)
    )
    if round_ids is not None:
        ids = list(round_ids)
        sizes_query = sizes_query.where(RoundOrganisation.round_id.in_(ids))
        counts_query = counts_query.where(Response.round_id.in_(ids))
        rounds_query = rounds_query.where(Round.id.in_(ids))
    sizes: dict[int, int] = {
        round_id: count for round_id, count in await session.execute(sizes_query)
    }
    counts: dict[tuple[int, str], int] = {
        (round_id, status): count for round_id, status, count in await session.execute(counts_query)
    }
    return [
        RoundRow(
            id=round_.id, title=round_.title, status=round_.status,
            paused=round_.paused_at is not None, opens_at=round_.opens_at,
            closes_at=round_.closes_at, survey_key=key, survey_version=version,
            plan_key=round_.plan_key, audience=dict(round_.audience or {}),
            organisations=sizes.get(round_.id, 0),
            in_progress=counts.get((round_.id, "in_progress"), 0)
            + counts.get((round_.id, "awaiting_approval"), 0),  # a delegate's, to approve
            incomplete=counts.get((round_.id, "incomplete"), 0),
            submitted=counts.get((round_.id, "submitted"), 0),
        )
        for round_, key, version in await session.execute(rounds_query)
    ]  # fmt: skip


async def round_row(session: AsyncSession, round_id: int) -> RoundRow:
    """One round; ``LookupError`` if there is none."""
    rows = await round_rows(session, [round_id])
    if not rows:
        raise LookupError(f"no round with id {round_id}")
    return rows[0]


def in_year(row: RoundRow, year: int, zone: ZoneInfo) -> bool:
    """Whether a round runs in ``year`` (local time): it opens, closes or spans part of it."""
    return row.opens_at.astimezone(zone).year <= year <= row.closes_at.astimezone(zone).year


@dataclass(frozen=True)
class RoundEventRow:
    """A line of a round's history: when, who or what did it, and the details."""

    at: datetime
    actor: str  # cli:<user>, scheduler, contact:5, staff:3 ...
    action: str
    detail: Mapping[str, Any]


async def round_history(session: AsyncSession, round_id: int) -> list[RoundEventRow]:
    """What happened to a round, oldest first; empty for a round without history (or
    without existence: the caller says which)."""
    events = await session.scalars(
        select(RoundEvent).where(RoundEvent.round_id == round_id).order_by(RoundEvent.id)
    )
    return [RoundEventRow(e.at, e.actor, e.action, dict(e.detail or {})) for e in events]


# --- the year at a glance -------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """Organisations of a group and how many were invited, started and submitted."""

    organisations: int
    invited: int
    started: int
    submitted: int

    @property
    def rate(self) -> float:
        """The share that submitted (0 for an empty group)."""
        return self.submitted / self.organisations if self.organisations else 0.0

    @classmethod
    def of(cls, tally: Tally) -> Counts:
        return cls(tally.organisations, tally.invited, tally.started, tally.submitted)


@dataclass(frozen=True)
class CountyCounts:
    """One county's response rate."""

    code: str
    name: str
    counts: Counts


@dataclass(frozen=True)
class MissingOrganisation:
    """An organisation in the audience that has not submitted."""

    code: str
    name: str
    county_code: str
    county_name: str
    invited: bool
    started: bool


@dataclass(frozen=True)
class OpenRound:
    """An open round's response rate, overall and by county, and who is still missing
    (started first, then invited, then by county and code)."""

    round: RoundRow
    total: Counts
    counties: tuple[CountyCounts, ...]
    missing: tuple[MissingOrganisation, ...]


@dataclass(frozen=True)
class YearOverview:
    """The workspace's front page: the year's rounds for a timeline (by opening), the open
    rounds' progress, and the latest publications with their delivery."""

    year: int
    rounds: tuple[RoundRow, ...]
    open_rounds: tuple[OpenRound, ...]
    publications: tuple[PublicationRow, ...]


def open_round_of(row: RoundRow, progress: RoundProgress) -> OpenRound:
    """``round_progress`` as frozen data, missing organisations named with their county."""
    counties = {code: name for code, (name, _) in progress.by_county.items()}
    missing = sorted(
        progress.not_answered, key=lambda m: (not m.started, not m.invited, m.county, m.org)
    )
    return OpenRound(
        round=row,
        total=Counts.of(progress.total),
        counties=tuple(
            CountyCounts(code, name, Counts.of(tally))
            for code, (name, tally) in sorted(progress.by_county.items())
        ),
        missing=tuple(
            MissingOrganisation(
                m.org, m.name, m.county, counties.get(m.county, ""), m.invited, m.started
            )
            for m in missing
        ),  # fmt: skip
    )


async def year_overview(
    session: AsyncSession, year: int, zone: ZoneInfo, *, publications: int = 5
) -> YearOverview:
    """Every round running in ``year`` (local time); every open round's progress, whatever
    its year; the ``publications`` most recently published, with delivery counts.

    The next automatic step of each round is the scheduler's business:
    ``scheduler.status.next_steps``.
    """
    rows = await round_rows(session)
    open_rounds = [
        open_round_of(row, await round_progress(session, row.id))
        for row in rows
        if row.status == "open"
    ]
    return YearOverview(
        year=year,
        rounds=tuple(
            sorted((r for r in rows if in_year(r, year, zone)), key=lambda r: (r.opens_at, r.id))
        ),
        open_rounds=tuple(open_rounds),
        publications=tuple(
            await publication_rows(session, published_only=True, limit=publications)
        ),
    )


# --- one round, organisation by organisation ---------------------------------------------------

OrgState = Literal["not_invited", "invited", "started", "submitted", "unreachable"]
STATES: tuple[OrgState, ...] = ("submitted", "started", "invited", "not_invited", "unreachable")
STATE_NB: dict[str, str] = {
    "submitted": "sendt inn",
    "started": "påbegynt",
    "invited": "invitert",
    "not_invited": "ikke invitert",
    "unreachable": "kan ikke nås",
}


@dataclass(frozen=True)
class ContactChannel:
    """A contact of the organisation and where Lyttepost reaches them.

    ``channel`` is the chat invitations and reminders go to (None: no reachable chat);
    ``invited`` says whether this contact was invited to the round.
    """

    contact_id: int
    name: str
    role: str
    channel: str | None
    invited: bool

    @property
    def reachable(self) -> bool:
        return self.channel is not None


@dataclass(frozen=True)
class OrganisationStatus:
    """One organisation of a round's audience.

    ``state``, the first that holds:

    * ``submitted``: its response is sent in;
    * ``started``: it has a response that is not (in progress, or incomplete after closing);
    * ``unreachable``: no response, and none of its active contacts has a bound chat that
      is not marked unreachable, so nothing Lyttepost sends can reach it now (whether or
      not an invitation went out earlier: ``invited`` says);
    * ``invited``: no response; an invitation was queued to one of its contacts, or one
      was offered the round in chat after registering late;
    * ``not_invited``: no response and no invitation yet, though it can be reached (a
      planned round, or invitations still waiting for the quiet hours to end).
    """

    organisation_id: int
    code: str
    name: str
    county_code: str
    county_name: str
    state: OrgState
    invited: bool
    reachable: bool
    response_status: str | None  # in_progress | incomplete | submitted
    answered_by: str | None  # the contact who answered, while the link to them is kept
    started_at: datetime | None
    submitted_at: datetime | None
    contacts: tuple[ContactChannel, ...]


@dataclass(frozen=True)
class StateCounts:
    """How many organisations are in each state."""

    submitted: int = 0
    started: int = 0
    invited: int = 0
    not_invited: int = 0
    unreachable: int = 0

    @property
    def total(self) -> int:
        return self.submitted + self.started + self.invited + self.not_invited + self.unreachable

    @classmethod
    def of(cls, organisations: Sequence[OrganisationStatus]) -> StateCounts:
        return cls(**{state: sum(1 for o in organisations if o.state == state) for state in STATES})


@dataclass(frozen=True)
class CountyStatus:
    """A county's organisations (by code) and its counts."""

    code: str
    name: str
    counts: StateCounts
    organisations: tuple[OrganisationStatus, ...]


@dataclass(frozen=True)
class RoundStatus:
    """A round per county and per organisation, with its history (oldest first).

    ``progress`` is the response rate (invited, started, submitted as
    ``services/response_rate.py`` counts them); ``counts`` the states above.
    """

    round: RoundRow
    progress: Counts
    counts: StateCounts
    counties: tuple[CountyStatus, ...]
    history: tuple[RoundEventRow, ...]

    def organisations(self, state: OrgState | None = None) -> list[OrganisationStatus]:
        """Every organisation (by county, then code), or those in one state."""
        return [
            org
            for county in self.counties
            for org in county.organisations
            if state is None or org.state == state
        ]


async def round_status(session: AsyncSession, round_id: int) -> RoundStatus:
    """The round, organisation by organisation; ``LookupError`` if there is no such round."""
    row = await round_row(session, round_id)
    progress = await round_progress(session, round_id)
    missing = {m.org: m for m in progress.not_answered}
    organisations = (
        await session.execute(
            select(
                Organisation.id, Organisation.code, Organisation.name,
                Organisation.county_code, Organisation.county_name,
            )
            .join(RoundOrganisation, RoundOrganisation.organisation_id == Organisation.id)
            .where(RoundOrganisation.round_id == round_id)
            .order_by(Organisation.county_code, Organisation.code)
        )
    ).all()  # fmt: skip
    org_ids = [org.id for org in organisations]
    responses = {
        organisation_id: (status, contact, started, submitted)
        for organisation_id, status, contact, started, submitted in await session.execute(
            select(
                Response.organisation_id, Response.status, Contact.name,
                Response.started_at, Response.submitted_at,
            )
            .outerjoin(Contact, Contact.id == Response.contact_id)
            .where(Response.round_id == round_id)
        )
    }  # fmt: skip
    invited_contacts = set(
        await session.scalars(
            select(RoundInvitee.contact_id).where(
                RoundInvitee.round_id == round_id, RoundInvitee.contact_id.is_not(None)
            )
        )
    )
    channels = await reachable_channels(session, org_ids)
    contacts: dict[int, list[ContactChannel]] = {}
    for contact in await session.scalars(
        select(Contact)
        .where(Contact.organisation_id.in_(org_ids), Contact.active, Contact.erased_at.is_(None))
        .order_by(Contact.id)
    ):
        contacts.setdefault(contact.organisation_id, []).append(
            ContactChannel(contact.id, contact.name, contact.role, channels.get(contact.id),
                           contact.id in invited_contacts)
        )  # fmt: skip
    statuses = [
        _organisation_status(org, missing, responses.get(org.id), tuple(contacts.get(org.id, ())))
        for org in organisations
    ]
    counties: dict[str, list[OrganisationStatus]] = {}
    for status in statuses:
        counties.setdefault(status.county_code, []).append(status)
    return RoundStatus(
        round=row,
        progress=Counts.of(progress.total),
        counts=StateCounts.of(statuses),
        counties=tuple(
            CountyStatus(code, orgs[0].county_name, StateCounts.of(orgs), tuple(orgs))
            for code, orgs in sorted(counties.items())
        ),
        history=tuple(await round_history(session, round_id)),
    )


def _organisation_status(
    org: Row[int, str, str, str, str],
    missing: Mapping[str, Missing],
    response: tuple[str, str | None, datetime, datetime | None] | None,
    contacts: tuple[ContactChannel, ...],
) -> OrganisationStatus:
    gap = missing.get(org.code)
    submitted = gap is None
    started = gap is None or gap.started
    invited = gap is None or gap.invited
    reachable = any(c.reachable for c in contacts)
    state: OrgState
    if submitted:
        state = "submitted"
    elif started:
        state = "started"
    elif not reachable:
        state = "unreachable"
    else:
        state = "invited" if invited else "not_invited"
    status, answered_by, started_at, submitted_at = response or (None, None, None, None)
    return OrganisationStatus(
        organisation_id=org.id, code=org.code, name=org.name, county_code=org.county_code,
        county_name=org.county_name, state=state, invited=invited, reachable=reachable,
        response_status=status, answered_by=answered_by, started_at=started_at,
        submitted_at=submitted_at, contacts=contacts,
    )  # fmt: skip

"""Segments: who a publication or broadcast goes to, resolved to contacts and their chats.

A segment picks organisations (all members, a county, a member type, a list, the
respondents, non-respondents or invitees of a round, those that chose an area in a round,
or those whose needs are linked to one of KS's actions) and, optionally, contacts by role.
Every contact of those organisations is a recipient: reachable through their most
recently used chat, or listed as unreachable so KS can reach them another way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import action_plans, actions
from services.rounds import MEMBER_KINDS, chat_preference
from services.surveys import SurveyCatalog
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

SegmentKind = Literal[
    "all", "county", "member_type", "role", "respondents", "non_respondents", "invited", "orgs",
    "area", "action",
]  # fmt: skip
ROUND_KINDS = ("respondents", "non_respondents", "invited")
KINDS: tuple[str, ...] = (
    "all", "county", "member_type", "role", *ROUND_KINDS, "orgs", "area", "action"
)  # fmt: skip
SPELLINGS = {  # what an admin may type: "county:46", "svarte:3", "kommunetype:kommune" ...
    "all": "all", "alle": "all", "county": "county", "fylke": "county",
    "kind": "member_type", "member_type": "member_type", "type": "member_type",
    "role": "role", "rolle": "role",
    "respondents": "respondents", "svarte": "respondents",
    "non-respondents": "non_respondents", "non_respondents": "non_respondents",
    "ikke-svarte": "non_respondents", "invited": "invited", "inviterte": "invited",
    "orgs": "orgs", "org": "orgs", "medlemmer": "orgs",
    "area": "area", "omrade": "area", "område": "area",
    "action": "action", "tiltak": "action",
}  # fmt: skip


class SegmentError(ValueError):
    """A segment that cannot be read or that names something unknown.

    ``nb`` says it in Norwegian for staff on the web (the message is the CLI's)."""

    def __init__(self, message: str, nb: str | None = None) -> None:
        super().__init__(message)
        self.nb = nb or message


@dataclass(frozen=True)
class Segment:
    """Who gets something: ``kind`` and its value (county, member type, role, round id, codes)."""

    kind: str
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> Segment:
        """``all``, ``county:46``, ``kind:kommune``, ``role:radmann``, ``respondents:3``,
        ``non-respondents:3``, ``invited:3``, ``orgs:3301,46``, ``area:3:helse`` (chose the
        area in round 3) or ``action:4`` (needs linked to action 4); Norwegian spellings
        too."""
        name, _, rest = text.strip().partition(":")
        kind = SPELLINGS.get(name.strip().lower())
        value = rest.strip() or None
        if kind is None:
            raise SegmentError(
                f"unknown segment {text!r}: all, county:NN, kind:kommune|fylkeskommune, "
                "role:ROLE, respondents:ROUND, non-respondents:ROUND, invited:ROUND, orgs:N,N, "
                "area:ROUND:AREA or action:ID"
            )
        if kind == "all":
            return cls("all")
        if value is None:
            raise SegmentError(f"segment {name!r} needs a value, e.g. {name}:...")
        if kind in ROUND_KINDS and not value.isdigit():
            raise SegmentError(f"segment {name!r} needs a round id, e.g. {name}:3")
        if kind == "action" and not value.isdigit():
            raise SegmentError(f"segment {name!r} needs an action id, e.g. {name}:4")
        if kind == "area":
            round_id, _, area = value.partition(":")
            if not round_id.strip().isdigit() or not area.strip():
                raise SegmentError(
                    f"segment {name!r} needs a round and an area, e.g. {name}:3:helse"
                )
            value = f"{int(round_id)}:{area.strip()}"
        if kind == "member_type" and value not in MEMBER_KINDS:
            raise SegmentError("member type is kommune or fylkeskommune")
        if kind == "county":
            if not value.isdigit() or len(value) > 2:
                raise SegmentError("a county is its number, e.g. county:46")
            value = value.zfill(2)
        return cls(kind, value)

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"kind": self.kind, "value": self.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        """Read the stored form back."""
        return cls(str(data["kind"]), data.get("value"))

    def describe(self) -> str:
        """Norwegian, for previews and reports."""
        value = self.value or ""
        return {
            "all": "alle medlemmer",
            "county": f"medlemmer i fylke {value}",
            "member_type": {"kommune": "kommunene", "fylkeskommune": "fylkeskommunene"}.get(
                value, value
            ),
            "role": f"kontaktpersoner med rollen {value}",
            "respondents": f"medlemmer som svarte i runde {value}",
            "non_respondents": f"medlemmer som ikke svarte i runde {value}",
            "invited": f"medlemmer invitert til runde {value}",
            "orgs": f"utvalgte medlemmer ({value})",
            "area": "medlemmer som valgte området {1} i runde {0}".format(*_area_of(value)),
            "action": f"medlemmer med behov som tiltak {value} svarer på",
        }.get(self.kind, self.kind)


def _area_of(value: str) -> tuple[str, str]:
    """``"3:helse"`` -> ``("3", "helse")``."""
    round_id, _, area = value.partition(":")
    return round_id, area


@dataclass(frozen=True)
class Recipient:
    """A contact a segment reaches, and the chat to reach them in (None: unreachable)."""

    contact_id: int
    contact_name: str
    organisation_id: int
    org_code: str
    org_name: str
    channel: str | None
    address: str | None

    @property
    def reachable(self) -> bool:
        """Whether there is a chat to send to."""
        return self.address is not None


async def segment_organisations(session: AsyncSession, segment: Segment) -> list[int]:
    """The ids of the organisations a segment covers."""
    value = segment.value or ""
    if segment.kind in ("all", "role"):
        statement = select(Organisation.id)
    elif segment.kind == "county":
        statement = select(Organisation.id).where(Organisation.county_code == value)
    elif segment.kind == "member_type":
        statement = select(Organisation.id).where(Organisation.kind.in_(MEMBER_KINDS[value]))
    elif segment.kind == "orgs":
        codes = [resolve_org_code(c) for c in value.replace(";", ",").split(",") if c.strip()]
        ids_by_code = dict((await session.execute(
            select(Organisation.code, Organisation.id).where(Organisation.code.in_(codes))
        )).all())  # fmt: skip
        missing = sorted(set(codes) - set(ids_by_code))
        if missing:
            raise SegmentError(
                f"unknown organisation code(s): {', '.join(missing)}",
                nb=f"Ukjent organisasjonsnummer: {', '.join(missing)}.",
            )
        return sorted(ids_by_code.values())
    elif segment.kind in ROUND_KINDS:
        statement = _round_organisations(segment.kind, int(value))
    elif segment.kind in ("area", "action"):
        return await _action_organisations(session, segment.kind, value)
    else:
        raise SegmentError(f"unknown segment kind {segment.kind!r}")
    found = sorted(set(await session.scalars(statement)))
    if not found and segment.kind == "county":
        raise SegmentError(f"no members in county {value}", nb=f"Ingen medlemmer i fylke {value}.")
    return found


async def _action_organisations(session: AsyncSession, kind: str, value: str) -> list[int]:
    """``area``: chose the area in the round; ``action``: needs linked to the action."""
    try:
        if kind == "area":
            round_id, area = _area_of(value)
            return await actions.organisations_choosing(
                session, SurveyCatalog(), int(round_id), area
            )
        await actions.load_action(session, int(value))
        return await action_plans.linked_organisations(session, int(value))
    except actions.ActionError as error:
        raise SegmentError(str(error), nb=f"{str(error)[:1].upper()}{str(error)[1:]}.") from None


def _round_organisations(kind: str, round_id: int) -> Any:
    submitted = select(Response.organisation_id).where(
        Response.round_id == round_id, Response.status == "submitted"
    )
    if kind == "respondents":
        return submitted
    if kind == "invited":
        return select(RoundInvitee.organisation_id).where(RoundInvitee.round_id == round_id)
    return select(RoundOrganisation.organisation_id).where(
        RoundOrganisation.round_id == round_id,
        RoundOrganisation.organisation_id.not_in(submitted),
    )


async def resolve_segment(session: AsyncSession, segment: Segment) -> list[Recipient]:
    """Every active contact the segment reaches, with their most recently used reachable
    chat (deactivated and erased contacts get nothing)."""
    organisation_ids = await segment_organisations(session, segment)
    if not organisation_ids:
        return []
    contacts = (
        select(Contact, Organisation)
        .join(Organisation, Contact.organisation_id == Organisation.id)
        .where(Organisation.id.in_(organisation_ids), Contact.active)
    )
    if segment.kind == "role":
        contacts = contacts.where(func.lower(Contact.role) == (segment.value or "").lower())
    rows = (await session.execute(contacts.order_by(Organisation.code, Contact.id))).all()
    chats: dict[int, Chat] = {}
    for chat in await session.scalars(
        select(Chat)
        .join(Contact, Chat.contact_id == Contact.id)
        .where(Chat.contact_id.in_([c.id for c, _ in rows]), Chat.unreachable_at.is_(None))
        .order_by(*chat_preference())
    ):
        assert chat.contact_id is not None
        chats.setdefault(chat.contact_id, chat)
    return [
        Recipient(
            contact_id=contact.id, contact_name=contact.name, organisation_id=organisation.id,
            org_code=organisation.code, org_name=organisation.name,
            channel=chats[contact.id].channel if contact.id in chats else None,
            address=chats[contact.id].address if contact.id in chats else None,
        )
        for contact, organisation in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class SegmentChoices:
    """What a segment picker offers: counties (number, name), contacts' roles, rounds
    (id, title, status) for "answered / did not answer / invited to", the areas of each
    round with answers (round id, area, label) for "chose the area", and KS's actions
    (id, title, status) for "needs linked to the action"."""

    counties: list[tuple[str, str]]
    roles: list[str]
    rounds: list[tuple[int, str, str]]
    areas: list[tuple[int, str, str]] = field(default_factory=list)
    actions: list[tuple[int, str, str]] = field(default_factory=list)


async def segment_choices(session: AsyncSession) -> SegmentChoices:
    """The values each kind of segment can take now, for a picker (newest rounds first)."""
    counties = (
        await session.execute(
            select(Organisation.county_code, Organisation.county_name)
            .distinct()
            .order_by(Organisation.county_code)
        )
    ).all()
    roles = await session.scalars(
        select(Contact.role)
        .where(Contact.active, Contact.role != "")
        .distinct()
        .order_by(Contact.role)
    )
    rounds = (
        await session.execute(select(Round.id, Round.title, Round.status).order_by(Round.id.desc()))
    ).all()
    return SegmentChoices(
        counties=[(code, name) for code, name in counties],
        roles=list(roles),
        rounds=[(round_id, title, status) for round_id, title, status in rounds],
        areas=await _answered_areas(session),
        actions=await actions.action_choices(session),
    )


async def _answered_areas(session: AsyncSession) -> list[tuple[int, str, str]]:
    """The areas of every round with a submitted response, newest round first."""
    catalog = SurveyCatalog()  # a few survey versions; parsed once per call
    found = []
    for round_id in await session.scalars(
        select(Round.id)
        .where(Round.id.in_(select(Response.round_id).where(Response.status == "submitted")))
        .order_by(Round.id.desc())
    ):
        areas = await actions.round_areas(session, catalog, round_id)
        found += [(round_id, area, label) for area, label in areas.items()]
    return found

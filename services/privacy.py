"""Data subjects' rights: access to everything held about a contact, and erasure.

KS is the controller; a contact (a chief executive) may ask what Lyttepost holds about
them and to be erased (GDPR articles 15 and 17). Both are use cases here; the CLI is a
thin door (``lyttepost privacy``). Erasure removes the person and keeps the
organisation's answers, linked to no one; the contact row stays as a tombstone with no
personal data so its id is never reused (docs/decisions/0011). Every access and erasure
is logged (who, when, which contact; never the data) in the log and in ``privacy_log``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, delete, false, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.dates import iso
from services.responses import erase_free_text
from services.surveys import SurveyCatalog
from storage.orm import (
    Chat,
    CodeAttempt,
    Contact,
    InboundEvent,
    Invitation,
    Organisation,
    OutboxMessage,
    PrivacyLogEntry,
    Publication,
    Response,
    ResponseVersion,
    Round,
    RoundEvent,
    RoundInvitee,
)

log = logging.getLogger(__name__)

ERASED_ACTOR = "contact:erased"  # replaces "contact:<id>" in histories after an erasure
Address = tuple[str, str]  # (channel, address)


async def record(
    session: AsyncSession,
    now: datetime,
    actor: str,
    action: str,
    contact_id: int | None = None,
    **detail: Any,
) -> None:
    """Log a privacy action durably and in the log: who, what, which contact; counts only."""
    session.add(
        PrivacyLogEntry(at=now, actor=actor[:100], action=action, contact_id=contact_id,
                        detail=detail)
    )  # fmt: skip
    log.info("privacy: %s by %s (contact %s)", action, actor, contact_id)


# --- whose data is where ----------------------------------------------------------------------


async def contact_chats(session: AsyncSession, contact_id: int) -> list[Chat]:
    """The chats a contact used: bound to them now, or where they redeemed a code and that
    are not bound to anyone else since (a deactivated contact's chats are unbound)."""
    redeemed = select(Invitation.used_by_chat_id).where(
        Invitation.contact_id == contact_id, Invitation.used_by_chat_id.is_not(None)
    )
    return list(
        await session.scalars(
            select(Chat)
            .where(
                or_(
                    Chat.contact_id == contact_id,
                    and_(Chat.id.in_(redeemed), Chat.contact_id.is_(None)),
                )
            )
            .order_by(Chat.id)
        )
    )


async def contact_addresses(
    session: AsyncSession, contact_id: int, chats: list[Chat]
) -> set[Address]:
    """Every conversation that carried messages to or from the contact: their chats, and
    where messages to them went (a chat since removed or unbound), unless that
    conversation now belongs to another contact."""
    addresses = {(chat.channel, chat.address) for chat in chats}
    sent_to = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.address)
        .where(OutboxMessage.contact_id == contact_id)
        .distinct()
    )
    others = await session.execute(
        select(Chat.channel, Chat.address).where(
            Chat.contact_id.is_not(None), Chat.contact_id != contact_id
        )
    )
    taken = {(channel, address) for channel, address in others}
    addresses |= {(channel, address) for channel, address in sent_to} - taken
    return addresses


def _at(column_pair: Any, addresses: set[Address]) -> Any:
    """``(channel, address) IN (...)``, portable; false for no addresses."""
    if not addresses:
        return false()
    return tuple_(*column_pair).in_(sorted(addresses))


# --- access -----------------------------------------------------------------------------------


async def export_contact(
    session: AsyncSession, catalog: SurveyCatalog, contact_id: int, now: datetime
) -> dict[str, Any]:
    """Everything held about a contact, as one JSON-ready document.

    Unknown and erased contacts give an empty document whose ``status`` says which.
    Invitation codes are listed with their times and state but without their hashes:
    a hash of a spent or revoked single-use code tells the person nothing and is the
    one thing that could help someone guess a live one.
    """
    contact = await session.get(Contact, contact_id)
    document: dict[str, Any] = {
        "contact_id": contact_id, "generated_at": now.isoformat(), "status": "unknown",
        "contact": None, "chats": [], "invitation_codes": [], "code_attempts": [],
        "rounds_invited": [], "responses": [], "messages_from_contact": [],
        "messages_to_contact": [], "named_in_publications": [],
    }  # fmt: skip
    if contact is None:
        return document
    if contact.erased_at is not None:
        return {**document, "status": "erased", "erased_at": contact.erased_at.isoformat()}
    organisation = await session.get(Organisation, contact.organisation_id)
    assert organisation is not None  # foreign key
    chats = await contact_chats(session, contact_id)
    addresses = await contact_addresses(session, contact_id, chats)
    document["status"] = "active" if contact.active else "deactivated"
    document["contact"] = {
        "id": contact.id, "name": contact.name, "role": contact.role, "email": contact.email,
        "organisation": {"code": organisation.code, "name": organisation.name},
        "preferred_channel": contact.preferred_channel,
        "active": contact.active, "created_at": iso(contact.created_at),
        "deactivated_at": iso(contact.deactivated_at),
    }  # fmt: skip
    document["chats"] = [
        {"channel": c.channel, "address": c.address, "user_id": c.user_id,
         "registered_now": c.contact_id == contact_id, "created_at": iso(c.created_at),
         "last_seen_at": iso(c.last_seen_at), "unreachable_at": iso(c.unreachable_at),
         "conversation_reference": c.conversation_ref}
        for c in chats
    ]  # fmt: skip
    document["invitation_codes"] = [
        {"created_at": iso(i.created_at), "expires_at": iso(i.expires_at),
         "used_at": iso(i.used_at), "revoked_at": iso(i.revoked_at)}
        for i in await session.scalars(
            select(Invitation).where(Invitation.contact_id == contact_id).order_by(Invitation.id)
        )
    ]  # fmt: skip
    document["code_attempts"] = [
        {"channel": a.channel, "address": a.address, "at": iso(a.attempted_at)}
        for a in await session.scalars(
            select(CodeAttempt)
            .where(_at((CodeAttempt.channel, CodeAttempt.address), addresses))
            .order_by(CodeAttempt.id)
        )
    ]
    document["rounds_invited"] = [
        {"round_id": round_id, "invited_at": iso(at)}
        for round_id, at in await session.execute(
            select(RoundInvitee.round_id, RoundInvitee.invited_at)
            .where(RoundInvitee.contact_id == contact_id)
            .order_by(RoundInvitee.round_id)
        )
    ]
    document["responses"] = await _responses(session, catalog, contact_id)
    document["messages_from_contact"] = [
        {"channel": e.channel, "address": e.address, "received_at": iso(e.received_at),
         "processed_at": iso(e.processed_at), "event": e.payload}
        for e in await session.scalars(
            select(InboundEvent)
            .where(_at((InboundEvent.channel, InboundEvent.address), addresses))
            .order_by(InboundEvent.id)
        )
    ]  # fmt: skip
    document["messages_to_contact"] = [
        {"channel": m.channel, "address": m.address, "kind": m.kind, "status": m.status,
         "created_at": iso(m.created_at), "sent_at": iso(m.sent_at),
         "text_removed_at": iso(m.purged_at), "message": m.payload or None}
        for m in await session.scalars(
            select(OutboxMessage)
            .where(
                or_(
                    OutboxMessage.contact_id == contact_id,
                    _at((OutboxMessage.channel, OutboxMessage.address), addresses),
                )
            )
            .order_by(OutboxMessage.id)
        )
    ]  # fmt: skip
    document["named_in_publications"] = [
        {"publication_id": p.id, "title": p.title, "reason": "not reachable when it was sent"}
        for p in await _publications_naming(session, contact_id)
    ]
    document["submitted_versions"] = [  # every time they sent an answer in (ADR 21)
        {"response_id": v.response_id, "version": v.number,
         "submitted_at": iso(v.submitted_at), "answers": v.answers}
        for v in await session.scalars(
            select(ResponseVersion).where(ResponseVersion.contact_id == contact_id)
            .order_by(ResponseVersion.response_id, ResponseVersion.number)
        )
    ]  # fmt: skip
    return document


async def _responses(
    session: AsyncSession, catalog: SurveyCatalog, contact_id: int
) -> list[dict[str, Any]]:
    found = []
    rows = await session.execute(
        select(Response, Round, Organisation)
        .join(Round, Response.round_id == Round.id)
        .join(Organisation, Response.organisation_id == Organisation.id)
        .where(Response.contact_id == contact_id)
        .order_by(Response.id)
    )
    for response, round_, organisation in rows:
        survey = await catalog.get(session, round_.survey_version_id)
        answers = (response.state or {}).get("answers", {})
        found.append({
            "round_id": round_.id, "round_title": round_.title,
            "organisation": organisation.code, "status": response.status,
            "started_at": iso(response.started_at), "submitted_at": iso(response.submitted_at),
            "answers": [
                {"question": qid,
                 "label": (q.label or q.text) if (q := survey.question(qid)) else None,
                 "value": value}
                for qid, value in answers.items()
            ],
        })  # fmt: skip
    return found


async def _publications_naming(session: AsyncSession, contact_id: int) -> list[Publication]:
    """Publications whose list of unreached recipients names the contact."""
    candidates = await session.scalars(select(Publication).where(Publication.status == "published"))
    return [
        p for p in candidates
        if any(isinstance(e, dict) and e.get("contact_id") == contact_id for e in p.unreached or [])
    ]  # fmt: skip


# --- erasure ----------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What erasing a contact removes (a plan before ``--yes``, the outcome after)."""

    contact_id: int
    status: str  # active | deactivated (before), erased, already_erased, unknown
    chats: int = 0
    invitation_codes: int = 0
    code_attempts: int = 0
    messages_from_contact: int = 0
    messages_to_contact: int = 0
    queued_messages: int = 0
    responses_unlinked: int = 0
    free_text_answers: int = 0
    round_invitations_unlinked: int = 0
    publications_mentioning: int = 0
    history_entries: int = 0
    messages_to_others_redacted: int = 0

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document (counts only; never the data)."""
        return asdict(self)

    def counts(self) -> dict[str, int]:
        """The counts, for the privacy log."""
        return {k: v for k, v in asdict(self).items() if isinstance(v, int) and k != "contact_id"}


async def erasure_plan(session: AsyncSession, catalog: SurveyCatalog, contact_id: int) -> Erasure:
    """What ``erase_contact`` would remove, changing nothing."""
    return await _erase(session, catalog, contact_id, None, actor="", apply=False)


async def erase_contact(
    session: AsyncSession, catalog: SurveyCatalog, contact_id: int, now: datetime, *, actor: str
) -> Erasure:
    """Erase a contact in the caller's transaction; afterwards call ``storage.db.scrub_files``.

    Removed: name, role, e-mail, admin role, chats (addresses, Teams references), codes
    and code attempts, every message to and from them (queued ones too), free text they
    wrote; unlinked (the organisation's data stays): their responses, round invitations,
    mentions in publications' delivery lists and in round and publication histories.
    Erasing the only contact of an organisation is allowed. ``LookupError`` for an
    unknown contact; an already erased one changes nothing.
    """
    return await _erase(session, catalog, contact_id, now, actor=actor, apply=True)


async def _erase(
    session: AsyncSession,
    catalog: SurveyCatalog,
    contact_id: int,
    now: datetime | None,
    *,
    actor: str,
    apply: bool,
) -> Erasure:
    contact = await session.get(Contact, contact_id, with_for_update=apply)
    if contact is None:
        raise LookupError(f"no contact with id {contact_id}")
    if contact.erased_at is not None:
        return Erasure(contact_id, "already_erased")
    outcome = Erasure(contact_id, "active" if contact.active else "deactivated")
    chats = await contact_chats(session, contact_id)
    addresses = await contact_addresses(session, contact_id, chats)
    chat_ids = [chat.id for chat in chats]
    at_inbound = _at((InboundEvent.channel, InboundEvent.address), addresses)
    at_attempts = _at((CodeAttempt.channel, CodeAttempt.address), addresses)
    to_contact = or_(
        OutboxMessage.contact_id == contact_id,
        _at((OutboxMessage.channel, OutboxMessage.address), addresses),
    )
    actor_ref = f"contact:{contact_id}"
    outcome.chats = len(chats)
    outcome.invitation_codes = await _count(
        session, Invitation, Invitation.contact_id == contact_id
    )
    outcome.code_attempts = await _count(session, CodeAttempt, at_attempts)
    outcome.messages_from_contact = await _count(session, InboundEvent, at_inbound)
    outcome.messages_to_contact = await _count(session, OutboxMessage, to_contact)
    outcome.queued_messages = await _count(
        session,
        OutboxMessage,
        and_(to_contact, OutboxMessage.status.in_(["pending", "held", "sending"])),
    )
    outcome.round_invitations_unlinked = await _count(
        session, RoundInvitee, RoundInvitee.contact_id == contact_id
    )
    outcome.history_entries = await _count(session, RoundEvent, RoundEvent.actor == actor_ref)
    publications = await _publications_naming(session, contact_id)
    outcome.publications_mentioning = len(publications)
    responses = list(
        await session.scalars(select(Response).where(Response.contact_id == contact_id))
    )
    outcome.responses_unlinked = len(responses)
    to_others = and_(
        or_(OutboxMessage.contact_id.is_(None), OutboxMessage.contact_id != contact_id),
        ~_at((OutboxMessage.channel, OutboxMessage.address), addresses),
    )
    naming = await _messages_naming(session, contact.name, to_others)
    outcome.messages_to_others_redacted = len(naming)
    if not apply:
        outcome.free_text_answers = await _free_texts(session, catalog, responses)
        return outcome
    assert now is not None
    for response in responses:
        round_ = await session.get(Round, response.round_id)
        assert round_ is not None
        survey = await catalog.get(session, round_.survey_version_id)
        outcome.free_text_answers += await erase_free_text(session, response, survey)
        response.contact_id = None
    await session.flush()
    response_ids = [response.id for response in responses]
    if response_ids:
        await _run(session, update(Chat).where(Chat.active_response_id.in_(response_ids))
                   .values(active_response_id=None))  # fmt: skip
    await _run(session, update(RoundInvitee).where(RoundInvitee.contact_id == contact_id)
               .values(contact_id=None))  # fmt: skip
    # Who approved a delegate's answer, and whose delegate someone was, name a person too.
    await _run(session, update(Response).where(Response.approved_by_contact_id == contact_id)
               .values(approved_by_contact_id=None))  # fmt: skip
    await _run(session, update(Contact).where(Contact.delegate_for_contact_id == contact_id)
               .values(delegate_for_contact_id=None))  # fmt: skip
    await _run(session, update(ResponseVersion).where(ResponseVersion.contact_id == contact_id)
               .values(contact_id=None))  # fmt: skip
    await _run(session, delete(OutboxMessage).where(to_contact))
    await _run(session, delete(InboundEvent).where(at_inbound))
    await _run(session, delete(CodeAttempt).where(at_attempts))
    if chat_ids:
        await _run(session, update(Invitation).where(Invitation.used_by_chat_id.in_(chat_ids))
                   .values(used_by_chat_id=None))  # fmt: skip
    await _run(session, delete(Invitation).where(Invitation.contact_id == contact_id))
    if chat_ids:
        await _run(session, delete(Chat).where(Chat.id.in_(chat_ids)))
    for publication in publications:
        publication.unreached = [
            {"contact_id": None, "name": None, "org": e.get("org"), "org_name": e.get("org_name")}
            if isinstance(e, dict) and e.get("contact_id") == contact_id else e
            for e in publication.unreached or []
        ]  # fmt: skip
    await _run(session, update(RoundEvent).where(RoundEvent.actor == actor_ref)
               .values(actor=ERASED_ACTOR))  # fmt: skip
    for column in (Publication.created_by, Publication.published_by):
        await _run(session, update(Publication).where(column == actor_ref)
                   .values({column: ERASED_ACTOR}))  # fmt: skip
    for row in naming:
        row.payload = _replace_strings(row.payload, _name_pattern(contact.name))
    contact.name = ""
    contact.role = ""
    contact.email = None
    contact.preferred_channel = None
    contact.active = False
    contact.deactivated_at = contact.deactivated_at or now
    contact.erased_at = now
    outcome.status = "erased"
    await record(session, now, actor, "erase", contact_id, **outcome.counts())
    return outcome


REDACTED = "[navn slettet]"


async def _messages_naming(session: AsyncSession, name: str, others: Any) -> list[OutboxMessage]:
    """Messages queued or sent to others that name the contact (a colleague was told
    "Kari has begun answering"). Stored JSON escapes non-ASCII: both spellings are sought."""
    if len(name.strip()) < 2:
        return []
    spellings = {name, json.dumps(name)[1:-1]}
    found = await session.scalars(
        select(OutboxMessage).where(
            others, or_(*(cast(OutboxMessage.payload, String).contains(s) for s in spellings))
        )
    )
    pattern = _name_pattern(name)
    return [row for row in found if _replace_strings(row.payload, pattern) != row.payload]


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


def _replace_strings(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_replace_strings(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _replace_strings(item, pattern) for key, item in value.items()}
    return value


async def _free_texts(
    session: AsyncSession, catalog: SurveyCatalog, responses: list[Response]
) -> int:
    from services.responses import free_text_questions

    total = 0
    for response in responses:
        round_ = await session.get(Round, response.round_id)
        assert round_ is not None
        texts = free_text_questions(await catalog.get(session, round_.survey_version_id))
        total += sum(1 for qid in (response.state or {}).get("answers", {}) if qid in texts)
    return total


async def _count(session: AsyncSession, model: Any, condition: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(condition)) or 0)


async def _run(session: AsyncSession, statement: Any) -> None:
    await session.execute(statement.execution_options(synchronize_session=False))

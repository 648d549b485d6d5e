"""The organisation as respondent (ADR 20): delegates, taking over a started response,
handing over when the contact changes, and one person's chats on two channels.

The response belongs to the organisation (one per round, ADR 3); ``Response.contact_id``
is whoever answers it now. Moving it never loses an answer (the engine state moves with
it) and is written to the round's history, so who answered what stays known. Chat,
CLI and workspace call these functions; none of them speaks to a member directly:
``tell`` queues word to a contact's chat through the outbox; whoever builds that word
does it in the recipient's language (``speaking(contact_language(...))``), not in the
language of whoever caused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import notices
from dialogs.i18n import speaking
from dialogs.messages import OutgoingMessage
from services import privacy
from services.contacts import ContactError, _validated, deactivate_contact
from services.invites import IssuedCode, issue_code
from services.languages import contact_language
from services.lifecycle import record_event
from services.rounds import latest_chat
from storage import outbox
from storage.db import affected_rows
from storage.orm import Chat, Contact, Organisation, Response, Round

DELEGATE_ROLE = "delegat"
PAYLOAD_PREFIX = notices.ORG_PREFIX
OrgAction = Literal["take", "change", "approve", "return"]
# Responses that may still move to another contact: not yet sent in.
MOVABLE = ("in_progress", "awaiting_approval")


class OrganisationError(ValueError):
    """A request about an organisation's contacts that cannot be carried out as given."""


def payload(action: OrgAction, response_id: int) -> str:
    """A button for taking over, changing (a colleague's submitted one), approving or
    sending back a response."""
    return f"{PAYLOAD_PREFIX}{action}:{response_id}"


def parse_payload(text: str) -> tuple[OrgAction, int] | None:
    """The action and response id of one of our buttons, or None."""
    if not text.startswith(PAYLOAD_PREFIX):
        return None
    action, _, rest = text[len(PAYLOAD_PREFIX) :].partition(":")
    if (
        action not in ("take", "change", "approve", "return")
        or not rest.isdigit()
        or len(rest) > 11
    ):
        return None
    return action, int(rest)  # type: ignore[return-value]  # checked just above


async def tell(
    session: AsyncSession,
    contact_id: int,
    messages: list[OutgoingMessage],
    dedupe_key: str,
    now: datetime,
) -> int:
    """Queue word to a contact's preferred (or last used) chat: how many messages were
    newly queued (0 when they have no chat, or when ``dedupe_key`` was used before)."""
    chat = await latest_chat(session, contact_id)
    if chat is None:
        return 0
    return await outbox.enqueue(
        session,
        outbox.Recipient(chat.channel, chat.address, contact_id),
        messages,
        kind="notice",
        priority=outbox.PRIORITY_DIALOG,
        dedupe_key=dedupe_key,
        now=now,
    )


# --- delegates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedDelegate:
    """A delegate's contact and their code: the only time the plain code exists."""

    delegate_id: int
    name: str
    for_contact_id: int
    code: str
    expires_at: datetime


async def issue_delegate_code(
    session: AsyncSession, issuer_id: int, name: str, now: datetime, ttl: timedelta
) -> IssuedDelegate:
    """A single-use code that registers ``name`` as a delegate of ``issuer_id``: a contact
    of the same organisation who answers on their behalf. Same rules as invitation codes
    (format, expiry, lockout; only the hash kept). ``LookupError``: no such active
    contact; ``OrganisationError``: the issuer is a delegate themselves, or a bad name."""
    issuer = await session.get(Contact, issuer_id)
    if issuer is None or not issuer.active:
        raise LookupError(f"no active contact with id {issuer_id}")
    if issuer.delegate_for_contact_id is not None:
        raise OrganisationError(f"contact {issuer_id} is a delegate and cannot delegate further")
    try:
        name, _, _ = _validated(name, DELEGATE_ROLE, None)
    except ContactError as error:
        raise OrganisationError(str(error)) from None
    delegate = Contact(
        organisation_id=issuer.organisation_id,
        name=name,
        role=DELEGATE_ROLE,
        email=None,
        delegate_for_contact_id=issuer.id,
        created_at=now,
    )
    session.add(delegate)
    await session.flush()
    code = await issue_code(session, delegate.id, now, ttl, kind="delegate", issued_by=issuer.id)
    return IssuedDelegate(delegate.id, name, issuer.id, code.code, code.expires_at)


async def issue_link_code(
    session: AsyncSession, contact_id: int, now: datetime, ttl: timedelta
) -> IssuedCode:
    """A single-use code that binds another chat (the other channel) to the same contact."""
    contact = await session.get(Contact, contact_id)
    if contact is None or not contact.active:
        raise LookupError(f"no active contact with id {contact_id}")
    return await issue_code(session, contact_id, now, ttl, kind="link", issued_by=contact_id)


async def in_progress_response(
    session: AsyncSession, contact_id: int, now: datetime
) -> Response | None:
    """The contact's unfinished response in a round that is open now, if any."""
    return await session.scalar(
        select(Response)
        .join(Round, Round.id == Response.round_id)
        .where(
            Response.contact_id == contact_id,
            Response.status == "in_progress",
            Round.status == "open",
            Round.closes_at > now,
        )
        .order_by(Round.closes_at, Response.id)
        .limit(1)
    )


# --- taking over --------------------------------------------------------------------------


async def move_response(
    session: AsyncSession, response: Response, to: Contact, now: datetime, actor: str, why: str
) -> int | None:
    """Give a started response to another contact of the organisation, answers and all.

    Chats that had it on screen for someone else stop treating it as active; the round's
    history records who had it and who has it now. Returns the previous contact's id."""
    previous = response.contact_id
    if previous == to.id:
        return previous
    response.contact_id = to.id
    response.updated_at = now
    await session.execute(
        update(Chat)
        .where(Chat.active_response_id == response.id, Chat.contact_id != to.id)
        .values(active_response_id=None)
        .execution_options(synchronize_session=False)
    )
    round_ = await session.get(Round, response.round_id)
    assert round_ is not None  # a foreign key
    await record_event(
        session, round_, now, actor, "response.moved",
        response=response.id, organisation=response.organisation_id, why=why,
        from_contact=previous, to_contact=to.id,
    )  # fmt: skip
    return previous


# --- approval -----------------------------------------------------------------------------


def approver_of(contact: Contact) -> int | None:
    """Whose approval a contact's submission needs: the one they are a delegate for."""
    return contact.delegate_for_contact_id


async def hold_for_approval(session: AsyncSession, response: Response, now: datetime) -> None:
    """A delegate sent it in and the round requires approval: not submitted yet."""
    response.status = "awaiting_approval"
    response.awaiting_approval_at = now
    response.submitted_at = None


async def approve(
    session: AsyncSession, response: Response, approver: Contact, now: datetime
) -> None:
    """The approver sends it in: from now on it counts as the organisation's answer; its
    author stays the delegate who wrote it."""
    response.status = "submitted"
    response.submitted_at = now
    response.approved_at = now
    response.approved_by_contact_id = approver.id
    round_ = await session.get(Round, response.round_id)
    assert round_ is not None
    await record_event(
        session, round_, now, f"contact:{approver.id}", "response.approved",
        response=response.id, organisation=response.organisation_id,
        author=response.contact_id,
    )  # fmt: skip


async def send_back(
    session: AsyncSession, response: Response, approver: Contact, now: datetime
) -> None:
    """Back to the delegate, at the overview of their answers, to change and send again."""
    state = dict(response.state)
    state.update(phase="reviewing", current=None, paused_from=None, editing=False, selection=[])
    response.state = state
    response.status = "in_progress"
    response.awaiting_approval_at = None
    response.updated_at = now
    round_ = await session.get(Round, response.round_id)
    assert round_ is not None
    await record_event(
        session, round_, now, f"contact:{approver.id}", "response.sent_back",
        response=response.id, organisation=response.organisation_id,
    )  # fmt: skip


async def set_require_approval(
    session: AsyncSession, round_id: int, required: bool, now: datetime, actor: str
) -> bool:
    """Whether delegates' submissions in a round wait for approval. Returns the old value.
    ``LookupError`` for no such round."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"no round with id {round_id}")
    before = round_.require_approval
    if before != required:
        round_.require_approval = required
        await record_event(session, round_, now, actor, "round.require_approval", required=required)
    return before


# --- handover -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPerson:
    """Someone not yet a contact, to replace an old one."""

    name: str
    role: str | None = None  # None: the old contact's role
    email: str | None = None


@dataclass(frozen=True)
class Replacement:
    """What a handover did; ``code`` is the new person's invitation code (shown once),
    None when they already had a chat."""

    old_id: int
    new_id: int
    new_name: str
    org_code: str
    org_name: str
    responses_moved: list[int]
    delegates_moved: int
    chats_unbound: int
    code: str | None
    expires_at: datetime | None


async def replace_contact(
    session: AsyncSession,
    old_id: int,
    by: int | NewPerson,
    now: datetime,
    ttl: timedelta,
    actor: str,
) -> Replacement:
    """The contact changes (a new rådmann): ``by`` (an existing contact of the same
    organisation, or a new person) takes over any started response of an open round and
    the old contact's delegates; the old contact is deactivated, their chats unbound and
    told politely. Submitted responses keep their author. The new person gets an
    invitation code unless they already have a chat.

    ``LookupError``: no such contact; ``OrganisationError``/``ContactError``: anything else
    that does not fit (other organisation, the same person, a deactivated one, bad name).
    """
    old = await session.get(Contact, old_id)
    if old is None or old.erased_at is not None:
        raise LookupError(f"no contact with id {old_id}")
    if not old.active:
        raise OrganisationError(f"contact {old_id} is already deactivated")
    organisation = await session.get(Organisation, old.organisation_id)
    assert organisation is not None
    if isinstance(by, int):
        new = await session.get(Contact, by)
        if new is None or new.erased_at is not None:
            raise LookupError(f"no contact with id {by}")
        if new.id == old.id:
            raise OrganisationError("a contact cannot replace themselves")
        if new.organisation_id != old.organisation_id:
            raise OrganisationError(
                f"contact {by} belongs to another organisation than contact {old_id}"
            )
        if not new.active:
            raise OrganisationError(f"contact {by} is deactivated; activate them first")
    else:
        name, role, email = _validated(by.name, by.role or old.role, by.email)
        new = Contact(
            organisation_id=old.organisation_id, name=name, role=role, email=email, created_at=now
        )
        session.add(new)
        await session.flush()
    new.delegate_for_contact_id = None  # a delegate who becomes the contact is one no more

    moved: list[int] = []
    responses = await session.scalars(
        select(Response)
        .join(Round, Round.id == Response.round_id)
        .where(
            Response.contact_id == old.id,
            Response.status.in_(MOVABLE),
            Round.status == "open",
        )
    )
    for response in list(responses):
        await move_response(session, response, new, now, actor, "handover")
        moved.append(response.id)
    delegates = await session.execute(
        update(Contact)
        .where(Contact.delegate_for_contact_id == old.id, Contact.id != new.id)
        .values(delegate_for_contact_id=new.id)
        .execution_options(synchronize_session=False)
    )
    old_chats = [
        (chat.channel, chat.address)
        for chat in await session.scalars(select(Chat).where(Chat.contact_id == old.id))
    ]
    with speaking(await contact_language(session, old.id)):  # the old contact reads it
        farewell = notices.replaced_farewell(old.name, new.name, organisation.name)
    deactivation = await deactivate_contact(session, old.id, now)
    await privacy.record(
        session, now, actor, "deactivate", old.id, replaced_by=new.id,
        chats_unbound=deactivation.chats_unbound, codes_revoked=deactivation.codes_revoked,
        messages_withdrawn=deactivation.messages_withdrawn,
    )  # fmt: skip
    for channel, address in old_chats:
        # The chat is no one's now, so the message is addressed to the chat alone.
        await outbox.enqueue(
            session,
            outbox.Recipient(channel, address, None),
            [farewell],
            kind="notice",
            priority=outbox.PRIORITY_DIALOG,
            dedupe_key=f"replaced:{old.id}:{channel}:{address}",
            now=now,
        )
    has_chat = await session.scalar(select(Chat.id).where(Chat.contact_id == new.id).limit(1))
    code = None if has_chat else await issue_code(session, new.id, now, ttl)
    if has_chat:
        offers = []
        for response_id in moved:
            moved_response = await session.get(Response, response_id)
            round_ = await session.get(Round, moved_response.round_id) if moved_response else None
            if round_ is not None:
                offers.append(notices.RoundOffer(round_.id, round_.title, ""))
        with speaking(await contact_language(session, new.id)):
            handed = notices.handed_over(old.name, organisation.name, offers)
        await tell(session, new.id, [handed], f"handed-over:{old.id}:{new.id}", now)
    delegates_moved = affected_rows(delegates)
    return Replacement(
        old_id=old.id,
        new_id=new.id,
        new_name=new.name,
        org_code=organisation.code,
        org_name=organisation.name,
        responses_moved=moved,
        delegates_moved=delegates_moved,
        chats_unbound=deactivation.chats_unbound,
        code=code.code if code else None,
        expires_at=code.expires_at if code else None,
    )

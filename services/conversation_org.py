"""The conversation's part in the organisation as respondent (ADR 20): /deleger,
/kobling, the delegate's and the linked chat's welcome, taking over a colleague's
response, and a delegate's submission that waits for approval.

Kept beside ``services.conversation`` so the survey conversation itself changes only in
a few dispatch lines; every function takes that module's ``_Turn``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from dialogs import notices
from dialogs.dates import format_datetime
from dialogs.engine import StepContext, StepResult
from dialogs.events import Begin, Reopen
from dialogs.i18n import language, speaking
from dialogs.messages import OutgoingMessage
from dialogs.render import answer_text, needs_answer, short_label
from dialogs.state import ResponseState
from services import audit, organisation
from services.invites import Redemption
from services.languages import contact_language
from services.responses import save_state
from storage.orm import Contact, Organisation, Response, Round

if TYPE_CHECKING:
    from services.conversation import _Turn

log = logging.getLogger(__name__)


def _actor(contact: Contact) -> audit.Actor:
    return audit.Actor(f"contact:{contact.id}", "chat")


async def delegate_command(turn: _Turn, contact: Contact, argument: str) -> None:
    """/deleger NAVN: a single-use code that registers a colleague as this contact's delegate."""
    if contact.delegate_for_contact_id is not None:
        principal = await turn.session.get(Contact, contact.delegate_for_contact_id)
        turn.reply(notices.delegate_refused(principal.name if principal else notices.the_contact()))
        return
    if not argument.strip():
        turn.reply(notices.delegate_needs_name())
        return
    try:
        issued = await organisation.issue_delegate_code(
            turn.session, contact.id, argument, turn.now, turn.owner.code_ttl
        )
    except organisation.OrganisationError:
        turn.reply(notices.delegate_needs_name())
        return
    audit.record(
        turn.session, _actor(contact), "contact.delegate", f"contact:{issued.delegate_id}",
        turn.now, org=contact.organisation_id, delegate_for=contact.id,
    )  # fmt: skip
    turn.reply(
        notices.delegate_code(
            issued.name, issued.code, format_datetime(issued.expires_at, turn.owner.zone)
        )
    )


async def link_command(turn: _Turn, contact: Contact) -> None:
    """/kobling: a code that binds a chat on the other channel to this same contact."""
    issued = await organisation.issue_link_code(
        turn.session, contact.id, turn.now, turn.owner.code_ttl
    )
    audit.record(
        turn.session, _actor(contact), "contact.link_code", f"contact:{contact.id}", turn.now,
        chat=turn.chat.id,
    )  # fmt: skip
    turn.reply(notices.link_code(issued.code, format_datetime(issued.expires_at, turn.owner.zone)))


async def redeemed(turn: _Turn, result: Redemption, org: Organisation) -> bool:
    """The welcome for a delegate's or a link code; False for an ordinary invitation."""
    contact = result.contact
    assert contact is not None
    if result.kind == "link":
        response = await organisation.in_progress_response(turn.session, contact.id, turn.now)
        resume = None
        if response is not None:
            turn.chat.active_response_id = response.id
            round_ = await turn.session.get(Round, response.round_id)
            assert round_ is not None
            resume = notices.RoundOffer(round_.id, round_.title, turn.owner.closes_text(round_))
        log.info("chat %s linked to contact %s", turn.chat.id, contact.id)
        turn.reply(notices.linked(contact.name, org.name, resume))
        return True
    if result.kind == "delegate" and contact.delegate_for_contact_id is not None:
        principal = await turn.session.get(Contact, contact.delegate_for_contact_id)
        turn.reply(
            *notices.delegate_welcome(
                contact_name=contact.name,
                for_name=principal.name if principal else org.name,
                org_name=org.name,
                channel=turn.chat.channel,
                offers=await turn.offers(contact, org),
            )
        )
        return True
    return False


async def may_carry_on(turn: _Turn, response: Response, contact: Contact, holder: Contact) -> bool:
    """A delegate meeting the response of the one they answer for carries on with it
    (that colleague is told as the delegate starts); anyone else is offered a takeover."""
    if contact.delegate_for_contact_id != holder.id:
        return False
    await organisation.move_response(
        turn.session, response, contact, turn.now, f"contact:{contact.id}", "delegate"
    )
    round_ = await turn.session.get(Round, response.round_id)
    assert round_ is not None
    org = await turn.organisation(contact)
    # The first time, this is the word that the delegate has begun (before_engine's key);
    # after the colleague took it back in between, word that the delegate took it over.
    # Either is written in the colleague's language, not this chat's.
    with speaking(await contact_language(turn.session, holder.id)):
        if not await organisation.tell(
            turn.session, holder.id,
            [notices.delegate_carries_on(contact.name, org.name, round_.title)],
            f"delegate-started:{response.id}:{contact.id}", turn.now,
        ):  # fmt: skip
            await organisation.tell(
                turn.session, holder.id, [notices.taken_over(contact.name, org.name, round_.title)],
                f"taken-over:{response.id}:{turn.event_id}", turn.now,
            )  # fmt: skip
    return True


async def before_engine(
    turn: _Turn, response: Response, contact: Contact, org: Organisation, round_: Round
) -> None:
    """A delegate starting or resuming: whose answer it is, and (once) word to the one
    they answer for that they have begun."""
    if contact.delegate_for_contact_id is None:
        return
    turn.reply(OutgoingMessage(text=notices.on_behalf(org.name)))
    principal_id = contact.delegate_for_contact_id
    with speaking(await contact_language(turn.session, principal_id)):
        started = notices.delegate_started(contact.name, org.name, round_.title)
    await organisation.tell(
        turn.session,
        principal_id,
        [started],
        f"delegate-started:{response.id}:{contact.id}",
        turn.now,
    )


async def submitted(
    turn: _Turn,
    response: Response,
    round_: Round,
    contact: Contact,
    org: Organisation,
    result: StepResult,
) -> bool:
    """After the engine submitted a delegate's response: held for approval when the round
    requires it (True: replied and saved here), else the colleague is told (False)."""
    principal_id = organisation.approver_of(contact)
    if principal_id is None:
        return False
    principal = await turn.session.get(Contact, principal_id)
    if principal is None or not principal.active:
        return False
    # A change to an answer already approved and in force is not held again (it would stop
    # counting meanwhile); the one who approved it is told, as without approval.
    principal_language = await contact_language(turn.session, principal.id)
    if not round_.require_approval or response.status == "submitted":
        with speaking(principal_language):
            told = notices.delegate_submitted(contact.name, org.name, round_.title)
        await organisation.tell(
            turn.session, principal.id, [told],
            f"delegate-submitted:{response.id}:{turn.event_id}", turn.now,
        )  # fmt: skip
        return False
    await save_state(turn.session, response, result.state, turn.now, submitted=False)
    await organisation.hold_for_approval(turn.session, response, turn.now)
    # The review still loses its buttons (the engine's edit); the receipt waits for approval.
    turn.reply(*(m for m in result.messages if m.edit_only))
    turn.reply(notices.awaiting_approval(principal.name, round_.title))
    with speaking(principal_language):  # the approver reads it, in their language
        request = await approval_request(turn, response, round_, contact, org)
    await organisation.tell(
        turn.session, principal.id, [request], f"approval:{response.id}:{turn.event_id}", turn.now
    )
    return True


async def approval_request(
    turn: _Turn, response: Response, round_: Round, author: Contact, org: Organisation
) -> OutgoingMessage:
    """The delegate's answers as the approver reads them (in the language spoken now),
    with the two buttons."""
    survey = await turn.owner.catalog.get(turn.session, round_.survey_version_id, language())
    state = ResponseState.model_validate(response.state)
    context = StepContext(
        org_name=org.name, contact_name=author.name, closes=turn.owner.closes_text(round_),
        language=language(),
    )  # fmt: skip
    lines = []
    for number, question in enumerate(survey.asked_questions(state.answers), start=1):
        shown = (
            "–"
            if needs_answer(question, state.answers)
            else answer_text(question, state.answers[question.id])
        )
        lines.append(f"{number}. {short_label(question, context)}: {shown}")
    return notices.approval_request(author.name, org.name, round_.title, lines, response.id)


async def awaiting(turn: _Turn, response: Response, contact: Contact, round_: Round) -> None:
    """/svar while the response waits for approval: the approver gets the summary and the
    buttons again; anyone else hears whose approval it waits for."""
    author = await turn.session.get(Contact, response.contact_id) if response.contact_id else None
    approver_id = organisation.approver_of(author) if author is not None else None
    approver = await turn.session.get(Contact, approver_id) if approver_id else None
    if author is not None and approver is not None and approver.id == contact.id:
        org = await turn.organisation(contact)
        turn.reply(await approval_request(turn, response, round_, author, org))
        return
    turn.reply(
        notices.awaiting_approval(
            approver.name if approver else notices.the_contact(), round_.title
        )
    )


async def press(turn: _Turn, contact: Contact, payload: str) -> None:
    """A takeover, approve or send-back button."""
    parsed = organisation.parse_payload(payload)
    response = await turn.session.get(Response, parsed[1]) if parsed else None
    if parsed is None or response is None or response.organisation_id != contact.organisation_id:
        turn.reply(notices.take_over_gone())
        return
    round_ = await turn.session.get(Round, response.round_id)
    assert round_ is not None
    org = await turn.organisation(contact)
    action = parsed[0]
    if action == "take":
        await take_over(turn, response, contact, org, round_)
    elif action == "change":
        await change(turn, response, contact, org, round_)
    else:
        await decide(turn, response, contact, round_, approve=action == "approve")


def _answerable(round_: Round, now: datetime) -> bool:
    """The round is open and its deadline has not passed."""
    return round_.status == "open" and now < round_.closes_at


async def take_over(
    turn: _Turn, response: Response, contact: Contact, org: Organisation, round_: Round
) -> None:
    """Move a colleague's started response to this contact; they are told, politely."""
    if not _answerable(round_, turn.now) or response.status != "in_progress":
        turn.reply(notices.take_over_gone())
        return
    if response.contact_id != contact.id:

        def told() -> OutgoingMessage:
            return notices.taken_over(contact.name, org.name, round_.title)

        previous = await _move_and_tell(turn, response, contact, round_, "takeover", told)
        turn.reply(notices.took_over(previous.name if previous else None))
    turn.chat.active_response_id = response.id
    await before_engine(turn, response, contact, org, round_)
    await turn.run_engine(response, round_, contact, org, Begin())


async def change(
    turn: _Turn, response: Response, contact: Contact, org: Organisation, round_: Round
) -> None:
    """«Endre» on a colleague's submitted answer: it moves to this contact (the version
    sent in stays in force until they send it in again), the one who sent it in is told,
    and it reopens."""
    editable = _answerable(round_, turn.now) and round_.allow_edit_after_submit
    if not (editable and response.status == "submitted"):
        turn.reply(notices.change_gone())
        return

    def told() -> OutgoingMessage:
        return notices.changing_submitted(contact.name, org.name, round_.title)

    await _move_and_tell(turn, response, contact, round_, "change", told)
    turn.chat.active_response_id = response.id
    await before_engine(turn, response, contact, org, round_)
    await turn.run_engine(response, round_, contact, org, Reopen())


_TOLD_KEY = {"takeover": "taken-over", "change": "changing"}  # outbox dedupe key prefixes


async def _move_and_tell(
    turn: _Turn,
    response: Response,
    contact: Contact,
    round_: Round,
    why: Literal["takeover", "change"],
    told: Callable[[], OutgoingMessage],
) -> Contact | None:
    """Move the response to ``contact`` (round event and audit entry) and tell the one who
    had it, in their language (``told`` builds the message); returns them (None: nobody,
    or no longer known)."""
    previous_id = await organisation.move_response(
        turn.session, response, contact, turn.now, f"contact:{contact.id}", why
    )
    audit.record(
        turn.session, _actor(contact), "response.take_over", f"response:{response.id}",
        turn.now, from_contact=previous_id, round=round_.id,
        **({"submitted": True} if why == "change" else {}),
    )  # fmt: skip
    previous = await turn.session.get(Contact, previous_id) if previous_id else None
    if previous is not None and previous.id != contact.id:
        with speaking(await contact_language(turn.session, previous.id)):
            message = told()
        await organisation.tell(
            turn.session,
            previous.id,
            [message],
            f"{_TOLD_KEY[why]}:{response.id}:{turn.event_id}",
            turn.now,
        )
    return previous


async def decide(
    turn: _Turn, response: Response, contact: Contact, round_: Round, *, approve: bool
) -> None:
    """The approver sends the delegate's answer in, or back to them."""
    author = await turn.session.get(Contact, response.contact_id) if response.contact_id else None
    if (
        response.status != "awaiting_approval"
        or author is None
        or organisation.approver_of(author) != contact.id
    ):
        turn.reply(notices.not_yours_to_approve())
        return
    if not _answerable(round_, turn.now):
        turn.reply(notices.not_yours_to_approve())
        return
    author_language = await contact_language(turn.session, author.id)
    if approve:
        await organisation.approve(turn.session, response, contact, turn.now)
        turn.reply(notices.approval_done(round_.title))
        with speaking(author_language):  # the delegate reads it, in their language
            told = notices.approved(contact.name, round_.title)
    else:
        await organisation.send_back(turn.session, response, contact, turn.now)
        turn.reply(notices.sent_back_done(author.name))
        with speaking(author_language):
            told = notices.sent_back(contact.name, round_.title, round_.id)
    audit.record(
        turn.session, _actor(contact),
        "response.approve" if approve else "response.send_back", f"response:{response.id}",
        turn.now, author=author.id, round=round_.id,
    )  # fmt: skip
    await organisation.tell(
        turn.session, author.id, [told], f"approval-decided:{response.id}:{turn.event_id}", turn.now
    )

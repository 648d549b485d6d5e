"""Texts around the survey itself: invitations, registration, help and status.

Pure functions returning channel-neutral messages in the language being spoken
(``dialogs.i18n``): the texts are the ``notices`` catalogue's. A message to someone
other than the chat of the current turn (the colleague who delegated, the approver, the
one whose answer was taken over) is built by the caller inside
``speaking(<that person's language>)``. The survey conversation's own texts live in
``dialogs/texts.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dialogs import language_texts
from dialogs.i18n import t, tn
from dialogs.messages import Button, OutgoingMessage
from dialogs.privacy import help_line, welcome_line

START_PREFIX = "r:"  # payload of "start this round" buttons


def channel_note(channel: str) -> str:
    """What the welcome says about the channel (Telegram's privacy caveat); "" if none."""
    if channel == "telegram":
        return t("notices.channel.telegram")
    if channel == "teams":
        return t("notices.channel.teams")
    if channel == "console":
        return t("notices.channel.console")
    return ""


@dataclass(frozen=True)
class RoundOffer:
    """An open round offered to a member."""

    round_id: int
    title: str
    closes: str


@dataclass(frozen=True)
class SubmittedRound:
    """An open round the member's organisation has already answered.

    ``submitted_by`` is the colleague who sent it in; None when it was the member
    reading this, or when it is no longer known.
    """

    title: str
    submitted_at: str
    closes: str
    submitted_by: str | None = None
    by_reader: bool = False
    round_id: int | None = None
    editable: bool | None = None  # None: not said; False: the round does not allow changes
    change_payload: str | None = None  # the «Endre» button's; None: start the round again


def start_payload(round_id: int) -> str:
    """Payload of the button that starts (or resumes) a round."""
    return f"{START_PREFIX}{round_id}"


def parse_start_payload(payload: str) -> int | None:
    """The round id of a start button, or None if the payload is not one."""
    if not payload.startswith(START_PREFIX):
        return None
    rest = payload[len(START_PREFIX) :]
    return int(rest) if rest.isdigit() and len(rest) < 12 else None


def _offer_buttons(offers: Sequence[RoundOffer]) -> tuple[tuple[Button, ...], ...]:
    return tuple(
        (Button(label=f"▶️ {offer.title}"[:60], payload=start_payload(offer.round_id)),)
        for offer in offers
    )


def ask_for_code() -> OutgoingMessage:
    """Bare /start in a chat that is not registered yet."""
    return OutgoingMessage(text=t("notices.registration.ask_for_code"))


def _first_welcome(greeting: str, channel: str) -> OutgoingMessage:
    """A welcome's first message: the greeting, the channel's note, the privacy line."""
    note = channel_note(channel)
    return OutgoingMessage(
        text=f"{greeting}\n\n" + (f"{note}\n\n" if note else "") + welcome_line()
    )


def welcome(
    *, contact_name: str, org_name: str, channel: str, offers: Sequence[RoundOffer]
) -> list[OutgoingMessage]:
    """After a successful code, or /start in a registered chat."""
    greeting = t("notices.welcome.registered", contact_name=contact_name, org_name=org_name)
    return [_first_welcome(greeting, channel), offer_rounds(offers)]


def offer_rounds(offers: Sequence[RoundOffer]) -> OutgoingMessage:
    """The open rounds, each with a start button, or word that there are none."""
    if not offers:
        return OutgoingMessage(text=t("notices.offers.none"))
    if len(offers) == 1:
        offer = offers[0]
        return OutgoingMessage(
            text=t("notices.offers.single", title=offer.title, closes=offer.closes),
            buttons=_offer_buttons(offers),
        )
    lines = "\n".join(
        t("notices.offers.line", title=offer.title, closes=offer.closes) for offer in offers
    )
    return OutgoingMessage(
        text=t("notices.offers.several", lines=lines), buttons=_offer_buttons(offers)
    )


def already_submitted(org_name: str, rounds: Sequence[SubmittedRound]) -> OutgoingMessage:
    """/svar (or a start button) when the open rounds are already answered.

    Self-contained, since members often read only the last message: what was sent in,
    when and by whom, how long the round is open, and where to see the answers.
    """
    parts = []
    for done in rounds:
        if done.by_reader:
            who = t("notices.submitted.by_reader", submitted_at=done.submitted_at)
        elif done.submitted_by:
            who = t(
                "notices.submitted.by_colleague",
                name=done.submitted_by, submitted_at=done.submitted_at,
            )  # fmt: skip
        else:
            who = t("notices.submitted.by_unknown", submitted_at=done.submitted_at)
        change = ""
        if done.editable:
            change = "\n" + t("notices.submitted.can_change")
            if not done.by_reader and done.submitted_by:
                change += " " + t("notices.submitted.colleague_told", name=done.submitted_by)
        elif done.editable is False:
            change = "\n" + t("notices.submitted.cannot_change")
        parts.append(
            t(
                "notices.submitted.summary",
                org_name=org_name, title=done.title, who=who, closes=done.closes,
            )
            + change
        )  # fmt: skip
    parts.append(t("notices.submitted.see_status"))
    buttons = tuple(
        (
            Button(
                label=t("notices.submitted.change_button", title=done.title)[:60],
                payload=done.change_payload or start_payload(done.round_id),
            ),
        )
        for done in rounds
        if done.editable and done.round_id is not None
    )
    return OutgoingMessage(text="\n\n".join(parts), buttons=buttons)


def code_unknown(
    attempts_left: int, *, flood: bool = False, wait_minutes: int | None = None
) -> OutgoingMessage:
    """A code that does not exist (or was withdrawn). During a flood the member learns
    why they have so few tries left, or how long to wait."""
    text = t("notices.code.unknown")
    if flood:
        if attempts_left > 0:
            rest = tn("notices.code.tries_left_flood", attempts_left)
        else:
            rest = tn("notices.code.wait", wait_minutes or 15)
        return OutgoingMessage(text=f"{text} {t('notices.code.flood_note')} {rest}")
    if 0 < attempts_left < 3:
        text += " " + tn("notices.code.tries_left", attempts_left)
    return OutgoingMessage(text=text)


def code_expired() -> OutgoingMessage:
    """An expired code."""
    return OutgoingMessage(text=t("notices.code.expired"))


def code_used() -> OutgoingMessage:
    """A code already redeemed in another chat."""
    return OutgoingMessage(text=t("notices.code.used"))


def code_locked(minutes: int, *, flood: bool = False) -> OutgoingMessage:
    """Too many wrong codes from this chat (fewer count during a flood)."""
    text = f"{t('notices.code.too_many')} {tn('notices.code.wait', minutes)}"
    if flood:
        text += f" {t('notices.code.flood_note')} {t('notices.code.ask_ks')}"
    return OutgoingMessage(text=text)


def already_registered(contact_name: str, org_name: str) -> OutgoingMessage:
    """A code that this very chat already used."""
    return OutgoingMessage(
        text=t("notices.registration.already", contact_name=contact_name, org_name=org_name)
    )


def not_registered() -> OutgoingMessage:
    """Anything but a code from a chat that is not registered."""
    return OutgoingMessage(text=t("notices.registration.not_registered"))


def help_text(registered: bool, staff: bool = False) -> OutgoingMessage:
    """What a member can do; ``staff``: the chat is also bound to a KS staff account."""
    if not registered:
        return not_registered()
    text = t(
        "notices.help.member",
        privacy_line=help_line(),
        language_line=language_texts.help_line(),
    )
    if staff:
        text += "\n\n" + t("notices.help.staff_note")
    return OutgoingMessage(text=text)


def unknown_command(command: str) -> OutgoingMessage:
    """A slash command Lyttepost does not have."""
    return OutgoingMessage(text=t("notices.unknown_command", command=command[:30]))


def not_understood() -> OutgoingMessage:
    """A photo, sticker, file or anything else that is neither text nor a button."""
    return OutgoingMessage(text=t("notices.not_understood"))


def no_active_survey() -> OutgoingMessage:
    """Survey input while no survey is on screen."""
    return OutgoingMessage(text=t("notices.no_active_survey"))


def round_not_available() -> OutgoingMessage:
    """A start button for a round that is closed or not meant for this organisation."""
    return OutgoingMessage(text=t("notices.round_not_available"))


def something_went_wrong() -> OutgoingMessage:
    """An internal error while handling a message; the input is kept for analysis."""
    return OutgoingMessage(text=t("notices.something_went_wrong"))


def status(lines: Sequence[str]) -> OutgoingMessage:
    """The /status overview, assembled by the caller (``services.status``, its texts)."""
    return OutgoingMessage(text="\n".join(lines))


# --- the organisation as respondent (delegates, takeover, handover, linked chats) -------------

ORG_PREFIX = "org:"  # payloads of takeover and approval buttons (services/organisation.py)


def _org_payload(action: str, response_id: int) -> str:
    return f"{ORG_PREFIX}{action}:{response_id}"


def _continue_button(round_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((Button(label=t("notices.button.continue"), payload=start_payload(round_id)),),)


def on_behalf(org_name: str) -> str:
    """The line a delegate sees when starting or resuming: whose answer this is."""
    return t("notices.delegate.on_behalf", org_name=org_name)


def the_contact() -> str:
    """Stands for the contact a delegate answers for when their name is no longer known."""
    return t("notices.delegate.the_contact")


def delegate_welcome(
    *, contact_name: str, for_name: str, org_name: str, channel: str,
    offers: Sequence[RoundOffer],
) -> list[OutgoingMessage]:  # fmt: skip
    """After a delegate's code: who they answer for, then the open rounds."""
    greeting = t(
        "notices.delegate.welcome",
        contact_name=contact_name, for_name=for_name, org_name=org_name,
    )  # fmt: skip
    return [_first_welcome(greeting, channel), offer_rounds(offers)]


def delegate_needs_name() -> OutgoingMessage:
    """/deleger without a name."""
    return OutgoingMessage(text=t("notices.delegate.needs_name"))


def delegate_refused(for_name: str) -> OutgoingMessage:
    """A delegate may not hand the task on."""
    return OutgoingMessage(text=t("notices.delegate.refused", for_name=for_name))


def delegate_code(name: str, code: str, expires: str) -> OutgoingMessage:
    """The delegate's code, shown once to the one who asked for it."""
    return OutgoingMessage(text=t("notices.delegate.code", name=name, code=code, expires=expires))


def delegate_started(delegate_name: str, org_name: str, title: str) -> OutgoingMessage:
    """To the one delegating: the delegate has begun."""
    return OutgoingMessage(
        text=t(
            "notices.delegate.started",
            delegate_name=delegate_name, org_name=org_name, title=title,
        )
    )  # fmt: skip


def delegate_carries_on(delegate_name: str, org_name: str, title: str) -> OutgoingMessage:
    """To the one delegating: the delegate has begun, from where they had come."""
    return OutgoingMessage(
        text=t(
            "notices.delegate.carries_on",
            delegate_name=delegate_name, org_name=org_name, title=title,
        )
    )  # fmt: skip


def delegate_submitted(delegate_name: str, org_name: str, title: str) -> OutgoingMessage:
    """To the one delegating: the delegate sent the answer in."""
    return OutgoingMessage(
        text=t(
            "notices.delegate.submitted",
            delegate_name=delegate_name, org_name=org_name, title=title,
        )
    )  # fmt: skip


def approval_request(
    delegate_name: str, org_name: str, title: str, lines: Sequence[str], response_id: int
) -> OutgoingMessage:
    """To the approver: the delegate's answers, to send in or send back."""
    return OutgoingMessage(
        text=t(
            "notices.approval.request",
            delegate_name=delegate_name, org_name=org_name, title=title,
            summary="\n".join(lines),
        ),
        buttons=(
            (
                Button(
                    label=t("notices.approval.approve_button"),
                    payload=_org_payload("approve", response_id),
                ),
            ),
            (
                Button(
                    label=t("notices.approval.return_button"),
                    payload=_org_payload("return", response_id),
                ),
            ),
        ),
    )  # fmt: skip


def awaiting_approval(approver_name: str, title: str) -> OutgoingMessage:
    """To the delegate after sending in, and on /svar while it waits."""
    return OutgoingMessage(
        text=t("notices.approval.awaiting", approver_name=approver_name, title=title)
    )


def approved(approver_name: str, title: str) -> OutgoingMessage:
    """To the delegate: the answer is in."""
    return OutgoingMessage(
        text=t("notices.approval.approved", approver_name=approver_name, title=title)
    )


def approval_done(title: str) -> OutgoingMessage:
    """To the approver after approving."""
    return OutgoingMessage(text=t("notices.approval.done", title=title))


def sent_back(approver_name: str, title: str, round_id: int) -> OutgoingMessage:
    """To the delegate: the approver wants changes."""
    return OutgoingMessage(
        text=t("notices.approval.sent_back", approver_name=approver_name, title=title),
        buttons=_continue_button(round_id),
    )


def sent_back_done(delegate_name: str) -> OutgoingMessage:
    """To the approver after sending back."""
    return OutgoingMessage(text=t("notices.approval.sent_back_done", delegate_name=delegate_name))


def not_yours_to_approve() -> OutgoingMessage:
    """An approval button pressed by someone else, or too late."""
    return OutgoingMessage(text=t("notices.approval.not_yours"))


def someone_else_answers_take_over(name: str, org_name: str, response_id: int) -> OutgoingMessage:
    """A colleague has started the organisation's one response: carry on from there."""
    return OutgoingMessage(
        text=t("notices.takeover.offer", name=name, org_name=org_name),
        buttons=(
            (
                Button(
                    label=t("notices.takeover.button"), payload=_org_payload("take", response_id)
                ),
            ),
        ),
    )


def taken_over(taker_name: str, org_name: str, title: str) -> OutgoingMessage:
    """To the one whose response a colleague took over."""
    return OutgoingMessage(
        text=t("notices.takeover.taken_over", taker_name=taker_name, org_name=org_name, title=title)
    )


def changing_submitted(taker_name: str, org_name: str, title: str) -> OutgoingMessage:
    """To the one who sent the answer in: a colleague has opened it to change it."""
    return OutgoingMessage(
        text=t(
            "notices.takeover.changing_submitted",
            taker_name=taker_name, org_name=org_name, title=title,
        )
    )  # fmt: skip


def took_over(previous_name: str | None) -> OutgoingMessage:
    """To the one taking over, before the survey resumes."""
    if previous_name:
        return OutgoingMessage(text=t("notices.takeover.took_over_after", name=previous_name))
    return OutgoingMessage(text=t("notices.takeover.took_over"))


def take_over_gone() -> OutgoingMessage:
    """A takeover button for a response that is no longer there to take."""
    return OutgoingMessage(text=t("notices.takeover.gone"))


def change_gone() -> OutgoingMessage:
    """«Endre» on a submitted answer that can no longer be changed."""
    return OutgoingMessage(text=t("notices.takeover.change_gone"))


def link_code(code: str, expires: str) -> OutgoingMessage:
    """/kobling: the code for the chat in the other channel."""
    return OutgoingMessage(text=t("notices.link.code", code=code, expires=expires))


def linked(contact_name: str, org_name: str, resume: RoundOffer | None) -> OutgoingMessage:
    """After a link code: the same person, and where to carry on."""
    text = t("notices.link.linked", contact_name=contact_name, org_name=org_name)
    if resume is None:
        return OutgoingMessage(text=f"{text} {t('notices.link.answer_later')}")
    return OutgoingMessage(
        text=f"{text} {t('notices.link.resume', title=resume.title)}",
        buttons=_continue_button(resume.round_id),
    )


def handed_over(old_name: str, org_name: str, offers: Sequence[RoundOffer]) -> OutgoingMessage:
    """To a colleague who takes a replaced contact's place, and their started answers."""
    text = t("notices.handover.handed_over", old_name=old_name, org_name=org_name)
    if not offers:
        return OutgoingMessage(text=text)
    titles = ", ".join(f"«{offer.title}»" for offer in offers)
    return OutgoingMessage(
        text=f"{text} {t('notices.handover.started_answers', old_name=old_name, titles=titles)}",
        buttons=_offer_buttons(offers),
    )


def replaced_farewell(name: str, new_name: str, org_name: str) -> OutgoingMessage:
    """To a contact who has been replaced; their chat is unbound."""
    return OutgoingMessage(
        text=t("notices.handover.farewell", name=name, new_name=new_name, org_name=org_name)
    )

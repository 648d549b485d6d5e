"""What members are told by the annual cycle: invitations, reminders, closing,
cancellations, new deadlines.

Pure functions returning channel-neutral messages in the language being spoken
(``dialogs.i18n``): the caller renders each recipient's message inside
``speaking(<their language>)``. The texts are in the ``cycle`` catalogue.
"""

from __future__ import annotations

from dialogs.i18n import t
from dialogs.messages import Button, OutgoingMessage
from dialogs.notices import start_payload


def invitation(
    *, contact_name: str, org_name: str, title: str, closes: str, round_id: int
) -> OutgoingMessage:
    """The message that tells a member a round has opened."""
    text = t(
        "cycle.invitation.text",
        contact=contact_name,
        organisation=org_name,
        title=title,
        closes=closes,
    )
    label = t("cycle.invitation.button")
    return OutgoingMessage(
        text=text, buttons=((Button(label=label, payload=start_payload(round_id)),),)
    )


def reminder(
    *, contact_name: str, org_name: str, title: str, closes: str, round_id: int, started: bool
) -> OutgoingMessage:
    """A reminder to an organisation that has not submitted yet."""
    params = {"contact": contact_name, "organisation": org_name, "title": title, "closes": closes}
    if started:
        text = t("cycle.reminder.started", **params)
        label = t("cycle.reminder.continue_button")
    else:
        text = t("cycle.reminder.not_started", **params)
        label = t("cycle.reminder.answer_button")
    return OutgoingMessage(
        text=text, buttons=((Button(label=label, payload=start_payload(round_id)),),)
    )


def round_closed(
    *, org_name: str, title: str, closes: str, was_due: str | None = None
) -> OutgoingMessage:
    """After the deadline, to a member who had started but not submitted.

    ``was_due``: the deadline members had been given, when KS closed the round earlier.
    """
    if was_due is None:
        opening = t("cycle.closed.at_deadline", title=title, closes=closes, organisation=org_name)
    else:
        opening = t(
            "cycle.closed.early", title=title, closes=closes, was_due=was_due, organisation=org_name
        )
    return OutgoingMessage(text=f"{opening}\n{t('cycle.closed.kept')}")


def round_cancelled(*, org_name: str, title: str) -> OutgoingMessage:
    """An admin cancelled a round the member had been told about."""
    return OutgoingMessage(text=t("cycle.cancelled", title=title, organisation=org_name))


def deadline_changed(*, org_name: str, title: str, closes: str, round_id: int) -> OutgoingMessage:
    """An admin moved the deadline of an open round."""
    return OutgoingMessage(
        text=t("cycle.deadline_changed.text", title=title, closes=closes, organisation=org_name),
        buttons=(
            (Button(label=t("cycle.deadline_changed.button"), payload=start_payload(round_id)),),
        ),
    )

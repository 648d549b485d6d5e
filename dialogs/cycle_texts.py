"""What members are told by the annual cycle: reminders, closing, cancellations, new deadlines.

Pure functions returning channel-neutral messages, in Norwegian bokmål.
"""

from __future__ import annotations

from dialogs.messages import Button, OutgoingMessage
from dialogs.notices import start_payload


def reminder(
    *, contact_name: str, org_name: str, title: str, closes: str, round_id: int, started: bool
) -> OutgoingMessage:
    """A reminder to an organisation that has not submitted yet."""
    if started:
        text = (
            f"Hei, {contact_name}! En påminnelse: svaret fra {org_name} på «{title}» "
            f"er påbegynt, men ikke sendt inn ennå.\n"
            f"Svarfrist: {closes}. Du fortsetter der du slapp."
        )
        label = "▶️ Fortsett"
    else:
        text = (
            f"Hei, {contact_name}! En påminnelse: KS har ikke fått svar fra {org_name} "
            f"på «{title}» ennå, og vil gjerne høre hva dere trenger.\n"
            f"Det tar omtrent fem minutter. Svarfrist: {closes}."
        )
        label = "▶️ Svar nå"
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
        opening = (
            f"«{title}» stengte {closes}. Svaret fra {org_name} ble ikke sendt inn før fristen."
        )
    else:
        opening = (
            f"KS stengte «{title}» {closes}, før den opprinnelige fristen {was_due}. "
            f"Svaret fra {org_name} ble ikke sendt inn før runden stengte."
        )
    return OutgoingMessage(
        text=(
            f"{opening}\n"
            "Det du rakk å svare, er tatt vare på og merket som ufullstendig. "
            "KS deler oppsummeringen av runden med alle medlemmene."
        )
    )


def round_cancelled(*, org_name: str, title: str) -> OutgoingMessage:
    """An admin cancelled a round the member had been told about."""
    return OutgoingMessage(
        text=(
            f"KS har avlyst «{title}». Du trenger ikke å svare for {org_name}, "
            "og svar som er gitt i denne runden, blir ikke brukt. Beklager bryderiet."
        )
    )


def deadline_changed(*, org_name: str, title: str, closes: str, round_id: int) -> OutgoingMessage:
    """An admin moved the deadline of an open round."""
    return OutgoingMessage(
        text=f"Ny svarfrist for «{title}»: {closes}. KS vil gjerne ha svaret fra {org_name}.",
        buttons=((Button(label="▶️ Svar", payload=start_payload(round_id)),),),
    )

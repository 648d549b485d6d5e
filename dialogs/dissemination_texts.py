"""What the plan for spreading an action's results says: the reminder to the responsible
staff member and the notice to the organisations whose needs the action answers.

Pure functions. The staff member's reminder and the step's words are for KS staff and
stay in bokmål; the notice to members is in the language being spoken (the ``actions``
catalogue), rendered per recipient by the caller.
"""

from __future__ import annotations

from datetime import date

from dialogs.dates import MONTHS_NB
from dialogs.i18n import t
from dialogs.messages import OutgoingMessage
from dialogs.texts import nb_number


def day(value: date) -> str:
    """``12. mars 2027``: a due date as staff read it (bokmål)."""
    return f"{value.day}. {MONTHS_NB[value.month - 1]} {value.year}"


def task(channel: str, description: str) -> str:
    """What a step asks of its responsible: the channel, and the description if there is one."""
    text = f"Del resultater og erfaringer fra tiltaket via {channel}."
    return f"{text} {description}" if description else text


def linked_organisations(count: int) -> str:
    """``organisasjonen`` / ``de 3 organisasjonene`` som meldte behovene."""
    if count == 1:
        return "organisasjonen som meldte behovet tiltaket svarer på"
    return f"de {nb_number(count)} organisasjonene som meldte behovene tiltaket svarer på"


def staff_reminder(
    *,
    staff_name: str,
    action_title: str,
    channel: str,
    description: str,
    due_on: date,
    step_id: int,
    organisations: int,
) -> OutgoingMessage:
    """The chat reminder to the staff member responsible for a step that has come due."""
    if organisations:
        then = (
            f"Når det er gjort, sender du en melding om det til "
            f"{linked_organisations(organisations)} "
            f"(lyttepost action-plans plan notify {step_id} --text «…»)."
        )
    else:
        then = "Ingen organisasjoner har behov knyttet til tiltaket ennå, så ingen får melding."
    return OutgoingMessage(
        text=(
            f"Hei, {staff_name}! Du er ansvarlig for et steg i planen for å spre resultatene "
            f"av «{action_title}». Fristen er {day(due_on)}.\n\n"
            f"{task(channel, description)}\n\n{then}\n"
            "Steget står under «Til oppfølging» på forsiden av arbeidsflaten."
        )
    )


def dissemination_notice(*, action_title: str, text: str) -> OutgoingMessage:
    """The notice to an organisation linked to the action: KS's words, and what they concern."""
    return OutgoingMessage(text=t("actions.dissemination.notice", title=action_title, text=text))

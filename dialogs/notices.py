"""Texts around the survey itself: invitations, registration, help and status.

Pure functions returning channel-neutral messages, in Norwegian bokmål. The survey
conversation's own texts live in ``dialogs/texts.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dialogs.messages import Button, OutgoingMessage
from dialogs.privacy import HELP_LINE, WELCOME_LINE
from dialogs.texts import antall

START_PREFIX = "r:"  # payload of "start this round" buttons

CHANNEL_NOTES = {
    "telegram": (
        "Du bruker Lyttepost i Telegram. Meldinger til boter i Telegram er ikke "
        "ende-til-ende-kryptert og lagres utenfor EØS, så skriv ikke personopplysninger "
        "eller taushetsbelagt informasjon her. Lyttepost finnes også i Microsoft Teams."
    ),
    "teams": "Du bruker Lyttepost i Microsoft Teams.",
    "console": "Du bruker Lyttepost i terminalen (lokal demo).",
}


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


def invitation(
    *, contact_name: str, org_name: str, title: str, closes: str, round_id: int
) -> OutgoingMessage:
    """The message that tells a member a round has opened."""
    return OutgoingMessage(
        text=(
            f"Hei, {contact_name}!\n\n"
            f"KS har åpnet «{title}» for {org_name}. Vi vil gjerne høre hva dere trenger.\n"
            f"Det tar omtrent fem minutter, og du kan ta pause når som helst.\n"
            f"Svarfrist: {closes}."
        ),
        buttons=((Button(label="▶️ Start undersøkelsen", payload=start_payload(round_id)),),),
    )


def ask_for_code() -> OutgoingMessage:
    """Bare /start in a chat that is not registered yet."""
    return OutgoingMessage(
        text=(
            "Velkommen til Lyttepost – KS sin lyttepost for kommuner og fylkeskommuner.\n\n"
            "Skriv invitasjonskoden du har fått fra KS (10 tegn)."
        )
    )


def welcome(
    *, contact_name: str, org_name: str, channel: str, offers: Sequence[RoundOffer]
) -> list[OutgoingMessage]:
    """After a successful code, or /start in a registered chat."""
    note = CHANNEL_NOTES.get(channel, "")
    first = OutgoingMessage(
        text=(
            f"Velkommen, {contact_name}! Du er registrert som kontaktperson for {org_name}.\n\n"
            + (f"{note}\n\n" if note else "")
            + WELCOME_LINE
        )
    )
    return [first, offer_rounds(offers)]


def offer_rounds(offers: Sequence[RoundOffer]) -> OutgoingMessage:
    """The open rounds, each with a start button, or word that there are none."""
    if not offers:
        return OutgoingMessage(
            text=(
                "Det er ingen åpne undersøkelser akkurat nå. Du får en melding her når KS "
                "åpner neste runde. Skriv /hjelp for å se hva du kan gjøre."
            )
        )
    if len(offers) == 1:
        offer = offers[0]
        return OutgoingMessage(
            text=f"«{offer.title}» er åpen. Svarfrist: {offer.closes}.",
            buttons=_offer_buttons(offers),
        )
    lines = "\n".join(f"• {offer.title} (frist {offer.closes})" for offer in offers)
    return OutgoingMessage(
        text=f"Disse undersøkelsene er åpne nå:\n{lines}\n\nVelg hvilken du vil svare på.",
        buttons=_offer_buttons(offers),
    )


def already_submitted(org_name: str, rounds: Sequence[SubmittedRound]) -> OutgoingMessage:
    """/svar (or a start button) when the open rounds are already answered.

    Self-contained, since members often read only the last message: what was sent in,
    when and by whom, how long the round is open, and where to see the answers.
    """
    parts = []
    for done in rounds:
        if done.by_reader:
            who = f"Du sendte det inn {done.submitted_at}."
        elif done.submitted_by:
            who = f"{done.submitted_by} sendte det inn {done.submitted_at}."
        else:
            who = f"Det ble sendt inn {done.submitted_at}."
        parts.append(
            f"{org_name} har allerede sendt inn svaret på «{done.title}» – takk! {who}\n"
            f"Runden er åpen til {done.closes}."
        )
    parts.append("Skriv /status for å se svarene dere sendte inn.")
    return OutgoingMessage(text="\n\n".join(parts))


# Said during a flood of wrong codes from many chats: why this chat gets fewer tries.
_FLOOD_NOTE = (
    "Akkurat nå prøver noen å gjette invitasjonskoder, så grensen for feil forsøk er "
    "strengere enn vanlig."
)


def code_unknown(
    attempts_left: int, *, flood: bool = False, wait_minutes: int | None = None
) -> OutgoingMessage:
    """A code that does not exist (or was withdrawn). During a flood the member learns
    why they have so few tries left, or how long to wait."""
    text = "Den koden kjenner jeg ikke igjen. Sjekk at du har skrevet den riktig."
    if flood:
        if attempts_left > 0:
            tries = "ett forsøk" if attempts_left == 1 else f"{attempts_left} forsøk"
            rest = f"Du har {tries} igjen før du må vente litt."
        else:
            rest = f"Vent {antall(wait_minutes or 15, 'minutt', 'minutter')} før du prøver igjen."
        return OutgoingMessage(text=f"{text} {_FLOOD_NOTE} {rest}")
    if 0 < attempts_left < 3:
        text += f" Du har {attempts_left} forsøk igjen før du må vente litt."
    return OutgoingMessage(text=text)


def code_expired() -> OutgoingMessage:
    """An expired code."""
    return OutgoingMessage(
        text="Koden er utløpt. Ta kontakt med KS for å få en ny invitasjonskode."
    )


def code_used() -> OutgoingMessage:
    """A code already redeemed in another chat."""
    return OutgoingMessage(
        text=(
            "Koden er allerede brukt. Hvis det ikke var deg som brukte den, "
            "ta kontakt med KS for å få en ny kode."
        )
    )


def code_locked(minutes: int, *, flood: bool = False) -> OutgoingMessage:
    """Too many wrong codes from this chat (fewer count during a flood)."""
    text = (
        f"For mange feil forsøk. Vent {antall(minutes, 'minutt', 'minutter')} før du prøver igjen."
    )
    if flood:
        text += f" {_FLOOD_NOTE} Virker ikke koden du har fått, ta kontakt med KS."
    return OutgoingMessage(text=text)


def already_registered(contact_name: str, org_name: str) -> OutgoingMessage:
    """A code that this very chat already used."""
    return OutgoingMessage(
        text=f"Du er allerede registrert som {contact_name} for {org_name}. Skriv /svar for å svare."
    )


def not_registered() -> OutgoingMessage:
    """Anything but a code from a chat that is not registered."""
    return OutgoingMessage(
        text=(
            "Du er ikke registrert ennå. Skriv /start og invitasjonskoden du har fått fra KS, "
            "for eksempel: /start ABCD234EFG\n\n"
            "Skriv /personvern for å se hvordan KS behandler opplysningene dine."
        )
    )


def help_text(registered: bool, staff: bool = False) -> OutgoingMessage:
    """What a member can do; ``staff``: the chat is also bound to a KS staff account."""
    if not registered:
        return not_registered()
    return OutgoingMessage(
        text=(
            "Dette kan du gjøre:\n"
            "/svar – start eller fortsett undersøkelsen\n"
            "/status – se hva du har svart og når runden stenger\n"
            "/tilbake – gå til forrige spørsmål\n"
            "/oversikt – se alle svarene dine og endre dem\n"
            "/pause – ta pause (svarene er lagret)\n"
            "/send – send inn når du er ferdig\n"
            "/arshjul – årets runder og om dere har svart\n"
            f"{HELP_LINE}\n"
            "/hjelp – denne hjelpen"
            + (
                "\n\nChatten er også koblet til KS-kontoen din: skriv /adminhjelp for "
                "kommandoene dine."
                if staff
                else ""
            )
        )
    )


def unknown_command(command: str) -> OutgoingMessage:
    """A slash command Lyttepost does not have."""
    shown = command[:30]
    return OutgoingMessage(
        text=f"Jeg kjenner ikke kommandoen /{shown}. Skriv /hjelp for å se hva du kan gjøre."
    )


def no_active_survey() -> OutgoingMessage:
    """Survey input while no survey is on screen."""
    return OutgoingMessage(text="Du er ikke midt i en undersøkelse nå. Skriv /svar for å starte.")


def round_not_available() -> OutgoingMessage:
    """A start button for a round that is closed or not meant for this organisation."""
    return OutgoingMessage(
        text="Den undersøkelsen er ikke åpen for deg lenger. Skriv /status for å se hva som er åpent."
    )


def someone_else_answers(name: str, org_name: str) -> OutgoingMessage:
    """Only one response per organisation and round."""
    return OutgoingMessage(
        text=(
            f"{name} har allerede begynt å svare for {org_name} i denne runden. "
            "Det sendes inn ett svar per organisasjon, så ta kontakt med "
            f"{name} hvis du vil bidra."
        )
    )


def something_went_wrong() -> OutgoingMessage:
    """An internal error while handling a message; the input is kept for analysis."""
    return OutgoingMessage(
        text="Beklager, noe gikk galt hos oss. Svarene dine er lagret. Prøv igjen om litt."
    )


def status(lines: Sequence[str]) -> OutgoingMessage:
    """The /status overview, assembled by the caller."""
    return OutgoingMessage(text="\n".join(lines))

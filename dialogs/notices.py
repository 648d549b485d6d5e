"""Texts around the survey itself: invitations, registration, help and status.

Pure functions returning channel-neutral messages, in Norwegian bokmål. The survey
conversation's own texts live in ``dialogs/texts.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dialogs import language_texts
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
        change = ""
        if done.editable:
            change = "\nDere kan endre svaret til da: trykk knappen under."
            if not done.by_reader and done.submitted_by:
                change += f" {done.submitted_by} får beskjed."
        elif done.editable is False:
            change = "\nI denne runden kan svaret ikke endres etter at det er sendt inn."
        parts.append(
            f"{org_name} har allerede sendt inn svaret på «{done.title}» – takk! {who}\n"
            f"Runden er åpen til {done.closes}.{change}"
        )
    parts.append("Skriv /status for å se svarene dere sendte inn.")
    buttons = tuple(
        (
            Button(
                label=f"✏️ Endre: {done.title}"[:60],
                payload=done.change_payload or start_payload(done.round_id),
            ),
        )
        for done in rounds
        if done.editable and done.round_id is not None
    )
    return OutgoingMessage(text="\n\n".join(parts), buttons=buttons)


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
            "/tiltak – hva KS gjør med behovene dere har meldt\n"
            "/deleger NAVN – la en kollega svare på vegne av dere\n"
            "/kobling – koble en chat i den andre kanalen (Teams eller Telegram) til deg\n"
            f"{HELP_LINE}\n"
            f"{language_texts.help_line()}\n"
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


def something_went_wrong() -> OutgoingMessage:
    """An internal error while handling a message; the input is kept for analysis."""
    return OutgoingMessage(
        text="Beklager, noe gikk galt hos oss. Svarene dine er lagret. Prøv igjen om litt."
    )


def status(lines: Sequence[str]) -> OutgoingMessage:
    """The /status overview, assembled by the caller."""
    return OutgoingMessage(text="\n".join(lines))


# --- the organisation as respondent (delegates, takeover, handover, linked chats) -------------

ORG_PREFIX = "org:"  # payloads of takeover and approval buttons (services/organisation.py)


def _org_payload(action: str, response_id: int) -> str:
    return f"{ORG_PREFIX}{action}:{response_id}"


def on_behalf(org_name: str) -> str:
    """The line a delegate sees when starting or resuming: whose answer this is."""
    return f"Du svarer på vegne av {org_name}."


def delegate_welcome(
    *, contact_name: str, for_name: str, org_name: str, channel: str,
    offers: Sequence[RoundOffer],
) -> list[OutgoingMessage]:  # fmt: skip
    """After a delegate's code: who they answer for, then the open rounds."""
    note = CHANNEL_NOTES.get(channel, "")
    first = OutgoingMessage(
        text=(
            f"Velkommen, {contact_name}! {for_name} har gitt deg tilgang til å svare "
            f"på vegne av {org_name}.\n\n"
            "Det sendes inn ett svar per organisasjon, og dere jobber på det samme svaret. "
            f"{for_name} får beskjed når du begynner og når svaret er sendt inn.\n\n"
            + (f"{note}\n\n" if note else "")
            + WELCOME_LINE
        )
    )
    return [first, offer_rounds(offers)]


def delegate_needs_name() -> OutgoingMessage:
    """/deleger without a name."""
    return OutgoingMessage(
        text=(
            "Skriv /deleger og navnet til kollegaen som skal svare på vegne av dere, "
            "for eksempel: /deleger Per Hansen"
        )
    )


def delegate_refused(for_name: str) -> OutgoingMessage:
    """A delegate may not hand the task on."""
    return OutgoingMessage(
        text=(
            f"Du svarer allerede på vegne av {for_name}, så du kan ikke gi tilgangen videre. "
            f"Be {for_name} skrive /deleger hvis flere skal svare."
        )
    )


def delegate_code(name: str, code: str, expires: str) -> OutgoingMessage:
    """The delegate's code, shown once to the one who asked for it."""
    return OutgoingMessage(
        text=(
            f"Her er koden til {name}: {code}\n\n"
            f"Be {name} åpne Lyttepost i Telegram eller Teams og skrive koden der. "
            f"Koden kan brukes én gang og gjelder til {expires}. "
            f"Du får beskjed når {name} begynner å svare."
        )
    )


def delegate_started(delegate_name: str, org_name: str, title: str) -> OutgoingMessage:
    """To the one delegating: the delegate has begun."""
    return OutgoingMessage(
        text=f"{delegate_name} har begynt å svare på «{title}» på vegne av {org_name}."
    )


def delegate_carries_on(delegate_name: str, org_name: str, title: str) -> OutgoingMessage:
    """To the one delegating: the delegate has begun, from where they had come."""
    return OutgoingMessage(
        text=(
            f"{delegate_name} har begynt å svare på «{title}» på vegne av {org_name} og "
            "fortsetter der du slapp. Alt du har svart, er tatt vare på."
        )
    )


def delegate_submitted(delegate_name: str, org_name: str, title: str) -> OutgoingMessage:
    """To the one delegating: the delegate sent the answer in."""
    return OutgoingMessage(
        text=f"{delegate_name} har sendt inn svaret på «{title}» for {org_name}. Takk!"
    )


def approval_request(
    delegate_name: str, org_name: str, title: str, lines: Sequence[str], response_id: int
) -> OutgoingMessage:
    """To the approver: the delegate's answers, to send in or send back."""
    summary = "\n".join(lines)
    return OutgoingMessage(
        text=(
            f"{delegate_name} har fylt ut «{title}» for {org_name} og ber deg godkjenne svaret "
            f"før det sendes inn til KS:\n\n{summary}"
        ),
        buttons=(
            (
                Button(
                    label="✅ Godkjenn og send inn", payload=_org_payload("approve", response_id)
                ),
            ),
            (Button(label="↩️ Send tilbake", payload=_org_payload("return", response_id)),),
        ),
    )


def awaiting_approval(approver_name: str, title: str) -> OutgoingMessage:
    """To the delegate after sending in, and on /svar while it waits."""
    return OutgoingMessage(
        text=(
            f"Takk! Svaret på «{title}» venter nå på godkjenning fra {approver_name}. "
            "Det teller som sendt inn når det er godkjent, og du får beskjed her."
        )
    )


def approved(approver_name: str, title: str) -> OutgoingMessage:
    """To the delegate: the answer is in."""
    return OutgoingMessage(
        text=f"{approver_name} har godkjent svaret på «{title}», og det er sendt inn til KS. Takk!"
    )


def approval_done(title: str) -> OutgoingMessage:
    """To the approver after approving."""
    return OutgoingMessage(text=f"Svaret på «{title}» er godkjent og sendt inn til KS. Takk!")


def sent_back(approver_name: str, title: str, round_id: int) -> OutgoingMessage:
    """To the delegate: the approver wants changes."""
    return OutgoingMessage(
        text=(
            f"{approver_name} har sendt svaret på «{title}» tilbake til deg. "
            "Svarene dine er tatt vare på: endre det som trengs, og send inn på nytt."
        ),
        buttons=((Button(label="▶️ Fortsett", payload=start_payload(round_id)),),),
    )


def sent_back_done(delegate_name: str) -> OutgoingMessage:
    """To the approver after sending back."""
    return OutgoingMessage(
        text=f"Svaret er sendt tilbake til {delegate_name}. Du får det til godkjenning igjen."
    )


def not_yours_to_approve() -> OutgoingMessage:
    """An approval button pressed by someone else, or too late."""
    return OutgoingMessage(
        text="Dette svaret venter ikke lenger på godkjenning fra deg. Skriv /status for å se hvor det står."
    )


def someone_else_answers_take_over(name: str, org_name: str, response_id: int) -> OutgoingMessage:
    """A colleague has started the organisation's one response: carry on from there."""
    return OutgoingMessage(
        text=(
            f"{name} har allerede begynt å svare for {org_name} i denne runden. "
            "Det sendes inn ett svar per organisasjon. Du kan ta over svaret og fortsette "
            f"der {name} slapp; ingenting av det som er svart, går tapt, og {name} får beskjed."
        ),
        buttons=((Button(label="🔄 Ta over svaret", payload=_org_payload("take", response_id)),),),
    )


def taken_over(taker_name: str, org_name: str, title: str) -> OutgoingMessage:
    """To the one whose response a colleague took over."""
    return OutgoingMessage(
        text=(
            f"{taker_name} har tatt over svaret for {org_name} på «{title}» og fortsetter "
            "der du slapp. Alt du har svart, er tatt vare på. Takk for innsatsen!"
        )
    )


def changing_submitted(taker_name: str, org_name: str, title: str) -> OutgoingMessage:
    """To the one who sent the answer in: a colleague has opened it to change it."""
    return OutgoingMessage(
        text=(
            f"{taker_name} har åpnet svaret fra {org_name} på «{title}» for å endre det. "
            "Svaret du sendte inn, gjelder til endringene er sendt inn."
        )
    )


def took_over(previous_name: str | None) -> OutgoingMessage:
    """To the one taking over, before the survey resumes."""
    after = f" etter {previous_name}" if previous_name else ""
    return OutgoingMessage(
        text=f"Du har tatt over svaret{after}. Alt som er svart så langt, er med videre."
    )


def take_over_gone() -> OutgoingMessage:
    """A takeover button for a response that is no longer there to take."""
    return OutgoingMessage(
        text="Det svaret kan ikke tas over lenger. Skriv /svar for å se hva som er åpent."
    )


def change_gone() -> OutgoingMessage:
    """«Endre» on a submitted answer that can no longer be changed."""
    return OutgoingMessage(
        text=(
            "Svaret kan ikke endres lenger: runden er stengt, eller den tillater ikke "
            "endringer. Skriv /status for å se hva som ble sendt inn."
        )
    )


def link_code(code: str, expires: str) -> OutgoingMessage:
    """/kobling: the code for the chat in the other channel."""
    return OutgoingMessage(
        text=(
            f"Koden for å koble en annen chat til deg: {code}\n\n"
            "Åpne Lyttepost i den andre kanalen (Teams eller Telegram) og skriv koden der. "
            f"Da kan du fortsette der du slapp. Koden kan brukes én gang og gjelder til {expires}."
        )
    )


def linked(contact_name: str, org_name: str, resume: RoundOffer | None) -> OutgoingMessage:
    """After a link code: the same person, and where to carry on."""
    text = f"Denne chatten er nå koblet til deg, {contact_name} ({org_name})."
    if resume is None:
        return OutgoingMessage(text=f"{text} Skriv /svar når du vil svare.")
    return OutgoingMessage(
        text=f"{text} Du kan fortsette på «{resume.title}» der du slapp.",
        buttons=((Button(label="▶️ Fortsett", payload=start_payload(resume.round_id)),),),
    )


def handed_over(old_name: str, org_name: str, offers: Sequence[RoundOffer]) -> OutgoingMessage:
    """To a colleague who takes a replaced contact's place, and their started answers."""
    text = f"Du har tatt over som kontaktperson for {org_name} etter {old_name}."
    if not offers:
        return OutgoingMessage(text=text)
    titles = ", ".join(f"«{offer.title}»" for offer in offers)
    return OutgoingMessage(
        text=f"{text} Svaret {old_name} hadde begynt på ({titles}) er ditt nå, med alt som er svart.",
        buttons=_offer_buttons(offers),
    )


def replaced_farewell(name: str, new_name: str, org_name: str) -> OutgoingMessage:
    """To a contact who has been replaced; their chat is unbound."""
    return OutgoingMessage(
        text=(
            f"Hei, {name}. KS har registrert {new_name} som ny kontaktperson for {org_name}, "
            "så denne chatten er ikke lenger koblet til Lyttepost. Svarene dere har gitt, er "
            f"tatt vare på, og {new_name} fortsetter derfra. Takk for innsatsen!"
        )
    )

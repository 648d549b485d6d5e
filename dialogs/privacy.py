"""What members are told about privacy: ``/personvern`` and the line in the welcome.

KS is the controller and must tell people, briefly and plainly, who sees their answers,
how long they are kept, that Telegram and Microsoft carry the messages, and how to ask
for access or erasure (GDPR articles 12-14). Pure functions over ``PrivacyTerms``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.messages import OutgoingMessage

WELCOME_LINE = (
    "Svarene leses av KS. Skriv /personvern for å se hvor lenge de lagres, "
    "og hvordan du ber om innsyn eller sletting."
)
HELP_LINE = "/personvern – hvem som ser svarene, hvor lenge de lagres, innsyn og sletting"


@dataclass(frozen=True)
class PrivacyTerms:
    """The facts the notice states, from the settings and the member's rounds.

    ``contact``: where to ask for access or erasure (PRIVACY_CONTACT, an e-mail address;
    empty: "KS"). ``retention_months``: how long after a round closes its free text and
    the link to the person are kept (a range when the member's rounds differ).
    ``raw_days``: how long the messages themselves are kept.
    """

    contact: str = ""
    retention_months: tuple[int, int] = (24, 24)
    raw_days: int = 30


def _months(span: tuple[int, int]) -> str:
    low, high = span
    if low == high:
        return f"{low} måned" if low == 1 else f"{low} måneder"
    return f"{low}–{high} måneder"


def retention_text(months: int) -> str:
    """A round's retention as the survey's ``{retention}`` says it ("24 måneder")."""
    return _months((months, months))


def _days(days: int) -> str:
    return "1 dag" if days == 1 else f"{days} dager"


def privacy_notice(terms: PrivacyTerms) -> OutgoingMessage:
    """The ``/personvern`` answer: a few lines, the same on every channel."""
    ask = (
        f"send en e-post til {terms.contact}"
        if "@" in terms.contact
        else f"kontakt {terms.contact}"
        if terms.contact
        else "kontakt KS"
    )
    return OutgoingMessage(
        text=(
            "Personvern i Lyttepost\n\n"
            "KS er behandlingsansvarlig for opplysningene i Lyttepost.\n\n"
            "• Hvem ser svarene: ansatte i KS som arbeider med behovsinnhentingen. De ser også "
            "hvem som svarte. I oppsummeringer til medlemmene står organisasjonen med navn bare "
            "hvis dere har sagt ja til det, og navnet ditt står aldri der.\n"
            f"• Hvor lenge: fritekstsvarene og opplysningen om hvem som svarte, slettes "
            f"{_months(terms.retention_months)} "
            "etter at runden er stengt. Valg og tall beholdes på organisasjonsnivå, slik at KS "
            "kan følge utviklingen over tid. Selve meldingene i denne chatten slettes fra "
            f"Lyttepost etter {_days(terms.raw_days)}.\n"
            "• Telegram og Microsoft Teams: meldingene går gjennom Telegram eller Microsoft, som "
            "også behandler dem. Telegram holder til utenfor EØS. Samtalen i appen din sletter "
            "du selv.\n"
            f"• Innsyn og sletting: du kan be om å få se alt som er lagret om deg, eller om å bli "
            f"slettet – {ask}."
        )
    )

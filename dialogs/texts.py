"""Norwegian texts members see in the survey conversation (bokmål, du-form, short).

Plain constants and small functions, so wording can be reviewed in one place and
tests can refer to the same strings the engine sends. Survey-specific texts (intro,
questions, receipt) live in the survey file, not here.
"""

from __future__ import annotations

from dialogs.i18n import number, t


def nb_number(value: int | float) -> str:
    """A number as the language being spoken writes it (``12 345,5`` in Norwegian); a
    yes/no reads as the word. The name is older than the languages (issue 15)."""
    if isinstance(value, bool):
        return t("common.yes") if value else t("common.no")
    return number(value)


def antall(number: int, one: str, many: str) -> str:
    """A count with its noun in the right form: ``antall(1, "medlem", "medlemmer")`` is
    ``1 medlem``, and 0 or 2 or more take the plural (``0 medlemmer``, ``10 000 medlemmer``)."""
    return f"{nb_number(number)} {one if number == 1 else many}"


# engine

# Buttons
BACK_BUTTON = "⬅️ Tilbake"
SKIP_BUTTON = "⏭ Hopp over"
PAUSE_BUTTON = "⏸ Pause"
NEXT_BUTTON = "Neste ➡️"
SUBMIT_BUTTON = "✅ Send inn"
REVIEW_BUTTON = "📋 Oversikt"
YES = "Ja"
NO = "Nei"
CHECKED = "☑"
UNCHECKED = "☐"


def edit_button(number: int) -> str:
    """Label of the review's button that reopens question ``number``."""
    return f"Endre {number}"


# Question hints, one per question type
HINT_SINGLE = "Velg ett alternativ."
HINT_YESNO = "Svar ja eller nei."


def hint_multi(min_select: int, max_select: int | None) -> str:
    """How many options a multiple-choice question takes."""
    if max_select is None:
        if min_select <= 0:
            return "Velg de som passer, og trykk «Neste»."
        if min_select == 1:
            return "Velg ett eller flere, og trykk «Neste»."
        return f"Velg minst {min_select}, og trykk «Neste»."
    if min_select == max_select:
        return f"Velg {max_select}, og trykk «Neste»."
    if min_select <= 0:
        return f"Velg inntil {max_select}, og trykk «Neste»."
    return f"Velg {min_select}–{max_select}, og trykk «Neste»."


def hint_scale(low: int, high: int, low_label: str | None, high_label: str | None) -> str:
    """What the ends of a scale mean."""
    if low_label and high_label:
        return f"{low} = {low_label}, {high} = {high_label}"
    if low_label:
        return f"Velg fra {low} til {high} ({low} = {low_label})."
    if high_label:
        return f"Velg fra {low} til {high} ({high} = {high_label})."
    return f"Velg fra {low} til {high}."


def hint_text(min_length: int, max_length: int) -> str:
    """How long a free-text answer may be."""
    if min_length > 1:
        return f"Skriv svaret ditt (minst {nb_number(min_length)} og maks {nb_number(max_length)} tegn)."
    return f"Skriv svaret ditt (maks {nb_number(max_length)} tegn)."


def _with_unit(number: str, unit: str | None) -> str:
    return f"{number} {unit}" if unit else number


def hint_number(low: float | None, high: float | None, integer: bool, unit: str | None) -> str:
    """Which numbers a number question takes."""
    kind = "et helt tall" if integer else "et tall"
    if low is not None and high is not None:
        return f"Skriv {kind} fra {nb_number(low)} til {_with_unit(nb_number(high), unit)}."
    if low is not None:
        return f"Skriv {kind} (minst {_with_unit(nb_number(low), unit)})."
    if high is not None:
        return f"Skriv {kind} (høyst {_with_unit(nb_number(high), unit)})."
    return f"Skriv {kind}{f' ({unit})' if unit else ''}."


def progress(position: int, left: int) -> str:
    """The line above a question: where the member is and about how much is left."""
    if left <= 0:
        return f"Spørsmål {position} · snart ferdig"
    return f"Spørsmål {position} · om lag {left} igjen"


def answered(rendered: str) -> str:
    """What an answered question's message shows instead of its buttons."""
    return f"✓ Svar: {rendered}"


ANSWER_SKIPPED = "✓ Hoppet over"
# {retention} where the round is not known (a trial run): the notice says the figure.
RETENTION_UNKNOWN = "en fast tid (se /personvern)"
REVIEW_SUBMITTED = "✓ Sendt inn."


def current_answer(rendered: str) -> str:
    """The line under a question that already has an answer."""
    return f"Nåværende svar: {rendered}"


# Review
NOT_ANSWERED = "– ikke besvart"
NONE_CHOSEN = "(ingen valgt)"
REVIEW_HEADER = "Her er svarene dine:"
REVIEW_READY = "Ser alt riktig ut? Trykk «Send inn». Vil du endre noe, trykk «Endre» og nummeret."


def review_missing(numbers: list[int]) -> str:
    """Footer of a review that cannot be submitted yet."""
    return (
        f"Du må svare på {_joined([str(n) for n in numbers], 'spørsmål')} før du kan sende inn. "
        "Trykk «Endre» og nummeret for å svare."
    )


def _joined(items: list[str], noun: str) -> str:
    if len(items) == 1:
        return f"{noun} {items[0]}"
    return f"{noun} {', '.join(items[:-1])} og {items[-1]}"


def review_typed(complete: bool) -> str:
    """Typed text while the review is on screen."""
    if complete:
        return "Du ser på oversikten nå. Trykk «Endre» og nummeret for å endre et svar, eller «Send inn» når du er klar."
    return "Du ser på oversikten nå. Trykk «Endre» og nummeret for å svare på det som mangler."


def submit_missing(labels: list[str]) -> str:
    """Submit pressed while required questions are unanswered."""
    lines = "\n".join(f"• {label}" for label in labels)
    return f"Noen spørsmål mangler svar:\n{lines}\n\nVi tar dem nå."


# Navigation
FIRST_QUESTION = "Dette er det første spørsmålet, så du kan ikke gå lenger tilbake."
MUST_ANSWER = "Dette spørsmålet må besvares, så det kan ikke hoppes over."
NOT_APPLICABLE = (
    "Det spørsmålet er ikke aktuelt ut fra svarene dine nå. Skriv /oversikt for å se svarene dine."
)
WELCOME_BACK = "Velkommen tilbake! Vi fortsetter der du slapp."
WELCOME_BACK_REVIEW = "Velkommen tilbake! Her er oversikten over svarene dine."
PAUSED_REMINDER = "Du har pause nå. Skriv /svar for å fortsette der du slapp."


def paused(closes: str) -> str:
    """Confirmation of a pause."""
    return (
        "Greit, vi tar en pause. Svarene dine er lagret.\n"
        f"Skriv /svar når du vil fortsette. Svarfrist: {closes}."
    )


STALE_ANSWERING = (
    "Den knappen hører til et tidligere spørsmål. Vil du endre et svar, "
    "trykk «Tilbake» eller skriv /oversikt."
)
STALE_REVIEWING = (
    "Den knappen hører til et tidligere spørsmål. Trykk «Endre» i oversikten for å endre et svar."
)
STALE_PAUSED = (
    "Den knappen hører til et tidligere spørsmål. Skriv /svar for å fortsette der du slapp."
)
UNKNOWN_BUTTON = "Den knappen kjenner jeg ikke igjen."
HINT_ON_QUESTION = "Svar på spørsmålet, eller skriv /oversikt for å se svarene dine."
HINT_IN_REVIEW = "Trykk «Endre» i oversikten for å endre et svar."
HINT_WHILE_PAUSED = "Skriv /svar for å fortsette der du slapp."
UNKNOWN_INPUT = "Det forstod jeg ikke. Skriv /svar for å fortsette."


def already_submitted(org_name: str) -> str:
    """Anything after submission."""
    return f"Svaret for {org_name} er allerede sendt inn – takk! Skriv /status for å se svarene."


def round_closed(org_name: str) -> str:
    """The round closed before submission."""
    return (
        f"Runden er stengt, så svaret for {org_name} ble ikke sendt inn. "
        "Det du rakk å svare, er tatt vare på, men regnes ikke som innsendt."
    )


# Changing a submitted response, and "still true?" from last round
KEEP_BUTTON = "✅ Ja, fortsatt riktig"
CHANGE_BUTTON = "✏️ Endre"
STILL_TRUE_INTRO = (
    "Dere svarte på den samme undersøkelsen forrige gang. Ved hvert spørsmål ser du hva "
    "dere svarte da: trykk «Ja, fortsatt riktig» hvis det stemmer nå også, eller «Endre»."
)


def previous_answer(rendered: str, *, need: bool, free_text: bool) -> str:
    """Last round's answer under a question, and what to do with it."""
    if need:
        return (
            f"Sist skrev dere: «{rendered}»\n"
            "Er dette fortsatt det viktigste behovet? Trykk «Ja, fortsatt riktig», "
            "«Endre», eller skriv et nytt svar."
        )
    if free_text:
        return (
            f"Sist skrev dere: «{rendered}»\n"
            "Gjelder dette fortsatt? Trykk «Ja, fortsatt riktig», «Endre», eller skriv et nytt svar."
        )
    return (
        f"Sist svarte dere: {rendered}\n"
        "Er det fortsatt riktig? Trykk «Ja, fortsatt riktig», eller «Endre» for å svare på nytt."
    )


def reopened(until: str | None) -> str:
    """A submitted response opened again for changes."""
    deadline = f" til {until}" if until else ""
    return (
        f"Svaret er sendt inn, men du kan endre det{deadline}. Trykk «Endre» og nummeret, "
        "og send inn på nytt. Til da gjelder svaret som er sendt inn."
    )


def editable_until(until: str) -> str:
    """The receipt's last line when answers can still be changed."""
    return f"Dere kan endre svarene til {until}: skriv /svar."


CHANGES_SUBMITTED = "Endringene er sendt inn."


def submitted_change_hint(until: str) -> str:
    """Anything after submission, when the answers can still be changed."""
    return f"Vil du endre svarene, skriv /svar (frem til {until})."


def round_closed_while_reopened(org_name: str) -> str:
    """The round closed while a submitted response was open for changes."""
    return (
        f"Runden er stengt, så endringene ble ikke sendt inn. Svaret {org_name} sendte inn "
        "tidligere, gjelder."
    )


# Answer errors
def single_invalid(count: int) -> str:
    """Typed text that matches no option."""
    return f"Jeg fant ikke det alternativet. Trykk på en av knappene, eller skriv nummeret (1–{count})."


def scale_invalid(low: int, high: int) -> str:
    """Typed text that is not a number on the scale."""
    return f"Svar med et tall fra {low} til {high}."


YESNO_INVALID = "Svar «ja» eller «nei»."


def multi_invalid(count: int) -> str:
    """Typed text that is not a list of option numbers."""
    return (
        "Jeg forstod ikke valget ditt. Trykk på alternativene og så «Neste», "
        f"eller skriv numrene (1–{count}), for eksempel «1, 3»."
    )


def multi_too_few(min_select: int) -> str:
    """Fewer options than the question needs."""
    return (
        "Velg minst ett alternativ."
        if min_select == 1
        else f"Velg minst {min_select} alternativer."
    )


def multi_too_many(max_select: int) -> str:
    """More options than the question allows."""
    return (
        "Du kan bare velge ett alternativ."
        if max_select == 1
        else f"Du kan velge maks {max_select}."
    )


def multi_full(max_select: int) -> str:
    """A toggle that would go beyond the maximum."""
    return f"Du har allerede valgt {max_select}. Fjern et valg først hvis du vil velge noe annet."


TEXT_EMPTY = "Skriv svaret ditt som en melding."


def text_too_short(length: int, min_length: int) -> str:
    """A free-text answer below the minimum length."""
    return f"Svaret ditt er {nb_number(length)} tegn. Skriv minst {nb_number(min_length)} tegn."


def text_too_long(length: int, max_length: int) -> str:
    """A free-text answer above the maximum length."""
    return (
        f"Svaret ditt er {nb_number(length)} tegn, men kan være maks {nb_number(max_length)} tegn. "
        "Kort det litt ned og send det på nytt."
    )


def number_invalid(integer: bool) -> str:
    """Typed text that is not a number."""
    if integer:
        return "Skriv svaret som et helt tall, for eksempel 12."
    return "Skriv svaret som et tall, for eksempel 12 eller 12,5."


NUMBER_NOT_INTEGER = "Skriv et helt tall, uten desimaler."


def number_out_of_range(low: float | None, high: float | None, unit: str | None) -> str:
    """A number outside the question's bounds."""
    if low is not None and high is not None:
        return f"Tallet må være fra {nb_number(low)} til {_with_unit(nb_number(high), unit)}."
    if low is not None:
        return f"Tallet må være minst {_with_unit(nb_number(low), unit)}."
    return f"Tallet kan være høyst {_with_unit(nb_number(high or 0), unit)}."

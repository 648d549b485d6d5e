"""What members read in the survey conversation, from the ``survey`` catalogue.

The words live in ``dialogs/locale/<language>/LC_MESSAGES/survey.po`` (bokmål is the
source); this module only chooses which text fits (a hint per question type, a count's
plural form) and fills it in, so every function answers in the language being spoken
(``dialogs.i18n.speaking``). Survey-specific texts (intro, questions, receipt) live in
the survey file, not here.

The engine's modules ask the catalogue directly with literal keys
(``t("survey.button.back")``) so the catalogue tests can check every key. The old
constant names (``texts.BACK_BUTTON``, ``texts.REVIEW_HEADER`` …) still read, through
the module's ``__getattr__``, as the active language's text: tests and other callers
compare with what the engine sends without knowing the keys. Read them when the text is
needed, never at import time (``from dialogs.texts import BACK_BUTTON`` freezes bokmål).
"""

from __future__ import annotations

import re
from functools import cache

from babel.lists import format_list

from dialogs.i18n import SOURCE, active, language, number, t, texts_for, tn

CHECKED = "☑"  # marks, not words: the same in every language
UNCHECKED = "☐"

# Old constant name → catalogue key (see the module docstring).
NAMED_TEXTS: dict[str, str] = {
    "BACK_BUTTON": "survey.button.back",
    "SKIP_BUTTON": "survey.button.skip",
    "PAUSE_BUTTON": "survey.button.pause",
    "NEXT_BUTTON": "survey.button.next",
    "SUBMIT_BUTTON": "survey.button.submit",
    "REVIEW_BUTTON": "survey.button.review",
    "YES": "survey.button.yes",
    "NO": "survey.button.no",
    "KEEP_BUTTON": "survey.button.keep",
    "CHANGE_BUTTON": "survey.button.change",
    "HINT_SINGLE": "survey.hint.single",
    "HINT_YESNO": "survey.hint.yesno",
    "ANSWER_SKIPPED": "survey.answer.skipped",
    "NONE_CHOSEN": "survey.answer.none_chosen",
    "RETENTION_UNKNOWN": "survey.placeholder.retention_unknown",
    "REVIEW_HEADER": "survey.review.header",
    "NOT_ANSWERED": "survey.review.not_answered",
    "REVIEW_READY": "survey.review.ready",
    "REVIEW_SUBMITTED": "survey.review.submitted",
    "FIRST_QUESTION": "survey.nav.first_question",
    "MUST_ANSWER": "survey.nav.must_answer",
    "NOT_APPLICABLE": "survey.nav.not_applicable",
    "WELCOME_BACK": "survey.nav.welcome_back",
    "WELCOME_BACK_REVIEW": "survey.nav.welcome_back_review",
    "PAUSED_REMINDER": "survey.nav.paused_reminder",
    "STALE_ANSWERING": "survey.nav.stale_answering",
    "STALE_REVIEWING": "survey.nav.stale_reviewing",
    "STALE_PAUSED": "survey.nav.stale_paused",
    "UNKNOWN_BUTTON": "survey.nav.unknown_button",
    "HINT_ON_QUESTION": "survey.nav.hint_on_question",
    "HINT_IN_REVIEW": "survey.nav.hint_in_review",
    "HINT_WHILE_PAUSED": "survey.nav.hint_while_paused",
    "UNKNOWN_INPUT": "survey.nav.unknown_input",
    "STILL_TRUE_INTRO": "survey.still_true.intro",
    "CHANGES_SUBMITTED": "survey.receipt.changes_submitted",
    "YESNO_INVALID": "survey.error.yesno_invalid",
    "TEXT_EMPTY": "survey.error.text_empty",
    "NUMBER_NOT_INTEGER": "survey.error.number_not_integer",
}


def __getattr__(name: str) -> str:
    """``texts.BACK_BUTTON`` and the other old names: the active language's text."""
    key = NAMED_TEXTS.get(name)
    if key is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return t(key)


def nb_number(value: int | float) -> str:
    """A number as the language being spoken writes it (``12 345,5`` in Norwegian); a
    yes/no reads as the word. The name is older than the languages (issue 15)."""
    if isinstance(value, bool):
        return t("common.yes") if value else t("common.no")
    return number(value)


def antall(number: int, one: str, many: str) -> str:
    """A count with its noun in the right form: ``antall(1, "medlem", "medlemmer")`` is
    ``1 medlem``, and 0 or 2 or more take the plural (``0 medlemmer``, ``10 000 medlemmer``).
    Bokmål only: converted modules use ``tn`` instead."""
    return f"{nb_number(number)} {one if number == 1 else many}"


# -- what members may type --------------------------------------------------------
#
# The accepted words are in the catalogue (``survey.typed.*``, comma lists) rather than
# a table here: they belong to the language like every other text, a translator adds the
# words people actually write (``jau``, ``juo``) beside the error that names them
# (``survey.error.yesno_invalid``), and a new language needs no code. Bokmål's words are
# accepted in every language too, since people mix (a nynorsk member typing «ja», a
# Sámi member typing «nei»).


def _word_list(text: str) -> frozenset[str]:
    return frozenset(word.strip().casefold() for word in text.split(",") if word.strip())


def accepted_words(key: str) -> frozenset[str]:
    """The words of catalogue list ``key`` in the active language and in bokmål."""
    return _word_list(active().text(key)) | _word_list(texts_for(SOURCE).text(key))


def yes_words() -> frozenset[str]:
    """Typed words that answer «yes»."""
    return accepted_words("survey.typed.yes_words")


def no_words() -> frozenset[str]:
    """Typed words that answer «no»."""
    return accepted_words("survey.typed.no_words")


def next_words() -> frozenset[str]:
    """Typed words that stand for the «Neste» button."""
    return accepted_words("survey.typed.next_words")


def and_separator() -> re.Pattern[str]:
    """What joins several typed choices: ``&``, or an «and» word between spaces."""
    return _and_pattern(tuple(sorted(accepted_words("survey.typed.and_words"))))


@cache
def _and_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = [rf"\s+{re.escape(word)}\s+" for word in words]
    return re.compile("|".join([*alternatives, r"\s*&\s*"]), re.IGNORECASE)


# -- buttons and hints ------------------------------------------------------------


def edit_button(number: int) -> str:
    """Label of the review's button that reopens question ``number``."""
    return t("survey.button.edit", number=number)


def hint_multi(min_select: int, max_select: int | None) -> str:
    """How many options a multiple-choice question takes."""
    if max_select is None:
        if min_select <= 0:
            return t("survey.hint.multi.any")
        if min_select == 1:
            return t("survey.hint.multi.one_or_more")
        return t("survey.hint.multi.at_least", min=min_select)
    if min_select == max_select:
        return t("survey.hint.multi.exactly", max=max_select)
    if min_select <= 0:
        return t("survey.hint.multi.up_to", max=max_select)
    return t("survey.hint.multi.between", min=min_select, max=max_select)


def hint_scale(low: int, high: int, low_label: str | None, high_label: str | None) -> str:
    """What the ends of a scale mean."""
    ends = {"low": low, "high": high, "low_label": low_label, "high_label": high_label}
    if low_label and high_label:
        return t("survey.hint.scale.both", **ends)
    if low_label:
        return t("survey.hint.scale.low_label", **ends)
    if high_label:
        return t("survey.hint.scale.high_label", **ends)
    return t("survey.hint.scale.plain", **ends)


def hint_text(min_length: int, max_length: int) -> str:
    """How long a free-text answer may be."""
    if min_length > 1:
        return t("survey.hint.text.range", min=nb_number(min_length), max=nb_number(max_length))
    return t("survey.hint.text.max", max=nb_number(max_length))


def _with_unit(value: float, unit: str | None) -> str:
    """A bound as the member reads it, with the question's unit after the number."""
    written = nb_number(value)
    return f"{written} {unit}" if unit else written


def hint_number(low: float | None, high: float | None, integer: bool, unit: str | None) -> str:
    """Which numbers a number question takes."""
    if integer:
        if low is not None and high is not None:
            return t(
                "survey.hint.number.integer.range", low=nb_number(low), high=_with_unit(high, unit)
            )
        if low is not None:
            return t("survey.hint.number.integer.min", low=_with_unit(low, unit))
        if high is not None:
            return t("survey.hint.number.integer.max", high=_with_unit(high, unit))
        if unit:
            return t("survey.hint.number.integer.unit", unit=unit)
        return t("survey.hint.number.integer.plain")
    if low is not None and high is not None:
        return t(
            "survey.hint.number.decimal.range", low=nb_number(low), high=_with_unit(high, unit)
        )
    if low is not None:
        return t("survey.hint.number.decimal.min", low=_with_unit(low, unit))
    if high is not None:
        return t("survey.hint.number.decimal.max", high=_with_unit(high, unit))
    if unit:
        return t("survey.hint.number.decimal.unit", unit=unit)
    return t("survey.hint.number.decimal.plain")


def progress(position: int, left: int) -> str:
    """The line above a question: where the member is and about how much is left."""
    if left <= 0:
        return t("survey.progress.almost_done", position=position)
    return t("survey.progress.left", position=position, left=left)


def answered(rendered: str) -> str:
    """What an answered question's message shows instead of its buttons."""
    return t("survey.answer.answered", answer=rendered)


def current_answer(rendered: str) -> str:
    """The line under a question that already has an answer."""
    return t("survey.answer.current", answer=rendered)


# -- the review ---------------------------------------------------------------------


def listing(items: list[str]) -> str:
    """``2, 5 og 7`` as the active language joins a list (CLDR, through Babel)."""
    return format_list(items, locale=language())


def review_missing(numbers: list[int]) -> str:
    """Footer of a review that cannot be submitted yet."""
    return tn("survey.review.missing", len(numbers), numbers=listing([str(n) for n in numbers]))


def review_typed(complete: bool) -> str:
    """Typed text while the review is on screen."""
    if complete:
        return t("survey.review.typed_complete")
    return t("survey.review.typed_incomplete")


def submit_missing(labels: list[str]) -> str:
    """Submit pressed while required questions are unanswered."""
    lines = "\n".join(f"• {label}" for label in labels)
    return tn("survey.review.submit_missing", len(labels), questions=lines)


# -- navigation ---------------------------------------------------------------------


def paused(closes: str) -> str:
    """Confirmation of a pause."""
    return t("survey.nav.paused", closes=closes)


def already_submitted(org_name: str) -> str:
    """Anything after submission."""
    return t("survey.submitted.already", org_name=org_name)


def round_closed(org_name: str) -> str:
    """The round closed before submission."""
    return t("survey.closed.round_closed", org_name=org_name)


# -- changing a submitted response, and "still true?" from last round --------------------


def previous_answer(rendered: str, *, need: bool, free_text: bool) -> str:
    """Last round's answer under a question, and what to do with it."""
    if need:
        return t("survey.still_true.need", answer=rendered)
    if free_text:
        return t("survey.still_true.free_text", answer=rendered)
    return t("survey.still_true.choice", answer=rendered)


def reopened(until: str | None) -> str:
    """A submitted response opened again for changes."""
    if until:
        return t("survey.reopen.until", until=until)
    return t("survey.reopen.open")


def editable_until(until: str) -> str:
    """The receipt's last line when answers can still be changed."""
    return t("survey.receipt.editable_until", until=until)


def submitted_change_hint(until: str) -> str:
    """Anything after submission, when the answers can still be changed."""
    return t("survey.submitted.change_hint", until=until)


def round_closed_while_reopened(org_name: str) -> str:
    """The round closed while a submitted response was open for changes."""
    return t("survey.closed.while_reopened", org_name=org_name)


# -- answer errors --------------------------------------------------------------------


def single_invalid(count: int) -> str:
    """Typed text that matches no option."""
    return t("survey.error.single_invalid", last=count)


def scale_invalid(low: int, high: int) -> str:
    """Typed text that is not a number on the scale."""
    return t("survey.error.scale_invalid", low=low, high=high)


def multi_invalid(count: int) -> str:
    """Typed text that is not a list of option numbers."""
    return t("survey.error.multi_invalid", last=count)


def multi_too_few(min_select: int) -> str:
    """Fewer options than the question needs."""
    return tn("survey.error.multi_too_few", min_select)


def multi_too_many(max_select: int) -> str:
    """More options than the question allows."""
    return tn("survey.error.multi_too_many", max_select)


def multi_full(max_select: int) -> str:
    """A toggle that would go beyond the maximum."""
    return t("survey.error.multi_full", max=max_select)


def text_too_short(length: int, min_length: int) -> str:
    """A free-text answer below the minimum length."""
    return tn("survey.error.text_too_short", length, min=nb_number(min_length))


def text_too_long(length: int, max_length: int) -> str:
    """A free-text answer above the maximum length."""
    return t("survey.error.text_too_long", length=nb_number(length), max=nb_number(max_length))


def number_invalid(integer: bool) -> str:
    """Typed text that is not a number."""
    if integer:
        return t("survey.error.number_invalid.integer")
    return t("survey.error.number_invalid.decimal")


def number_out_of_range(low: float | None, high: float | None, unit: str | None) -> str:
    """A number outside the question's bounds."""
    if low is not None and high is not None:
        return t(
            "survey.error.number_range.between", low=nb_number(low), high=_with_unit(high, unit)
        )
    if low is not None:
        return t("survey.error.number_range.min", low=_with_unit(low, unit))
    return t("survey.error.number_range.max", high=_with_unit(high or 0, unit))

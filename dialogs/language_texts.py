"""What a member reads when choosing the language Lyttepost speaks to them (``/sprak``),
from the ``language`` catalogue, and the buttons that choose it.

Pure: the caller (``services/language_choice.py``) decides which language is current,
where it comes from and in which language to speak (``dialogs.i18n.speaking``). Each
language's button carries its own name in itself («Nynorsk», «Davvisámegiella»), the
same in every catalogue, so a reader finds their language whatever they read now.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.i18n import MEMBER_LANGUAGES, t
from dialogs.messages import Button, OutgoingMessage

PAYLOAD_PREFIX = "lang:"  # no other payload starts so (engine: one letter and ":")
CLEAR = "org"  # the payload's tail that drops the own choice: the organisation's language
KEEP = "keep"  # the suggestion's «keep» button: nothing changes
CHECK = "✓ "
# Each language named in itself: what the buttons show, in every catalogue.
OWN_NAMES = {"nb": "Bokmål", "nn": "Nynorsk", "se": "Davvisámegiella", "en": "English"}


def payload(choice: str) -> str:
    """The button payload for a language code, ``CLEAR`` or ``KEEP`` (a few bytes)."""
    return f"{PAYLOAD_PREFIX}{choice}"


def parse_payload(data: str) -> str | None:
    """What a ``lang:`` button chose (a code, ``CLEAR`` or ``KEEP``), None if not ours."""
    if not data.startswith(PAYLOAD_PREFIX):
        return None
    return data[len(PAYLOAD_PREFIX) :] or None


def name(code: str) -> str:
    """A language's name as the active language writes it in running text."""
    match code:
        case "nb":
            return t("language.name.nb")
        case "nn":
            return t("language.name.nn")
        case "se":
            return t("language.name.se")
        case "en":
            return t("language.name.en")
    return code


@dataclass(frozen=True)
class Choice:
    """What ``/sprak`` shows: the language read now and whether the contact chose it."""

    current: str  # the language the contact reads
    own: bool  # chosen by the contact (else: the organisation's)
    org_name: str
    org_language: str


def _buttons(choice: Choice) -> tuple[tuple[Button, ...], ...]:
    languages = tuple(
        Button(
            label=(CHECK if choice.own and code == choice.current else "") + OWN_NAMES[code],
            payload=payload(code),
        )
        for code in MEMBER_LANGUAGES
    )
    follow = t("language.button.organisation", language=name(choice.org_language))
    clear = Button(label=(CHECK if not choice.own else "") + follow, payload=payload(CLEAR))
    return (languages, (clear,))


def status(choice: Choice) -> OutgoingMessage:
    """``/sprak``: the language read now and where it comes from, with the buttons."""
    if choice.own:
        said = t(
            "language.status.own",
            language=name(choice.current),
            org_name=choice.org_name,
            org_language=name(choice.org_language),
        )
    else:
        said = t("language.status.organisation", language=name(choice.current),
                 org_name=choice.org_name)  # fmt: skip
    return OutgoingMessage(text=f"{said}\n\n{t('language.choose')}", buttons=_buttons(choice))


def unknown(typed: str, choice: Choice) -> OutgoingMessage:
    """``/sprak xx`` with something that is not a language the member may choose."""
    return OutgoingMessage(text=t("language.unknown", typed=typed[:20]), buttons=_buttons(choice))


def changed(choice: Choice) -> OutgoingMessage:
    """After a choice, spoken in the language just chosen: what it is and what it affects."""
    if choice.own:
        return OutgoingMessage(
            text=t(
                "language.changed.own",
                language=name(choice.current),
                org_name=choice.org_name,
                org_language=name(choice.org_language),
            )
        )
    return OutgoingMessage(
        text=t(
            "language.changed.organisation", language=name(choice.current), org_name=choice.org_name
        )  # fmt: skip
    )


def unchanged(choice: Choice) -> OutgoingMessage:
    """A choice of the language the contact already has, chosen the same way."""
    return OutgoingMessage(text=t("language.unchanged", language=name(choice.current)))


def kept(current: str) -> OutgoingMessage:
    """The suggestion's «keep» button: nothing changes."""
    return OutgoingMessage(text=t("language.kept", language=name(current)))


def suggestion(suggested: str, current: str) -> OutgoingMessage:
    """After registration, in the ``suggested`` language (the chat app's): read
    Lyttepost in it? One button switches, the other keeps ``current``. Never a switch."""
    keep = t("language.suggest.keep", current=name(current))
    return OutgoingMessage(
        text=t(
            "language.suggest.text",
            language=name(suggested),
            current=name(current),
            button=OWN_NAMES[suggested],
            keep=keep,
        ),
        buttons=(
            (Button(label=OWN_NAMES[suggested], payload=payload(suggested)),),
            (Button(label=keep, payload=payload(KEEP)),),
        ),  # fmt: skip
    )


def unregistered() -> OutgoingMessage:
    """``/sprak`` before registration: the choice belongs to a contact."""
    return OutgoingMessage(text=t("language.unregistered"))


def help_line() -> str:
    """The ``/sprak`` line of ``/hjelp``."""
    return t("language.help.line")

"""What members are told about privacy: ``/personvern`` and the line in the welcome.

KS is the controller and must tell people, briefly and plainly, who sees their answers,
how long they are kept, that Telegram and Microsoft carry the messages, and how to ask
for access or erasure (GDPR articles 12-14). Pure functions over ``PrivacyTerms``; the
texts are the ``privacy`` catalogue's, in the language being spoken (``dialogs.i18n``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.i18n import t, tn
from dialogs.messages import OutgoingMessage


def welcome_line() -> str:
    """The privacy line at the end of every welcome."""
    return t("privacy.welcome_line")


def help_line() -> str:
    """The ``/personvern`` line of ``/hjelp``."""
    return t("privacy.help_line")


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
        return tn("privacy.months", low)
    return t("privacy.months_range", low=low, high=high)


def retention_text(months: int) -> str:
    """A round's retention as the survey's ``{retention}`` says it ("24 måneder")."""
    return _months((months, months))


def _ask(contact: str) -> str:
    """Whom to ask for access or erasure: an address to write to, a name, or KS."""
    if "@" in contact:
        return t("privacy.ask.email", contact=contact)
    if contact:
        return t("privacy.ask.contact", contact=contact)
    return t("privacy.ask.ks")


def privacy_notice(terms: PrivacyTerms) -> OutgoingMessage:
    """The ``/personvern`` answer: a few lines, the same on every channel."""
    return OutgoingMessage(
        text="\n".join(
            (
                t("privacy.notice.title"),
                "",
                t("privacy.notice.controller"),
                "",
                t("privacy.notice.who"),
                t(
                    "privacy.notice.how_long",
                    retention=_months(terms.retention_months),
                    raw=tn("privacy.days", terms.raw_days),
                ),
                t("privacy.notice.channels"),
                t("privacy.notice.access", ask=_ask(terms.contact)),
            )
        )
    )
